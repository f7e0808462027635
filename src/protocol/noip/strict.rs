//! `[dialect:noip] strict_status = yes`: the same bodies, with a status code that says
//! whether the request worked. For clients that only look at the status: OPNsense counts
//! any 2xx as success and caches it, so a `200` with `911` is never retried. ddclient,
//! inadyn and the FritzBox read the body and want the protocol's `200` (the default).

use crate::cgi::CgiResponse;

/// Turns strict status on.
pub const STRICT_STATUS: &str = "strict_status";

/// Seconds a client should wait after `911`.
const RETRY_AFTER: &str = "300";

/// The status for one answer word; None for a word that means success.
fn status_of(word: &str) -> Option<u16> {
    match word {
        "nohost" | "notfqdn" | "numhost" | "badip" => Some(400),
        "abuse" => Some(403),
        "dnserr" => Some(502),
        "911" => Some(503),
        _ => None,
    }
}

/// A `200` answer gets the status of its first failed line; `503` also `Retry-After`.
/// Answers that already have another status (401, 405) keep it.
pub fn apply(response: CgiResponse) -> CgiResponse {
    if response.status != 200 {
        return response;
    }
    let failed = response
        .body
        .lines()
        .find_map(|line| status_of(line.split(' ').next().unwrap_or("")));
    match failed {
        None => response,
        Some(503) => CgiResponse {
            status: 503,
            ..response
        }
        .with_header("Retry-After", RETRY_AFTER),
        Some(status) => CgiResponse { status, ..response },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failed_line_decides() {
        let status = |body: &str| apply(CgiResponse::text(200, body)).status;
        assert_eq!(status("good 84.1.1.1\nnochg 84.1.1.1\n"), 200);
        assert_eq!(status("good 84.1.1.1\nnohost\n911\n"), 400);
        assert_eq!(status("abuse\n"), 403);
        assert_eq!(status("dnserr\n"), 502);
        let busy = apply(CgiResponse::text(200, "911\n"));
        assert_eq!((busy.status, busy.body.as_str()), (503, "911\n"));
        assert_eq!(
            busy.headers,
            [("Retry-After".to_string(), "300".to_string())]
        );
        assert_eq!(apply(CgiResponse::text(401, "badauth\n")).status, 401);
    }
}

//! The protocol words, and the one place that decides which word a failure becomes.

use crate::backend::{BackendError, RecordOutcome};
use crate::cgi::CgiResponse;

/// The answer line for one requested host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The record changed: `good <echo>`.
    Good(String),
    /// The record already had that address: `nochg <echo>`.
    NoChg(String),
    /// The name is not allowed for this user, not in any zone, or has no such record.
    NoHost,
    /// Not a fully-qualified host name.
    NotFqdn,
    /// The address is unusable.
    BadIp,
    /// The registrar refused the change for this name.
    DnsErr,
    /// Too many changes for this name.
    Abuse,
    /// Our side failed (registrar unreachable, our registrar credentials wrong, ...).
    ServerError,
}

impl Answer {
    /// The exact line (no newline). Error words carry no text: inadyn treats any body with
    /// `good`, `nochg` or `OK` in it as success.
    pub fn line(&self) -> String {
        match self {
            Answer::Good(echo) => format!("good {echo}"),
            Answer::NoChg(echo) => format!("nochg {echo}"),
            Answer::NoHost => "nohost".into(),
            Answer::NotFqdn => "notfqdn".into(),
            Answer::BadIp => "badip".into(),
            Answer::DnsErr => "dnserr".into(),
            Answer::Abuse => "abuse".into(),
            Answer::ServerError => "911".into(),
        }
    }
}

/// A failure that answers the whole request with one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No authenticated user.
    BadAuth,
    /// No host name in the request.
    NoHostname,
    /// More host names than `max_hostnames`.
    NumHost {
        /// How many were sent.
        count: usize,
        /// The configured limit.
        max: usize,
    },
    /// `offline=YES`: not offered.
    NotDonator,
    /// The server cannot work (config missing or invalid).
    ServerError,
    /// A method other than GET, HEAD, POST, PUT.
    MethodNotAllowed,
    /// A path no dialect serves.
    NotFound,
}

impl Failure {
    /// The HTTP answer for this failure.
    pub fn response(&self, realm: &str) -> CgiResponse {
        match self {
            Failure::BadAuth => CgiResponse::text(401, "badauth\n")
                .with_header("WWW-Authenticate", &format!("Basic realm=\"{realm}\"")),
            Failure::NoHostname => CgiResponse::text(200, "notfqdn\n"),
            Failure::NumHost { .. } => CgiResponse::text(200, "numhost\n"),
            Failure::NotDonator => CgiResponse::text(200, "!donator\n"),
            Failure::ServerError => CgiResponse::text(200, "911\n"),
            Failure::MethodNotAllowed => CgiResponse::text(405, "method not allowed\n")
                .with_header("Allow", "GET, HEAD, POST, PUT"),
            Failure::NotFound => CgiResponse::text(404, "not found\n"),
        }
    }
}

/// A record-level result, given the echo of the request's addresses.
pub fn answer_for_record(outcome: &RecordOutcome, echo: &str) -> Answer {
    match outcome {
        RecordOutcome::Changed { .. } => Answer::Good(echo.to_string()),
        RecordOutcome::Unchanged => Answer::NoChg(echo.to_string()),
        RecordOutcome::Missing { .. } => Answer::NoHost,
        RecordOutcome::RoundRobin { .. } | RecordOutcome::Alias { .. } => Answer::DnsErr,
        RecordOutcome::Failed(error) => answer_for_error(error),
    }
}

/// A registrar failure for every host of the zone it happened in. Credential problems are
/// ours, not the router's, so they are never `badauth`.
pub fn answer_for_error(error: &BackendError) -> Answer {
    match error {
        BackendError::ZoneNotFound { .. } => Answer::NoHost,
        BackendError::Rejected { .. } => Answer::DnsErr,
        BackendError::CredentialsRejected { .. }
        | BackendError::Unreachable { .. }
        | BackendError::Timeout { .. }
        | BackendError::BadResponse { .. }
        | BackendError::RateLimited { .. }
        | BackendError::DiscoveryLimit { .. } => Answer::ServerError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_words_never_look_like_success() {
        let words = [
            Answer::NoHost,
            Answer::NotFqdn,
            Answer::BadIp,
            Answer::DnsErr,
            Answer::Abuse,
            Answer::ServerError,
        ];
        for w in words {
            let line = w.line();
            assert!(!line.contains("good") && !line.contains("nochg") && !line.contains("OK"));
        }
        for f in [
            Failure::BadAuth,
            Failure::NoHostname,
            Failure::NumHost { count: 30, max: 20 },
            Failure::NotDonator,
            Failure::ServerError,
            Failure::MethodNotAllowed,
            Failure::NotFound,
        ] {
            let body = f.response("ddns").body;
            assert!(
                !body.contains("good") && !body.contains("nochg") && !body.contains("OK"),
                "{body}"
            );
        }
    }
}

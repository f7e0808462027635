//! The credentials a NoIP request carries: the web server's `REMOTE_USER`, and, where the
//! admin turned them on in `[dialect:noip]`, a user and password for ddns-cgi to check.
//!
//! - `authorization_header = yes`: the `Authorization: Basic` header the web server passes
//!   on unchecked (`HTTP_AUTHORIZATION`). Clients that only send it after a challenge
//!   (uclient-fetch, GNU wget) get one: a request without credentials is answered 401 with
//!   `WWW-Authenticate: Basic`.
//! - `query_credentials = yes`: `username`/`user` and `password`/`pass` in the query or form,
//!   as router URL templates put them. Opt-in: web servers' access logs keep URLs.

use crate::auth::basic;
use crate::auth::{Claim, Source};
use crate::cgi::CgiRequest;
use crate::protocol::params::Params;
use crate::protocol::{Refusal, Switches};
use crate::secret::Secret;

/// Check an `Authorization: Basic` header the web server passes on.
pub const AUTHORIZATION_HEADER: &str = "authorization_header";
/// Accept a user and password in the query or form.
pub const QUERY_CREDENTIALS: &str = "query_credentials";
/// The switches of `[dialect:noip]`.
pub const SWITCHES: &[&str] = &[
    QUERY_CREDENTIALS,
    AUTHORIZATION_HEADER,
    super::strict::STRICT_STATUS,
];

/// Every claim the request carries that the switches allow reading.
pub fn claims(request: &CgiRequest, switches: &Switches) -> Result<Vec<Claim>, Refusal> {
    let mut claims = basic::claims(
        request.remote_user.as_deref(),
        request.authorization.as_deref(),
        switches.is_on(AUTHORIZATION_HEADER),
    )
    .map_err(Refusal::Unauthenticated)?;
    if switches.is_on(QUERY_CREDENTIALS) {
        let params = Params::read(
            &request.query,
            request.content_type.as_deref(),
            &request.body,
        );
        let user = params.get("username").or_else(|| params.get("user"));
        let password = params.get("password").or_else(|| params.get("pass"));
        // Empty placeholders (`username=&password=`) are no credentials, as inadyn's `Og==`.
        if user.is_some_and(|u| !u.is_empty()) || password.is_some_and(|p| !p.is_empty()) {
            claims.push(Claim::Password {
                user: user.unwrap_or_default().to_string(),
                password: Secret::new(password.unwrap_or_default()),
                from: Source::Query,
            });
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthFailure;

    fn request(query: &str, user: Option<&str>, header: Option<&str>) -> CgiRequest {
        CgiRequest {
            method: "GET".into(),
            query: query.into(),
            remote_user: user.map(str::to_string),
            authorization: header.map(str::to_string),
            ..CgiRequest::default()
        }
    }

    fn password(user: &str, password: &str, from: Source) -> Claim {
        Claim::Password {
            user: user.into(),
            password: Secret::new(password),
            from,
        }
    }

    #[test]
    fn reads_only_what_the_switches_allow() {
        let all = Switches::new(SWITCHES.to_vec());
        let none = Switches::default();
        // alice:pw
        let req = request(
            "username=bob&password=pw2&hostname=h",
            Some("carol"),
            Some("Basic YWxpY2U6cHc="),
        );
        assert_eq!(
            claims(&req, &none).unwrap(),
            [Claim::RemoteUser("carol".into())]
        );
        assert_eq!(
            claims(&req, &all).unwrap(),
            [
                Claim::RemoteUser("carol".into()),
                password("alice", "pw", Source::Header),
                password("bob", "pw2", Source::Query),
            ]
        );
        let short = request("user=bob&pass=pw2", None, None);
        assert_eq!(
            claims(&short, &all).unwrap(),
            [password("bob", "pw2", Source::Query)]
        );
        let empty = request("username=&password=", None, Some("Basic Og=="));
        assert_eq!(claims(&empty, &all).unwrap(), []);
        let bad = request("", None, Some("Basic %%%"));
        assert_eq!(
            claims(&bad, &all),
            Err(Refusal::Unauthenticated(AuthFailure::MalformedHeader))
        );
        assert_eq!(claims(&bad, &none).unwrap(), []);
    }
}

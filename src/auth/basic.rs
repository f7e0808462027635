//! The `Authorization: Basic` header (RFC 7617), when the web server passes it on
//! (`HTTP_AUTHORIZATION`) for ddns-cgi to check.

use base64::Engine as _;

use super::{AuthFailure, Claim, Source};
use crate::secret::Secret;

/// The web server's `REMOTE_USER`, and the user and password of a Basic header the web
/// server passed on, when the dialect's switch says to read it.
pub fn claims(
    remote_user: Option<&str>,
    header: Option<&str>,
    read_header: bool,
) -> Result<Vec<Claim>, AuthFailure> {
    let mut claims: Vec<Claim> = remote_user
        .map(|user| Claim::RemoteUser(user.to_string()))
        .into_iter()
        .collect();
    if read_header {
        match parse(header) {
            Basic::Absent => {}
            Basic::Malformed => return Err(AuthFailure::MalformedHeader),
            Basic::Credentials { user, password } => claims.push(Claim::Password {
                user,
                password,
                from: Source::Header,
            }),
        }
    }
    Ok(claims)
}

/// What a Basic header holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basic {
    /// No header, another scheme, or inadyn's `Og==` (empty user and password): no
    /// credential.
    Absent,
    /// Not base64 of `user:password` in UTF-8.
    Malformed,
    /// A user and password, split at the first colon (passwords may hold colons).
    Credentials {
        /// The user.
        user: String,
        /// The password.
        password: Secret,
    },
}

/// Reads the header's value.
pub fn parse(header: Option<&str>) -> Basic {
    let Some(value) = header.map(str::trim) else {
        return Basic::Absent;
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return Basic::Absent;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Basic::Absent;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
        return Basic::Malformed;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Basic::Malformed;
    };
    match text.split_once(':') {
        Some(("", "")) => Basic::Absent,
        Some((user, password)) => Basic::Credentials {
            user: user.to_string(),
            password: Secret::new(password),
        },
        None => Basic::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_basic_headers_as_clients_send_them() {
        let creds = |user: &str, password: &str| Basic::Credentials {
            user: user.into(),
            password: Secret::new(password),
        };
        // alice:s3cret:x
        assert_eq!(
            parse(Some("Basic YWxpY2U6czNjcmV0Ong=")),
            creds("alice", "s3cret:x")
        );
        assert_eq!(
            parse(Some("basic  YWxpY2U6czNjcmV0Ong= ")),
            creds("alice", "s3cret:x")
        );
        assert_eq!(parse(Some("Basic Og==")), Basic::Absent);
        assert_eq!(parse(None), Basic::Absent);
        assert_eq!(parse(Some("Bearer abc")), Basic::Absent);
        assert_eq!(parse(Some("Basic !!!")), Basic::Malformed);
        // "alice" without a colon.
        assert_eq!(parse(Some("Basic YWxpY2U=")), Basic::Malformed);
        // ":pw" is a password without a user: checked, and fails.
        assert_eq!(parse(Some("Basic OnB3")), creds("", "pw"));
    }
}

//! Authentication: the credentials a request carries become one [`Principal`], by whose
//! name the ACL is looked up.
//!
//! Today the only credential is the web server's: it checked the password and passes the
//! user on as `REMOTE_USER`. A dialect with credentials of its own (a secret in the path, a
//! user and password in the query) adds a [`Claim`] variant and its check here. When
//! several claims arrive, the web server's wins, since it already checked; claims naming
//! different principals are refused, whichever would win.

use std::fmt;

use crate::acl::{UserNameError, check_user_name};

/// A credential as the request carries it, not yet believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// `REMOTE_USER`: the web server authenticated this user.
    RemoteUser(String),
}

impl Claim {
    /// The principal the claim names.
    fn name(&self) -> &str {
        match self {
            Claim::RemoteUser(name) => name,
        }
    }

    /// Which claim wins when several name the same principal: lower first.
    fn precedence(&self) -> u8 {
        match self {
            Claim::RemoteUser(_) => 0,
        }
    }
}

/// Who the request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    name: String,
}

impl Principal {
    /// The name the ACL knows the principal by.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Why no principal was found. `Display` is the admin's log text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential at all.
    NoCredential,
    /// The web server passed a user name no `[user:NAME]` section could be meant for.
    BadUserName(UserNameError),
    /// Credentials naming different principals.
    Conflicting,
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthFailure::NoCredential => f.write_str(
                "no authenticated user (REMOTE_USER is empty): the web server must require Basic auth for this script",
            ),
            // The reason, not the name: the summary line shows the name, escaped.
            AuthFailure::BadUserName(problem) => write!(
                f,
                "REMOTE_USER {problem}; user names must be printable ASCII without surrounding white space, so that no spelling of a login can miss its [user:NAME] section"
            ),
            AuthFailure::Conflicting => f.write_str(
                "the request carries credentials of different users; refusing all of them",
            ),
        }
    }
}

/// The one principal the claims agree on.
pub fn authenticate(claims: &[Claim]) -> Result<Principal, AuthFailure> {
    let Some(first) = claims.iter().min_by_key(|c| c.precedence()) else {
        return Err(AuthFailure::NoCredential);
    };
    if claims.iter().any(|c| c.name() != first.name()) {
        return Err(AuthFailure::Conflicting);
    }
    match first {
        Claim::RemoteUser(name) => {
            check_user_name(name).map_err(AuthFailure::BadUserName)?;
        }
    }
    Ok(Principal {
        name: first.name().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_servers_user_is_the_principal() {
        let user = |n: &str| Claim::RemoteUser(n.to_string());
        assert_eq!(authenticate(&[user("alice")]).unwrap().name(), "alice");
        assert_eq!(authenticate(&[]), Err(AuthFailure::NoCredential));
        assert_eq!(
            authenticate(&[user("alice ")]),
            Err(AuthFailure::BadUserName(UserNameError::TrailingWhiteSpace))
        );
        assert_eq!(
            authenticate(&[user("alice"), user("alice")])
                .unwrap()
                .name(),
            "alice"
        );
        assert_eq!(
            authenticate(&[user("alice"), user("bob")]),
            Err(AuthFailure::Conflicting)
        );
    }
}

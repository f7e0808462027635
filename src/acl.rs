//! Which host names an authenticated user may change.
//!
//! Authentication is the web server's job; this module only decides, for the user name it
//! passed in `REMOTE_USER`, whether a normalised host name is allowed. Both sides are
//! normalised the same way ([`Hostname`]), so case, a trailing dot, percent-encoding or an
//! IDN form cannot sneak a name past the list.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::hostname::{Hostname, HostnameError};

/// One entry of an allow list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Exactly this name.
    Exact(Hostname),
    /// `*.zone`: any name strictly below the zone (not the zone itself).
    Below(Hostname),
}

impl FromStr for Pattern {
    type Err = HostnameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.strip_prefix("*.") {
            Some(rest) => Ok(Pattern::Below(rest.parse()?)),
            None => Ok(Pattern::Exact(text.parse()?)),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Exact(h) => write!(f, "{h}"),
            Pattern::Below(h) => write!(f, "*.{h}"),
        }
    }
}

impl Pattern {
    /// Whether the pattern admits `host`.
    pub fn matches(&self, host: &Hostname) -> bool {
        match self {
            Pattern::Exact(name) => name == host,
            Pattern::Below(zone) => host
                .relative_to(zone.as_str())
                .is_some_and(|rel| !rel.is_empty()),
        }
    }
}

/// A `[user:NAME]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRule {
    /// The user's own names.
    pub patterns: Vec<Pattern>,
    /// Whether the global `allowed_hostnames` applies too (default yes); `no` narrows the
    /// user to their own list.
    pub use_global: bool,
}

/// The whole access policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acl {
    /// No list anywhere: every authenticated user may change every name in the
    /// registrars' zones, exactly as ws.ddns without `allowed_hostnames`.
    Open,
    /// Global list plus per-user rules.
    Lists {
        /// `[default] allowed_hostnames`, for every authenticated user.
        global: Vec<Pattern>,
        /// Per-user rules by `REMOTE_USER`, lower-cased: user names match without case.
        users: BTreeMap<String, UserRule>,
    },
}

impl Acl {
    /// Whether `user` may change `host`.
    pub fn allows(&self, user: &str, host: &Hostname) -> bool {
        match self {
            Acl::Open => true,
            Acl::Lists { global, users } => {
                let rule = users.get(&user.to_lowercase());
                let own = rule.is_some_and(|r| r.patterns.iter().any(|p| p.matches(host)));
                let via_global =
                    rule.is_none_or(|r| r.use_global) && global.iter().any(|p| p.matches(host));
                own || via_global
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> Hostname {
        s.parse().unwrap()
    }

    fn acl() -> Acl {
        let mut users = BTreeMap::new();
        users.insert(
            "alice".to_string(),
            UserRule {
                patterns: vec!["*.alice.example.com".parse().unwrap()],
                use_global: true,
            },
        );
        users.insert(
            "bob".to_string(),
            UserRule {
                patterns: vec!["bob.example.org".parse().unwrap()],
                use_global: false,
            },
        );
        Acl::Lists {
            global: vec!["Home.Example.com.".parse().unwrap()],
            users,
        }
    }

    #[test]
    fn global_list_applies_to_everyone_unless_narrowed() {
        let acl = acl();
        assert!(acl.allows("carol", &host("home.example.com")));
        assert!(acl.allows("alice", &host("HOME.example.com.")));
        assert!(!acl.allows("bob", &host("home.example.com")));
        assert!(acl.allows("bob", &host("bob.example.org")));
        assert!(!acl.allows("carol", &host("bob.example.org")));
    }

    #[test]
    fn wildcards_cover_names_below_only() {
        let acl = acl();
        assert!(acl.allows("alice", &host("a.alice.example.com")));
        assert!(acl.allows("alice", &host("x.y.alice.example.com")));
        assert!(!acl.allows("alice", &host("alice.example.com")));
        assert!(!acl.allows("alice", &host("evilalice.example.com")));
        assert!(!acl.allows("alice", &host("a.alice.example.com.evil.net")));
    }

    #[test]
    fn open_acl_allows_all() {
        assert!(Acl::Open.allows("anyone", &host("x.example.net")));
    }
}

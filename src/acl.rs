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
    /// The name a wildcard admits everything below (`example.com` for `*.example.com`);
    /// None for an exact name.
    pub fn wildcard_base(&self) -> Option<&Hostname> {
        match self {
            Pattern::Exact(_) => None,
            Pattern::Below(base) => Some(base),
        }
    }

    /// Whether every name the pattern admits lies in `zone` (normalised) or below it.
    pub fn is_within(&self, zone: &str) -> bool {
        match self {
            Pattern::Exact(name) | Pattern::Below(name) => name.relative_to(zone).is_some(),
        }
    }

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

/// Why a user name is refused. Web servers pass `REMOTE_USER` on as the client typed it,
/// and some logins (LDAP, PAM) ignore case, blanks or look-alike letters; a name that is not
/// plain printable ASCII could be another spelling of a login that has its own, narrower,
/// `[user:NAME]` section, so it is refused instead of being judged by the global list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserNameError {
    /// No name at all.
    Empty,
    /// Starts with a blank, tab or other white space.
    LeadingWhiteSpace,
    /// Ends with a blank, tab, line break or other white space.
    TrailingWhiteSpace,
    /// Holds a control character (line break, escape, NUL, DEL, …).
    ControlCharacter,
    /// Holds a character outside printable ASCII (a byte that is not UTF-8 arrives as
    /// U+FFFD, so it lands here too).
    NotPrintableAscii,
}

impl fmt::Display for UserNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UserNameError::Empty => "is empty",
            UserNameError::LeadingWhiteSpace => "has leading white space",
            UserNameError::TrailingWhiteSpace => "has trailing white space",
            UserNameError::ControlCharacter => "holds a control character",
            UserNameError::NotPrintableAscii => "holds a byte outside printable ASCII",
        })
    }
}

/// Checks that a user name is printable ASCII (inner blanks allowed) without white space
/// around it; only such names are looked up, lower-cased, among the `[user:NAME]` sections.
pub fn check_user_name(name: &str) -> Result<(), UserNameError> {
    if name.is_empty() {
        Err(UserNameError::Empty)
    } else if name.starts_with(char::is_whitespace) {
        Err(UserNameError::LeadingWhiteSpace)
    } else if name.ends_with(char::is_whitespace) {
        Err(UserNameError::TrailingWhiteSpace)
    } else if name.chars().any(char::is_control) {
        Err(UserNameError::ControlCharacter)
    } else if !name.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        Err(UserNameError::NotPrintableAscii)
    } else {
        Ok(())
    }
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
        /// Per-user rules by `REMOTE_USER`, ASCII lower-cased: user names match without
        /// case.
        users: BTreeMap<String, UserRule>,
    },
}

impl Acl {
    /// Whether `user` may change `host`. A name [`check_user_name`] refuses may change
    /// nothing.
    pub fn allows(&self, user: &str, host: &Hostname) -> bool {
        self.any_pattern(user, |p| p.matches(host))
    }

    /// Whether one of the wildcards that apply to `user` is `*.base`: names below `base`
    /// are theirs, and a certificate for them is validated at `base` itself.
    pub fn allows_below(&self, user: &str, base: &Hostname) -> bool {
        self.any_pattern(user, |p| p.wildcard_base() == Some(base))
    }

    /// Whether a pattern that applies to `user` passes `test`: their own, and the global
    /// list unless their section narrows them to their own. Everything, without lists.
    fn any_pattern(&self, user: &str, test: impl Fn(&Pattern) -> bool) -> bool {
        if check_user_name(user).is_err() {
            return false;
        }
        match self {
            Acl::Open => true,
            Acl::Lists { global, users } => {
                let rule = users.get(&user.to_ascii_lowercase());
                let own = rule.is_some_and(|r| r.patterns.iter().any(&test));
                own || (rule.is_none_or(|r| r.use_global) && global.iter().any(&test))
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
    fn wildcards_know_their_base_and_zone() {
        let p = |s: &str| s.parse::<Pattern>().unwrap();
        assert_eq!(p("*.co.uk").wildcard_base(), Some(&host("co.uk")));
        assert_eq!(p("home.example.co.uk").wildcard_base(), None);
        assert!(p("*.example.co.uk").is_within("example.co.uk"));
        assert!(p("*.dyn.example.co.uk").is_within("example.co.uk"));
        assert!(p("home.example.co.uk").is_within("example.co.uk"));
        assert!(!p("*.co.uk").is_within("example.co.uk"));
        assert!(!p("*.xample.co.uk").is_within("example.co.uk"));
        assert!(!p("*.example.co.uk").is_within("dyn.example.co.uk"));
    }

    #[test]
    fn open_acl_allows_all() {
        assert!(Acl::Open.allows("anyone", &host("x.example.net")));
        assert!(!Acl::Open.allows("anyone ", &host("x.example.net")));
    }

    #[test]
    fn only_plain_printable_ascii_names_are_user_names() {
        for good in [
            "alice",
            "ALICE",
            "Alice Smith",
            "alice@example.com",
            "a-b_c.d~!",
        ] {
            assert_eq!(check_user_name(good), Ok(()), "{good:?}");
        }
        let cases = [
            ("", UserNameError::Empty),
            ("alice ", UserNameError::TrailingWhiteSpace),
            ("alice\t", UserNameError::TrailingWhiteSpace),
            ("alice\r\n", UserNameError::TrailingWhiteSpace),
            ("alice\u{a0}", UserNameError::TrailingWhiteSpace),
            (" alice", UserNameError::LeadingWhiteSpace),
            ("\u{3000}alice", UserNameError::LeadingWhiteSpace),
            ("ali\nce", UserNameError::ControlCharacter),
            ("alice\u{1b}[0m", UserNameError::ControlCharacter),
            ("al\u{0}ice", UserNameError::ControlCharacter),
            ("alic\u{7f}e", UserNameError::ControlCharacter),
            ("alice\u{fffd}", UserNameError::NotPrintableAscii),
            ("ALİCE", UserNameError::NotPrintableAscii),
            ("аlice", UserNameError::NotPrintableAscii),
            ("alice\u{200b}", UserNameError::NotPrintableAscii),
        ];
        for (name, error) in cases {
            assert_eq!(check_user_name(name), Err(error), "{name:?}");
        }
    }

    /// `use_global = no` cannot be escaped by a variant spelling: the variant is refused,
    /// and the ASCII case-folded name gets the section.
    #[test]
    fn variant_spellings_of_a_narrowed_user_get_nothing() {
        let acl = acl();
        let global = host("home.example.com");
        for variant in ["bob ", " bob", "bob\u{fffd}", "BOB\u{0}", "bob\r\n", "bоb"] {
            assert!(!acl.allows(variant, &global), "{variant:?}");
            assert!(
                !acl.allows(variant, &host("bob.example.org")),
                "{variant:?}"
            );
        }
        for spelling in ["bob", "Bob", "BOB"] {
            assert!(!acl.allows(spelling, &global), "{spelling}");
            assert!(acl.allows(spelling, &host("bob.example.org")), "{spelling}");
        }
    }
}

//! Stage one: which requested names the principal may change. Pure, apart from the log
//! lines [`report`] writes about the names refused.

use super::{HostRequest, Outcome, Words, txt};
use crate::acl::Acl;
use crate::hostname::{Hostname, HostnameError};
use crate::log::{Log, printable};

/// The decision for one requested host, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// May be changed.
    Allowed(Hostname),
    /// Not a host name.
    NotFqdn(HostnameError),
    /// Not on the principal's list.
    NotAllowed(Hostname),
}

/// Judges every requested name by the ACL of `user`; for `challenge` values, by the
/// names they validate (`core::txt::may_change`), so no other TXT name is reachable.
pub fn authorize(user: &str, hosts: &[HostRequest], acl: &Acl, challenge: bool) -> Vec<Verdict> {
    let may = |name: &Hostname| match challenge {
        true => txt::may_change(acl, user, name),
        false => acl.allows(user, name),
    };
    hosts
        .iter()
        .map(|host| match &host.name {
            Err(e) => Verdict::NotFqdn(*e),
            Ok(name) if !may(name) => Verdict::NotAllowed(name.clone()),
            Ok(name) => Verdict::Allowed(name.clone()),
        })
        .collect()
}

/// The allowed names, each once, in request order.
pub fn wanted(verdicts: &[Verdict]) -> Vec<Hostname> {
    let mut wanted: Vec<Hostname> = Vec::new();
    for verdict in verdicts {
        if let Verdict::Allowed(name) = verdict
            && !wanted.contains(name)
        {
            wanted.push(name.clone());
        }
    }
    wanted
}

/// The outcomes when the addresses cannot be used: a name the user may not touch is
/// refused as such whatever the address.
pub fn without_address(verdicts: &[Verdict]) -> Vec<Outcome> {
    verdicts
        .iter()
        .map(|verdict| match verdict {
            Verdict::Allowed(_) => Outcome::BadAddress,
            Verdict::NotFqdn(_) => Outcome::NotFqdn,
            Verdict::NotAllowed(_) => Outcome::NotAllowed,
        })
        .collect()
}

/// One log line per refused name, saying what to fix.
pub fn report(
    user: &str,
    hosts: &[HostRequest],
    verdicts: &[Verdict],
    challenge: bool,
    log: &Log,
    words: Words,
) {
    for (host, verdict) in hosts.iter().zip(verdicts) {
        match verdict {
            Verdict::Allowed(_) => {}
            Verdict::NotFqdn(e) => log.warn(format_args!(
                "user {}: `{}` is not a host name ({e}); answering {}",
                printable(user),
                printable(&host.text),
                words(Outcome::NotFqdn)
            )),
            Verdict::NotAllowed(name) if challenge => log.warn(format_args!(
                "user {} may not set ACME challenge values at {name}: only at {}.NAME for a NAME they may update (add NAME to allowed_hostnames or [user:{}] if it should); answering {}",
                printable(user),
                txt::CHALLENGE_LABEL,
                printable(user),
                words(Outcome::NotAllowed)
            )),
            Verdict::NotAllowed(name) => log.warn(format_args!(
                "user {} may not update {name}; add it to allowed_hostnames (or [user:{}]) if it should; answering {}",
                printable(user),
                printable(user),
                words(Outcome::NotAllowed)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{Pattern, UserRule};

    fn host(text: &str) -> HostRequest {
        HostRequest {
            text: text.into(),
            name: text.parse(),
        }
    }

    #[test]
    fn names_are_judged_one_by_one_and_wanted_once() {
        let mut users = std::collections::BTreeMap::new();
        users.insert(
            "bob".to_string(),
            UserRule {
                patterns: vec!["bob.example.net".parse::<Pattern>().unwrap()],
                use_global: false,
            },
        );
        let acl = Acl::Lists {
            global: vec!["home.example.net".parse().unwrap()],
            users,
        };
        let hosts = [
            host("home.example.net"),
            host("bob.example.net"),
            host("a..b"),
            host("HOME.example.net."),
        ];
        let verdicts = authorize("alice", &hosts, &acl, false);
        let home: Hostname = "home.example.net".parse().unwrap();
        assert_eq!(verdicts[0], Verdict::Allowed(home.clone()));
        assert!(matches!(verdicts[1], Verdict::NotAllowed(_)));
        assert!(matches!(verdicts[2], Verdict::NotFqdn(_)));
        assert_eq!(wanted(&verdicts), vec![home]);
        assert_eq!(
            without_address(&verdicts),
            [
                Outcome::BadAddress,
                Outcome::NotAllowed,
                Outcome::NotFqdn,
                Outcome::BadAddress
            ]
        );
        let bob = authorize("bob", &hosts, &acl, false);
        assert!(matches!(bob[0], Verdict::NotAllowed(_)));
        assert!(matches!(bob[1], Verdict::Allowed(_)));
        let challenges = [
            host("_acme-challenge.home.example.net"),
            host("home.example.net"),
        ];
        let verdicts = authorize("alice", &challenges, &acl, true);
        assert!(matches!(verdicts[0], Verdict::Allowed(_)));
        assert!(matches!(verdicts[1], Verdict::NotAllowed(_)));
    }
}

//! ACME DNS-01 challenge values: which TXT names a principal may write, what a value must
//! look like, and how the values ddns-cgi recorded decide what a request adds and removes.
//! Pure: the state, the clock reading and the ACL are passed in.
//!
//! A principal may hold TXT values at `_acme-challenge.NAME` exactly when it may update
//! `NAME`, or when `NAME` is the base of one of its wildcards (a certificate for
//! `*.dyn.example.org` is validated at `_acme-challenge.dyn.example.org`). Only values that
//! are the base64url SHA-256 digest an ACME client computes can be written, so this path
//! cannot put arbitrary text into a zone.

use std::fmt;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::operation::Operation;
use crate::acl::Acl;
use crate::address::AddressError;
use crate::hostname::Hostname;
use crate::state::TxtEntry;

/// The label a DNS-01 challenge lives under (RFC 8555 §8.4).
pub const CHALLENGE_LABEL: &str = "_acme-challenge";

/// Characters of a SHA-256 digest in unpadded base64url.
const VALUE_LEN: usize = 43;

/// Values one principal may hold at one name: a certificate with an apex and its wildcard
/// needs two, overlapping renewals a few more.
pub const PER_PRINCIPAL: usize = 8;

/// TXT values a name may hold in all (every principal's, and those not set through
/// ddns-cgi), so that neither the record nor the state nor one DNS UPDATE grows without end.
pub const PER_NAME: usize = 32;

/// A checked challenge value: 43 characters of unpadded base64url encoding 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxtValue(String);

impl TxtValue {
    /// Checks a value as a client sent it; surrounding blanks are not part of it.
    pub fn parse(text: &str) -> Result<TxtValue, AddressError> {
        let text = text.trim();
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        // The decoder refuses padding, the standard alphabet's `+` and `/`, and unused bits
        // that are set, so each digest has exactly one accepted spelling.
        match engine.decode(text) {
            Ok(bytes) if text.len() == VALUE_LEN && bytes.len() == 32 => {
                Ok(TxtValue(text.to_string()))
            }
            _ => Err(AddressError::TxtValue),
        }
    }

    /// The value for a key authorization (RFC 8555 §8.4), as lego's raw mode sends it.
    pub fn of_key_authorization(key_authorization: &str) -> TxtValue {
        let digest = Sha256::digest(key_authorization.as_bytes());
        TxtValue(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
    }

    /// The value as written into the zone.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TxtValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name a challenge name validates (`home.example.org` for
/// `_acme-challenge.home.example.org`); None for any other name.
pub fn challenged(host: &Hostname) -> Option<Hostname> {
    let rest = host
        .as_str()
        .strip_prefix(CHALLENGE_LABEL)?
        .strip_prefix('.')?;
    rest.parse().ok()
}

/// The challenge name for a name being validated; a wildcard's `*.` is dropped.
pub fn challenge_name(domain: &str) -> String {
    let domain = domain.trim().trim_end_matches('.');
    let domain = domain.strip_prefix("*.").unwrap_or(domain);
    format!("{CHALLENGE_LABEL}.{domain}")
}

/// Whether `user` may write challenge values at `host`.
pub fn may_change(acl: &Acl, user: &str, host: &Hostname) -> bool {
    challenged(host).is_some_and(|name| acl.allows(user, &name) || acl.allows_below(user, &name))
}

/// What a TXT request comes to under the zone's lock: the operations a registrar carries
/// out, and the values recorded once it has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxtPlan {
    /// Only [`Operation::TxtAdd`] and [`Operation::TxtRemove`], each value once.
    pub operations: Vec<Operation>,
    /// The host's recorded values afterwards.
    pub entries: Vec<TxtEntry>,
    /// Values the request asked to remove that were not recorded for the user, which are
    /// left alone; for the admin's log.
    pub not_ours: Vec<TxtValue>,
    /// Values the request asked to add that the registrar already held without a record
    /// of ddns-cgi: someone else put them there, so no entry makes them the user's.
    pub already_held: Vec<TxtValue>,
    /// Set when the request would take the name past a cap; nothing is then done.
    pub refused: Option<Cap>,
}

/// Which cap a request that adds a value would exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// [`PER_PRINCIPAL`] values of this principal at the name.
    Principal,
    /// [`PER_NAME`] values at the name in all.
    Name,
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cap::Principal => write!(
                f,
                "would hold more than {PER_PRINCIPAL} challenge values set by this user; remove the values no longer needed (lego's cleanup, or an empty txt= for this name) or wait acme_txt_max_age for them to expire"
            ),
            Cap::Name => write!(
                f,
                "would hold more than {PER_NAME} TXT values in all (counting those not set through ddns-cgi); remove the values no longer needed at the registrar or with cleanup, or wait acme_txt_max_age for stale ones to expire"
            ),
        }
    }
}

/// Whether [`resolve`] needs the values the registrar holds at the name: only a request
/// adding a value not yet recorded for the user can meet a cap or a value put there by hand.
pub fn needs_held(recorded: &[TxtEntry], requested: &[Operation], user: &str) -> bool {
    requested.iter().any(|op| match op {
        Operation::TxtAdd(value) => !recorded
            .iter()
            .any(|e| e.by == user && e.value == value.as_str()),
        _ => false,
    })
}

/// Whether an entry has outlived `max_age`. A time far ahead of the clock (set back since,
/// or a damaged file) counts as stale too, or it would stay until that time.
fn is_stale(entry: &TxtEntry, now: u64, max_age: u64) -> bool {
    now.saturating_sub(entry.set_at) >= max_age || entry.set_at > now.saturating_add(max_age)
}

/// Turns the requested TXT operations of `user` into what is done, given the values
/// recorded for the host. Adds are kept (and recorded for the user at `now`); a removal
/// is kept only for a value recorded for the user; a clear removes every value recorded
/// for the user; stale values are removed whoever added them. A value still recorded for
/// someone else after this request stays in the zone. `held` is what the registrar holds
/// at the name (asked only when [`needs_held`]): a value it holds that ddns-cgi never
/// recorded is not recorded for the user either, and the caps count it.
pub fn resolve(
    recorded: &[TxtEntry],
    requested: &[Operation],
    user: &str,
    now: u64,
    max_age: u64,
    held: &[String],
) -> TxtPlan {
    let mine = |e: &TxtEntry| e.by == user;
    let mut plan = TxtPlan::default();
    let mut entries: Vec<TxtEntry> = recorded
        .iter()
        .filter(|e| !is_stale(e, now, max_age))
        .cloned()
        .collect();
    let mut removed: Vec<String> = recorded
        .iter()
        .filter(|e| is_stale(e, now, max_age))
        .map(|e| e.value.clone())
        .collect();
    let mut added: Vec<TxtValue> = Vec::new();
    for op in requested {
        match op {
            Operation::TxtAdd(value) => {
                let recorded_by_anyone = recorded.iter().any(|e| e.value == value.as_str());
                if !recorded_by_anyone && held.iter().any(|h| h == value.as_str()) {
                    plan.already_held.push(value.clone());
                    continue;
                }
                entries.retain(|e| !(mine(e) && e.value == value.as_str()));
                entries.push(TxtEntry {
                    value: value.to_string(),
                    set_at: now,
                    by: user.to_string(),
                });
                added.push(value.clone());
            }
            Operation::TxtRemove(value) => {
                let ours = recorded
                    .iter()
                    .any(|e| mine(e) && e.value == value.as_str());
                if ours {
                    entries.retain(|e| !(mine(e) && e.value == value.as_str()));
                    removed.push(value.to_string());
                } else {
                    plan.not_ours.push(value.clone());
                }
            }
            Operation::TxtClear => {
                removed.extend(recorded.iter().filter(|e| mine(e)).map(|e| e.value.clone()));
                entries.retain(|e| !mine(e));
            }
            Operation::Set(_) | Operation::Delete(_) | Operation::SetPrefix(_) => {}
        }
    }
    added.sort();
    added.dedup();
    removed.sort();
    removed.dedup();
    // A value someone still holds (or this request adds) stays in the zone.
    removed.retain(|v| !entries.iter().any(|e| e.value == *v));
    plan.refused = over_cap(recorded, &entries, &added, &removed, user, held);
    if plan.refused.is_some() {
        plan.entries = recorded.to_vec();
        return plan;
    }
    plan.operations = added.into_iter().map(Operation::TxtAdd).collect();
    plan.operations.extend(
        removed
            .into_iter()
            .filter_map(|v| TxtValue::parse(&v).ok())
            .map(Operation::TxtRemove),
    );
    plan.entries = entries;
    plan
}

/// The cap a request's new values would exceed, if any. Only adding a value the user did
/// not hold, or one the name did not hold, is refused: a cleanup always works at the cap.
fn over_cap(
    recorded: &[TxtEntry],
    entries: &[TxtEntry],
    added: &[TxtValue],
    removed: &[String],
    user: &str,
    held: &[String],
) -> Option<Cap> {
    let new_for_user = added.iter().any(|v| {
        !recorded
            .iter()
            .any(|e| e.by == user && e.value == v.as_str())
    });
    if new_for_user && entries.iter().filter(|e| e.by == user).count() > PER_PRINCIPAL {
        return Some(Cap::Principal);
    }
    let mut after: Vec<&str> = held
        .iter()
        .map(String::as_str)
        .filter(|h| !removed.iter().any(|r| r == h))
        .chain(entries.iter().map(|e| e.value.as_str()))
        .collect();
    after.sort_unstable();
    after.dedup();
    let new_for_name = added.iter().any(|v| {
        !held.iter().any(|h| h == v.as_str()) && !recorded.iter().any(|e| e.value == v.as_str())
    });
    (new_for_name && after.len() > PER_NAME).then_some(Cap::Name)
}

/// The values a record's operations add and remove, as a registrar applies them. A value
/// both added and removed is added.
pub fn edits(operations: &[Operation]) -> (Vec<&TxtValue>, Vec<&TxtValue>) {
    let add: Vec<&TxtValue> = operations
        .iter()
        .filter_map(|op| match op {
            Operation::TxtAdd(v) => Some(v),
            _ => None,
        })
        .collect();
    let remove = operations
        .iter()
        .filter_map(|op| match op {
            Operation::TxtRemove(v) if !add.contains(&v) => Some(v),
            _ => None,
        })
        .collect();
    (add, remove)
}

/// The values a TXT record holds after the edits, in the order it held them, new ones
/// last; `current` is what the registrar holds, each value as its own text.
pub fn edited(current: &[String], operations: &[Operation]) -> Vec<String> {
    let (add, remove) = edits(operations);
    let mut values: Vec<String> = current
        .iter()
        .filter(|v| !remove.iter().any(|r| r.as_str() == v.as_str()))
        .cloned()
        .collect();
    for value in add {
        if !values.iter().any(|v| v == value.as_str()) {
            values.push(value.to_string());
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{Pattern, UserRule};

    const A: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    const B: &str = "B0RrbJLfu0c2ugkBmYaSQxsYhpLeIKuNLTsQ5FmGDvg";

    fn value(s: &str) -> TxtValue {
        TxtValue::parse(s).unwrap()
    }

    fn entry(v: &str, at: u64, by: &str) -> TxtEntry {
        TxtEntry {
            value: v.into(),
            set_at: at,
            by: by.into(),
        }
    }

    #[test]
    fn only_a_digest_in_base64url_is_a_value() {
        assert_eq!(value(A).as_str(), A);
        assert_eq!(value(&format!(" {A}\n")).as_str(), A);
        // RFC 8555 §8.4's example key authorization gives a known value.
        let known = TxtValue::of_key_authorization("token.thumbprint");
        assert_eq!(known.as_str().len(), 43);
        assert_eq!(TxtValue::parse(known.as_str()), Ok(known));
        let set_bits = format!("{}1", &A[..42]);
        for bad in [
            "",
            "hello",
            &A[..42],
            &format!("{A}A"),
            &format!("{A}="),
            &A.replace('L', "+"),
            &A.replace('L', "/"),
            &A.replace('L', " "),
            &A.replace('L', "\""),
            &set_bits,
        ] {
            assert_eq!(TxtValue::parse(bad), Err(AddressError::TxtValue), "{bad:?}");
        }
    }

    #[test]
    fn challenge_names_follow_the_names_a_user_may_update() {
        let mut users = std::collections::BTreeMap::new();
        users.insert(
            "bob".to_string(),
            UserRule {
                patterns: vec!["*.dyn.example.org".parse::<Pattern>().unwrap()],
                use_global: false,
            },
        );
        let acl = Acl::Lists {
            global: vec!["home.example.net".parse().unwrap()],
            users,
        };
        let may = |user: &str, name: &str| may_change(&acl, user, &name.parse().unwrap());
        assert!(may("alice", "_acme-challenge.home.example.net"));
        assert!(!may("alice", "home.example.net"));
        assert!(!may("alice", "_acme-challenge.other.example.net"));
        assert!(!may("alice", "_acme-challenge.x.home.example.net"));
        assert!(!may("alice", "_acme-challengex.home.example.net"));
        assert!(may("bob", "_acme-challenge.a.dyn.example.org"));
        assert!(may("bob", "_acme-challenge.dyn.example.org"));
        assert!(!may("bob", "_acme-challenge.example.org"));
        assert!(!may("bob", "_acme-challenge.home.example.net"));
        assert!(!may("bob", "a.dyn.example.org.x"));
        assert_eq!(
            challenge_name("*.dyn.example.org."),
            "_acme-challenge.dyn.example.org"
        );
    }

    #[test]
    fn present_adds_cleanup_removes_only_the_users_own_value() {
        let now = 10_000;
        let recorded = [entry(A, now - 10, "alice")];
        let plan = resolve(
            &recorded,
            &[Operation::TxtAdd(value(B))],
            "alice",
            now,
            3600,
            &[],
        );
        assert_eq!(plan.operations, [Operation::TxtAdd(value(B))]);
        assert_eq!(
            plan.entries,
            [entry(A, now - 10, "alice"), entry(B, now, "alice")]
        );
        // Bob cannot remove Alice's value.
        let plan = resolve(
            &recorded,
            &[Operation::TxtRemove(value(A))],
            "bob",
            now,
            3600,
            &[],
        );
        assert_eq!(plan.operations, []);
        assert_eq!(plan.not_ours, [value(A)]);
        assert_eq!(plan.entries, recorded);
        let plan = resolve(&recorded, &[Operation::TxtClear], "bob", now, 3600, &[]);
        assert_eq!((plan.operations.len(), plan.entries.len()), (0, 1));
        // Alice can.
        let plan = resolve(
            &recorded,
            &[Operation::TxtRemove(value(A))],
            "alice",
            now,
            3600,
            &[],
        );
        assert_eq!(plan.operations, [Operation::TxtRemove(value(A))]);
        assert!(plan.entries.is_empty());
    }

    #[test]
    fn stale_values_go_whoever_set_them_and_shared_ones_stay() {
        let now = 10_000;
        let recorded = [
            entry(A, now - 3600, "bob"),
            entry(B, now - 5, "bob"),
            entry(B, now - 5, "alice"),
        ];
        let plan = resolve(&recorded, &[Operation::TxtClear], "alice", now, 3600, &[]);
        assert_eq!(plan.operations, [Operation::TxtRemove(value(A))]);
        assert_eq!(plan.entries, [entry(B, now - 5, "bob")]);
        let future = [entry(A, now + 7200, "bob")];
        let plan = resolve(&future, &[], "alice", now, 3600, &[]);
        assert_eq!(plan.operations, [Operation::TxtRemove(value(A))]);
        let plan = resolve(&[entry(A, now + 60, "bob")], &[], "alice", now, 3600, &[]);
        assert!(plan.operations.is_empty(), "a little ahead is not stale");
    }

    /// A distinct valid value for each number.
    fn nth(n: usize) -> String {
        TxtValue::of_key_authorization(&n.to_string()).to_string()
    }

    #[test]
    fn a_value_held_by_hand_is_not_recorded_for_the_user() {
        let held = [A.to_string()];
        let add = [Operation::TxtAdd(value(A))];
        assert!(needs_held(&[], &add, "alice"));
        let plan = resolve(&[], &add, "alice", 100, 3600, &held);
        assert_eq!(plan.already_held, [value(A)]);
        assert!(plan.operations.is_empty() && plan.entries.is_empty());
        // A value another principal recorded is shared, and so recorded for this one too.
        let bobs = [entry(A, 90, "bob")];
        let plan = resolve(&bobs, &add, "alice", 100, 3600, &held);
        assert!(plan.already_held.is_empty());
        assert_eq!(plan.entries, [entry(A, 90, "bob"), entry(A, 100, "alice")]);
        // The user's own value is refreshed without asking the registrar.
        assert!(!needs_held(&[entry(A, 90, "alice")], &add, "alice"));
    }

    #[test]
    fn caps_refuse_new_values_but_never_a_cleanup() {
        let now = 10_000;
        let mine: Vec<TxtEntry> = (0..PER_PRINCIPAL)
            .map(|n| entry(&nth(n), now - 1, "alice"))
            .collect();
        let held: Vec<String> = mine.iter().map(|e| e.value.clone()).collect();
        let add = [Operation::TxtAdd(value(&nth(99)))];
        let plan = resolve(&mine, &add, "alice", now, 3600, &held);
        assert_eq!(plan.refused, Some(Cap::Principal));
        assert!(plan.operations.is_empty());
        assert_eq!(plan.entries, mine, "nothing recorded");
        // Bob may still add his own, and Alice may refresh and remove hers.
        let plan = resolve(&mine, &add, "bob", now, 3600, &held);
        assert_eq!(plan.refused, None);
        let again = [Operation::TxtAdd(value(&nth(0)))];
        assert_eq!(
            resolve(&mine, &again, "alice", now, 3600, &held).refused,
            None
        );
        let plan = resolve(&mine, &[Operation::TxtClear], "alice", now, 3600, &held);
        assert_eq!((plan.refused, plan.operations.len()), (None, PER_PRINCIPAL));
        // Values by hand count towards the name's cap; stale ones do not.
        let by_hand: Vec<String> = (0..PER_NAME).map(|n| format!("by hand {n}")).collect();
        let plan = resolve(&[], &add, "bob", now, 3600, &by_hand);
        assert_eq!(plan.refused, Some(Cap::Name));
        let fewer = &by_hand[1..];
        assert_eq!(resolve(&[], &add, "bob", now, 3600, fewer).refused, None);
        let mut full = fewer.to_vec();
        full.push(nth(0));
        let stale = [entry(&nth(0), now - 3600, "alice")];
        let plan = resolve(&stale, &add, "bob", now, 3600, &full);
        assert_eq!(plan.refused, None);
        assert_eq!(
            plan.operations,
            [
                Operation::TxtAdd(value(&nth(99))),
                Operation::TxtRemove(value(&nth(0)))
            ]
        );
    }

    #[test]
    fn edits_keep_other_values_and_their_order() {
        let current = vec!["other".to_string(), A.to_string()];
        let ops = [Operation::TxtRemove(value(A)), Operation::TxtAdd(value(B))];
        assert_eq!(edited(&current, &ops), ["other", B]);
        let both = [Operation::TxtRemove(value(A)), Operation::TxtAdd(value(A))];
        assert_eq!(edited(&current, &both), current);
        assert_eq!(
            edited(&[], &[Operation::TxtRemove(value(A))]),
            Vec::<String>::new()
        );
    }
}

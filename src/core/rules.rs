//! The rules local state decides by, as pure functions: a repeat answered from state, the
//! abuse limit, and what is remembered after a change.

use std::net::IpAddr;

use super::operation::{Operation, RrType};
use crate::backend::{KnownRecord, PerFamily, RecordOutcome};
use crate::config::General;
use crate::state::{Family, HostState};

/// How `abuse_limit` is counted: at most `limit` changes within `window` seconds; 0 is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbuseLimit {
    /// Changes allowed within the window.
    pub limit: u32,
    /// The window in seconds.
    pub window: u64,
}

impl AbuseLimit {
    /// The limit the config sets.
    pub fn of(general: &General) -> AbuseLimit {
        AbuseLimit {
            limit: general.abuse_limit,
            window: general.abuse_window,
        }
    }
}

fn family(state: &HostState, rr_type: RrType) -> &Option<Family> {
    match rr_type {
        RrType::A => &state.v4,
        RrType::Aaaa => &state.v6,
        // Challenge values are kept apart, in `HostState::txt`.
        RrType::Txt => &None,
    }
}

/// The slot of an address family; None for TXT, which `core::txt` remembers.
fn family_mut(state: &mut HostState, rr_type: RrType) -> Option<&mut Option<Family>> {
    match rr_type {
        RrType::A => Some(&mut state.v4),
        RrType::Aaaa => Some(&mut state.v6),
        RrType::Txt => None,
    }
}

fn holds(family: &Option<Family>, addr: IpAddr, now: u64, window: u64) -> bool {
    family.as_ref().is_some_and(|f| {
        f.addr == addr && now.saturating_sub(f.seen_at) < window && f.seen_at <= now
    })
}

/// Every operation sets an address that was set to exactly that recently, with the TTL
/// asked for if one is. A delete is never answered from state: state does not know what
/// was added by hand since.
pub fn is_cached(
    state: &HostState,
    operations: &[Operation],
    ttl: Option<u32>,
    now: u64,
    window: u64,
) -> bool {
    window != 0
        && operations.iter().all(|op| match op {
            Operation::Set(addr) => {
                let family = family(state, RrType::of(*addr));
                holds(family, *addr, now, window)
                    && ttl.is_none_or(|t| family.as_ref().is_some_and(|f| f.ttl == Some(t)))
            }
            // Known only once the record is read.
            // A challenge value is added or removed every time: a repeat is rare, and the
            // stale values of the name go on every request.
            Operation::Delete(_)
            | Operation::SetPrefix(_)
            | Operation::TxtAdd(_)
            | Operation::TxtRemove(_)
            | Operation::TxtClear => false,
        })
}

/// The changes remembered within the window.
pub fn recent(state: &HostState, now: u64, window: u64) -> usize {
    state
        .changes
        .iter()
        .filter(|t| in_window(**t, now, window))
        .count()
}

/// A change time inside the window. A time ahead of the clock (a clock set back since, or a
/// damaged file) is not: it would otherwise hold a host in `abuse` until that time passes.
fn in_window(time: u64, now: u64, window: u64) -> bool {
    time <= now && now - time < window
}

/// The host changed `limit` times within the window and this request would change it
/// again (a repeat of the current address is never abuse; a delete may always change).
pub fn is_abuse(state: &HostState, operations: &[Operation], now: u64, abuse: AbuseLimit) -> bool {
    if abuse.limit == 0 {
        return false;
    }
    let would_change = operations.iter().any(|op| match op {
        Operation::Set(addr) => family(state, RrType::of(*addr))
            .as_ref()
            .is_none_or(|f| f.addr != *addr),
        Operation::Delete(_) | Operation::SetPrefix(_) => true,
        // ACME clients add and remove several values per renewal, and stale ones are
        // removed by the next request that comes: none counts towards the limit.
        Operation::TxtAdd(_) | Operation::TxtRemove(_) | Operation::TxtClear => false,
    });
    would_change && recent(state, now, abuse.window) >= abuse.limit as usize
}

/// Records whose last write state remembers with a TTL: only such a record may be written
/// without reading it first.
pub fn known_records(state: &HostState) -> PerFamily<KnownRecord> {
    let known = |family: &Option<Family>| {
        family
            .as_ref()
            .and_then(|f| f.ttl.map(|ttl| KnownRecord { addr: f.addr, ttl }))
    };
    PerFamily {
        v4: known(&state.v4),
        v6: known(&state.v6),
    }
}

/// The state after a successful (changed or unchanged) record. A TTL is kept only when
/// the registrar just wrote it, or for an unchanged address whose TTL was already known. A
/// deleted type is forgotten, so no later repeat is answered from what was there.
pub fn remember(
    mut state: HostState,
    operations: &[Operation],
    user: &str,
    now: u64,
    outcome: &RecordOutcome,
    abuse: AbuseLimit,
) -> HostState {
    let (changed, written) = match outcome {
        RecordOutcome::Changed { written_ttl, .. } => (true, *written_ttl),
        _ => (false, PerFamily::default()),
    };
    for op in operations {
        let rr_type = op.rr_type();
        let Some(slot) = family_mut(&mut state, rr_type) else {
            continue;
        };
        *slot = op.address().map(|addr| {
            let written = match rr_type {
                RrType::A => written.v4,
                _ => written.v6,
            };
            Family {
                addr,
                seen_at: now,
                ttl: written.or_else(|| {
                    slot.as_ref()
                        .filter(|f| !changed && f.addr == addr)
                        .and_then(|f| f.ttl)
                }),
                by: user.to_string(),
            }
        });
    }
    if changed && operations.iter().any(|op| !op.is_txt()) {
        state.changes.push(now);
    }
    // Only the newest `limit` changes inside the window can decide `abuse`; keeping more
    // would let the state file grow with every change when the limit is off.
    state.changes.retain(|t| in_window(*t, now, abuse.window));
    let excess = state.changes.len().saturating_sub(abuse.limit as usize);
    state.changes.drain(..excess);
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: AbuseLimit = AbuseLimit {
        limit: 2,
        window: 3600,
    };

    fn set(addr: &str) -> Vec<Operation> {
        vec![Operation::Set(addr.parse().unwrap())]
    }

    fn family(addr: &str, seen_at: u64) -> Option<Family> {
        Some(Family {
            addr: addr.parse().unwrap(),
            seen_at,
            ttl: Some(300),
            by: "alice".into(),
        })
    }

    #[test]
    fn change_times_ahead_of_the_clock_do_not_count() {
        let now = 1_000_000;
        let state = HostState {
            changes: vec![now - 10, now + 3600, now + 86_400 * 365],
            ..HostState::default()
        };
        assert_eq!(recent(&state, now, LIMIT.window), 1);
        let ops = set("192.0.2.1");
        assert!(!is_abuse(&state, &ops, now, LIMIT));
        let outcome = RecordOutcome::Changed {
            previous: PerFamily::default(),
            written_ttl: PerFamily::default(),
        };
        let next = remember(state, &ops, "alice", now, &outcome, LIMIT);
        assert_eq!(next.changes, vec![now - 10, now]);
    }

    #[test]
    fn only_a_recent_identical_set_is_answered_from_state() {
        let now = 1_000_000;
        let state = HostState {
            v4: family("192.0.2.1", now - 10),
            ..HostState::default()
        };
        assert!(is_cached(&state, &set("192.0.2.1"), None, now, 600));
        assert!(!is_cached(&state, &set("192.0.2.1"), None, now, 0));
        assert!(!is_cached(&state, &set("192.0.2.1"), None, now + 600, 600));
        assert!(!is_cached(&state, &set("192.0.2.2"), None, now, 600));
        assert!(!is_cached(&state, &set("2001:db8::1"), None, now, 600));
        assert!(!is_cached(
            &state,
            &[Operation::Delete(RrType::A)],
            None,
            now,
            600
        ));
    }

    #[test]
    fn a_ttl_asked_for_is_answered_from_state_only_when_state_knows_it() {
        let now = 1_000_000;
        let mut state = HostState {
            v4: family("192.0.2.1", now - 10),
            ..HostState::default()
        };
        assert!(!is_cached(&state, &set("192.0.2.1"), Some(600), now, 600));
        state.v4.as_mut().unwrap().ttl = Some(300);
        assert!(!is_cached(&state, &set("192.0.2.1"), Some(600), now, 600));
        assert!(is_cached(&state, &set("192.0.2.1"), Some(300), now, 600));
        assert!(is_cached(&state, &set("192.0.2.1"), None, now, 600));
    }

    #[test]
    fn a_delete_forgets_the_type_and_counts_as_a_change() {
        let now = 1_000_000;
        let state = HostState {
            v4: family("192.0.2.1", now - 10),
            v6: family("2001:db8::1", now - 10),
            changes: vec![now - 20, now - 10],
            txt: Vec::new(),
        };
        let ops = [Operation::Delete(RrType::A)];
        assert!(is_abuse(&state, &ops, now, LIMIT));
        let outcome = RecordOutcome::Changed {
            previous: PerFamily {
                v4: Some(vec!["192.0.2.1".into()]),
                v6: None,
            },
            written_ttl: PerFamily::default(),
        };
        let next = remember(state.clone(), &ops, "bob", now, &outcome, LIMIT);
        assert_eq!(next.v4, None);
        assert_eq!(next.v6, state.v6);
        assert_eq!(next.changes, vec![now - 10, now]);
        // Nothing was there: forgotten all the same, but no change is counted.
        let next = remember(state, &ops, "bob", now, &RecordOutcome::Unchanged, LIMIT);
        assert_eq!((next.v4, next.changes.len()), (None, 2));
    }
}

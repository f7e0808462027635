//! Stage two: what local state can answer, and what is left for the registrars, grouped
//! into one change per (account, zone) in request order. It reads state and asks where a
//! name lives only through the functions passed in; it writes nothing.

use std::ops::RangeInclusive;

use super::operation::{self, Operation};
use super::prefixes;
use super::rules::{self, AbuseLimit};
use super::{Context, Decided, Outcome, Words};
use crate::backend::{BackendError, PerFamily, RecordChange, ZoneChange};
use crate::config::General;
use crate::hostname::Hostname;
use crate::log::Log;
use crate::state::{Damaged, HostState};

/// Reads a host's state: None when there is none, Damaged when a file cannot be used.
pub type LoadState<'a> = Box<dyn Fn(&Hostname) -> Result<Option<HostState>, Damaged> + 'a>;
/// Finds the account (its index) and zone of a name, asking a registrar if need be.
pub type Locate<'a> = Box<dyn Fn(&Hostname) -> Result<Option<(usize, String)>, BackendError> + 'a>;

/// The TTLs the account at an index accepts.
pub type TtlRange<'a> = Box<dyn Fn(usize) -> RangeInclusive<u32> + 'a>;

/// What planning reads.
pub struct Inputs<'a> {
    /// Limits and policies.
    pub general: &'a General,
    /// State per host.
    pub load: LoadState<'a>,
    /// Account and zone per host.
    pub locate: Locate<'a>,
    /// TTL limits per account.
    pub ttl_range: TtlRange<'a>,
    /// Where log lines go.
    pub log: &'a Log,
    /// The dialect's words.
    pub words: Words,
}

impl<'a> Inputs<'a> {
    /// The inputs a request's context provides: its store and its registrar accounts.
    pub fn of(ctx: &'a Context<'a>) -> Inputs<'a> {
        Inputs {
            general: ctx.general,
            load: Box::new(|name| ctx.store.load(name)),
            locate: Box::new(|name| ctx.registrars.locate(name, ctx.clock, ctx.log)),
            ttl_range: Box::new(|account| ctx.registrars.account(account).ttl_range()),
            log: ctx.log,
            words: ctx.words,
        }
    }
}

/// One zone's share of the request, for the account at `account` in the registrar list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneWork {
    /// Index of the account.
    pub account: usize,
    /// The records to change in the zone.
    pub change: ZoneChange,
}

/// The plan: hosts already decided, and the zone changes left to apply.
#[derive(Debug, Default)]
pub struct Planned {
    /// Hosts answered without a registrar, in request order.
    pub decided: Vec<(Hostname, Outcome)>,
    /// Their summary details.
    pub details: Vec<String>,
    /// One change per (account, zone), in order of first appearance.
    pub zones: Vec<ZoneWork>,
}

/// One distinct allowed name and what to do to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The name.
    pub name: Hostname,
    /// Its operations, at most one per record type.
    pub operations: Vec<Operation>,
}

/// Plans the request for the distinct allowed names `wanted`, at time `now`.
pub fn plan(wanted: &[Wanted], ttl: Option<u32>, now: u64, inputs: &Inputs<'_>) -> Planned {
    let general = inputs.general;
    let mut decided = Decided::default();
    let mut zones: Vec<ZoneWork> = Vec::new();
    for Wanted { name, operations } in wanted {
        let Some(operations) = configured(name, operations, inputs, &mut decided) else {
            continue;
        };
        let Some(state) = read_state(name, inputs, &mut decided) else {
            continue;
        };
        let seen = prefixes::with_remembered_id(&operations, &state);
        if rules::is_cached(&state, &seen, ttl, now, general.cache_seconds) {
            let before = format!(" {}", operation::describe(&seen));
            decided.note(
                name,
                Outcome::Unchanged,
                &before,
                " (from state)",
                inputs.words,
            );
            continue;
        }
        if rules::is_abuse(&state, &seen, now, AbuseLimit::of(general)) {
            refuse_as_abuse(name, &state, now, inputs, &mut decided);
            continue;
        }
        match (inputs.locate)(name) {
            Ok(Some((account, _))) if !fits(ttl, &(inputs.ttl_range)(account)) => {
                refuse_ttl(
                    name,
                    ttl,
                    &(inputs.ttl_range)(account),
                    inputs,
                    &mut decided,
                );
            }
            Ok(Some((account, zone))) => add(&mut zones, account, zone, name, &operations, ttl),
            Ok(None) => {
                inputs.log.warn(format_args!(
                    "{name} is in no zone of the configured registrars; add its zone to a `zones` key; answering {}",
                    (inputs.words)(Outcome::NoZone)
                ));
                decided.note(name, Outcome::NoZone, "", " (no zone)", inputs.words);
            }
            Err(e) => {
                inputs.log.error(format_args!("{e}"));
                decided.note(name, Outcome::of_error(&e), "", "", inputs.words);
            }
        }
    }
    Planned {
        decided: decided.decided,
        details: decided.details,
        zones,
    }
}

/// The operations with the host's configured interface ID joined to a prefix, or None
/// when the address made cannot be used.
fn configured(
    name: &Hostname,
    operations: &[Operation],
    inputs: &Inputs<'_>,
    out: &mut Decided,
) -> Option<Vec<Operation>> {
    match prefixes::with_configured_id(name, operations, inputs.general) {
        Ok(operations) => Some(operations),
        Err(e) => {
            inputs.log.warn(format_args!(
                "{name}: its interface ID ([host:{name}] ipv6_interface_id) with the prefix asked for: {e}; answering {}",
                (inputs.words)(Outcome::BadAddress)
            ));
            out.note(name, Outcome::BadAddress, "", " (prefix)", inputs.words);
            None
        }
    }
}

/// Adds a host to its zone's change, starting one for a zone not seen yet.
fn add(
    zones: &mut Vec<ZoneWork>,
    account: usize,
    zone: String,
    name: &Hostname,
    operations: &[Operation],
    ttl: Option<u32>,
) {
    let record = RecordChange {
        host: name.clone(),
        name: name.relative_to(&zone).unwrap_or_default(),
        operations: operations.to_vec(),
        ttl,
        // Filled in under the zone's lock.
        known: PerFamily::default(),
    };
    match zones
        .iter_mut()
        .find(|w| w.account == account && w.change.zone == zone)
    {
        Some(work) => work.change.records.push(record),
        None => zones.push(ZoneWork {
            account,
            change: ZoneChange {
                zone,
                records: vec![record],
                force: false,
            },
        }),
    }
}

/// No TTL asked for, or one the account accepts.
fn fits(ttl: Option<u32>, range: &RangeInclusive<u32>) -> bool {
    ttl.is_none_or(|t| range.contains(&t))
}

/// Refuses a TTL the zone's backend would not take, before anything is sent to it.
fn refuse_ttl(
    name: &Hostname,
    ttl: Option<u32>,
    range: &RangeInclusive<u32>,
    inputs: &Inputs<'_>,
    out: &mut Decided,
) {
    inputs.log.warn(format_args!(
        "{name}: TTL {} is outside {}..{}, what its zone's backend accepts; the client must ask for a TTL within it, or none to keep the record's; answering {}",
        ttl.unwrap_or_default(),
        range.start(),
        range.end(),
        (inputs.words)(Outcome::BadTtl)
    ));
    out.note(name, Outcome::BadTtl, "", " (ttl)", inputs.words);
}

/// The host's remembered state, or None when it is refused. A state file that is there but
/// unusable must not reset the abuse limit, or damaging it would be a way around the limit:
/// the host counts as over the limit until the admin removes the file.
pub(super) fn read_state(
    name: &Hostname,
    inputs: &Inputs<'_>,
    out: &mut Decided,
) -> Option<HostState> {
    match (inputs.load)(name) {
        Ok(state) => Some(state.unwrap_or_default()),
        Err(damaged) if inputs.general.abuse_limit == 0 => {
            inputs.log.warn(format_args!(
                "{damaged}; read as no state (abuse_limit = 0), and replaced once the update succeeds"
            ));
            Some(HostState::default())
        }
        Err(damaged) => {
            inputs.log.error(format_args!(
                "{damaged}; {name} counts as over its abuse_limit until the admin removes {}; answering {}",
                damaged.path.display(),
                (inputs.words)(Outcome::Abuse)
            ));
            out.note(name, Outcome::Abuse, "", " (damaged state)", inputs.words);
            None
        }
    }
}

/// Refuses a host that changed too often, saying until when.
pub(super) fn refuse_as_abuse(
    name: &Hostname,
    state: &HostState,
    now: u64,
    inputs: &Inputs<'_>,
    out: &mut Decided,
) {
    let general = inputs.general;
    inputs.log.warn(format_args!(
        "{name} changed {} times within {} s (abuse_limit = {}); answering {} until that calms down",
        rules::recent(state, now, general.abuse_window),
        general.abuse_window,
        general.abuse_limit,
        (inputs.words)(Outcome::Abuse)
    ));
    out.note(name, Outcome::Abuse, "", "", inputs.words);
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::net::IpAddr;
    use std::path::Path;

    use super::*;
    use crate::config::Config;
    use crate::log::Level;
    use crate::state::Family;

    fn word(outcome: Outcome) -> &'static str {
        match outcome {
            Outcome::Unchanged => "same",
            Outcome::Abuse => "busy",
            Outcome::NoZone => "elsewhere",
            _ => "other",
        }
    }

    fn wanted(names: &[Hostname], operations: &[Operation]) -> Vec<Wanted> {
        names
            .iter()
            .map(|name| Wanted {
                name: name.clone(),
                operations: operations.to_vec(),
            })
            .collect()
    }

    fn general() -> General {
        Config::parse_str(
            "[default]\nabuse_limit = 1\n[gandi]\ntoken = t\n",
            Path::new("unit.ini"),
        )
        .unwrap()
        .general
    }

    #[test]
    fn state_answers_what_it_can_and_the_rest_is_grouped_by_zone() {
        let now = 1_000_000;
        let general = general();
        let log = Log::to(Level::Error, Box::new(std::io::sink()));
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        let located = Cell::new(0);
        let inputs = Inputs {
            general: &general,
            load: Box::new(|name: &Hostname| {
                Ok(match name.as_str() {
                    "cached.example.net" => Some(HostState {
                        v4: Some(Family {
                            addr,
                            seen_at: now - 5,
                            ttl: None,
                            by: "a".into(),
                        }),
                        ..HostState::default()
                    }),
                    "busy.example.net" => Some(HostState {
                        changes: vec![now - 5],
                        ..HostState::default()
                    }),
                    _ => None,
                })
            }),
            locate: Box::new(|name: &Hostname| {
                located.set(located.get() + 1);
                Ok(match name.as_str() {
                    "lost.example.org" => None,
                    n if n.ends_with(".example.com") => Some((1, "example.com".to_string())),
                    _ => Some((0, "example.net".to_string())),
                })
            }),
            ttl_range: Box::new(|_| 60..=86_400),
            log: &log,
            words: word,
        };
        let names: Vec<Hostname> = [
            "a.example.net",
            "cached.example.net",
            "b.example.com",
            "busy.example.net",
            "lost.example.org",
            "c.example.net",
        ]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
        let planned = plan(&wanted(&names, &[Operation::Set(addr)]), None, now, &inputs);
        assert_eq!(
            planned.details,
            [
                "cached.example.net A 192.0.2.1 same (from state)",
                "busy.example.net busy",
                "lost.example.org elsewhere (no zone)"
            ]
        );
        assert_eq!(located.get(), 4, "no zone is looked up for a decided host");
        let zones: Vec<(usize, &str, Vec<&str>)> = planned
            .zones
            .iter()
            .map(|w| {
                let names = w.change.records.iter().map(|r| r.name.as_str()).collect();
                (w.account, w.change.zone.as_str(), names)
            })
            .collect();
        assert_eq!(
            zones,
            [
                (0, "example.net", vec!["a", "c"]),
                (1, "example.com", vec!["b"])
            ]
        );
    }

    #[test]
    fn a_ttl_outside_the_accounts_range_is_refused_before_any_change() {
        let general = general();
        let log = Log::to(Level::Error, Box::new(std::io::sink()));
        let inputs = Inputs {
            general: &general,
            load: Box::new(|_: &Hostname| Ok(None)),
            locate: Box::new(|name: &Hostname| {
                Ok(Some(match name.as_str() {
                    n if n.ends_with(".example.com") => (1, "example.com".to_string()),
                    _ => (0, "example.net".to_string()),
                }))
            }),
            ttl_range: Box::new(|account| if account == 0 { 60..=600 } else { 300..=600 }),
            log: &log,
            words: word,
        };
        let names: Vec<Hostname> = ["a.example.net", "b.example.com"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        let set = [Operation::Set("192.0.2.1".parse().unwrap())];
        let planned = plan(&wanted(&names, &set), Some(120), 1_000_000, &inputs);
        assert_eq!(planned.details, ["b.example.com other (ttl)"]);
        assert_eq!(planned.decided[0].1, Outcome::BadTtl);
        assert_eq!(planned.zones.len(), 1);
        assert_eq!(planned.zones[0].change.records[0].ttl, Some(120));
        let planned = plan(&wanted(&names, &set), None, 1_000_000, &inputs);
        assert_eq!(
            planned.zones.len(),
            2,
            "no TTL asked for is always accepted"
        );
    }
}

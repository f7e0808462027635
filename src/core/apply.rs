//! Stage three, the only one that writes: each zone's change under that zone's lock, with
//! the hosts' state read again and the abuse limit checked again under it, applied by the
//! account's registrar, and the new state saved; the lock goes to [`super::Pending`], which
//! makes the saves durable and releases it once the answer is out.

use std::time::{Duration, Instant};

use super::operation::{self, RrType};
use super::plan::{self, ZoneWork};
use super::prefixes::{self, Unresolved};
use super::rules::{self, AbuseLimit};
use super::txt;
use super::{Context, Decided, Outcome, Words, unix};
use crate::backend::{PerFamily, RecordChange, RecordOutcome, Registrar};
use crate::hostname::Hostname;
use crate::lock::lock_zone;
use crate::log::{Log, printable};
use crate::state::HostState;

/// Applies one zone's share of the request. `lock_budget` bounds the waiting for locks of
/// the whole request, however many zones it touches, so `timeout` + `lock_wait` bounds it.
pub fn apply(work: ZoneWork, user: &str, ctx: &Context<'_>, lock_budget: &mut Duration) -> Decided {
    let registrar = ctx.registrars.account(work.account);
    let mut change = work.change;
    let mut out = Decided::default();
    let asked = Instant::now();
    let locked = lock_zone(ctx.store, registrar.label(), &change.zone, *lock_budget);
    *lock_budget = lock_budget.saturating_sub(asked.elapsed());
    let lock = match locked {
        Ok(lock) => lock,
        Err(e) => {
            ctx.log.error(format_args!(
                "{}: {e}; answering {}",
                registrar.label(),
                (ctx.words)(Outcome::ServerSide)
            ));
            for record in &change.records {
                out.note(&record.host, Outcome::ServerSide, "", "", ctx.words);
            }
            return out;
        }
    };
    // The hosts' state is read again under the lock: a request that held it before may
    // have just written these names. The clock is read again too: the change happens now,
    // and a SchlundTech one-time code must be current however long the lock took.
    let at = unix((ctx.clock)());
    let inputs = plan::Inputs::of(ctx);
    let mut states: Vec<HostState> = Vec::new();
    // Requests that arrived together all passed the abuse limit before the lock; the state
    // as it is now decides.
    change.records.retain_mut(|record| {
        let Some(mut state) = plan::read_state(&record.host, &inputs, &mut out) else {
            return false;
        };
        let seen = prefixes::with_remembered_id(&record.operations, &state);
        if rules::is_abuse(&state, &seen, at, AbuseLimit::of(ctx.general)) {
            plan::refuse_as_abuse(&record.host, &state, at, &inputs, &mut out);
            return false;
        }
        record.known = rules::known_records(&state);
        // Saved only once the registrar has done what the record now asks.
        match challenge_plan(record, &state, user, at, &change.zone, registrar, ctx) {
            Challenge::None => {}
            Challenge::Entries(entries) => state.txt = entries,
            Challenge::Refused(outcome, detail) => {
                out.note(&record.host, outcome, "", detail, ctx.words);
                return false;
            }
        }
        if !resolve_prefix(record, &change.zone, registrar, ctx, &mut out) {
            return false;
        }
        states.push(state);
        true
    });
    if change.records.is_empty() {
        return out;
    }
    match registrar.apply(&change, ctx.clock, ctx.log) {
        Ok(outcomes) => {
            for ((record, outcome), state) in change.records.iter().zip(outcomes).zip(states) {
                settle(record, &outcome, state, user, at, ctx);
                out.details.push(describe(record, &outcome, ctx.words));
                if let RecordOutcome::Changed { previous, .. } = &outcome {
                    out.replaced.push((record.host.clone(), previous.clone()));
                }
                out.decided
                    .push((record.host.clone(), Outcome::of_record(&outcome)));
            }
            ctx.pending.keep(ctx.store, lock);
        }
        Err(error) => {
            ctx.log.error(format_args!("{error}"));
            for record in &change.records {
                out.note(&record.host, Outcome::of_error(&error), "", "", ctx.words);
            }
        }
    }
    out
}

/// What the challenge values of a record come to.
enum Challenge {
    /// The record changes no challenge value.
    None,
    /// The values recorded once the registrar has done what the record now asks.
    Entries(Vec<crate::state::TxtEntry>),
    /// Not done; the outcome and the summary's detail.
    Refused(Outcome, &'static str),
}

/// For challenge values, what they come to given the values recorded for the host and,
/// when a new value is added, those the registrar holds: the record's operations are
/// replaced by what is to be done. The values asked for but left alone are logged.
fn challenge_plan(
    record: &mut RecordChange,
    state: &HostState,
    user: &str,
    at: u64,
    zone: &str,
    registrar: &dyn Registrar,
    ctx: &Context<'_>,
) -> Challenge {
    if !record.operations.iter().any(operation::Operation::is_txt) {
        return Challenge::None;
    }
    let held = match txt::needs_held(&state.txt, &record.operations, user) {
        false => Vec::new(),
        true => match registrar.current(zone, record, RrType::Txt, ctx.clock, ctx.log) {
            Ok(values) => values,
            Err(error) => {
                ctx.log.error(format_args!("{error}"));
                return Challenge::Refused(Outcome::of_error(&error), "");
            }
        },
    };
    let max_age = ctx.general.acme_txt_max_age;
    let plan = txt::resolve(&state.txt, &record.operations, user, at, max_age, &held);
    let who = printable(user);
    if let Some(cap) = plan.refused {
        let outcome = Outcome::Abuse;
        ctx.log.warn(format_args!(
            "user {who}: {} {cap}; not added; answering {}",
            record.host,
            (ctx.words)(outcome)
        ));
        return Challenge::Refused(outcome, " (too many TXT values)");
    }
    for value in &plan.not_ours {
        ctx.log.warn(format_args!(
            "user {who}: TXT value {value} at {} was not set through ddns-cgi for this user; left alone",
            record.host
        ));
    }
    for value in &plan.already_held {
        ctx.log.warn(format_args!(
            "user {who}: TXT value {value} at {} was already there, not set through ddns-cgi; it is not recorded for this user, so their cleanup leaves it alone",
            record.host
        ));
    }
    record.operations = plan.operations;
    Challenge::Entries(plan.entries)
}

/// Joins a record's prefix to the host part of the host's AAAA as the registrar has it now
/// (the lock is held, so it cannot change before the write). False when the host is
/// answered on its own: no single AAAA to take the ID from, an unusable address, or a
/// registrar failure.
fn resolve_prefix(
    record: &mut RecordChange,
    zone: &str,
    registrar: &dyn Registrar,
    ctx: &Context<'_>,
    out: &mut Decided,
) -> bool {
    if !prefixes::has_prefix(&record.operations) {
        return true;
    }
    let allow_private = ctx.general.allow_private_addresses;
    let resolved = registrar
        .current(zone, record, RrType::Aaaa, ctx.clock, ctx.log)
        .map(|values| prefixes::with_current_id(&record.operations, &values, allow_private));
    match resolved {
        Ok(Ok(operations)) => {
            record.operations = operations;
            true
        }
        Ok(Err(why)) => {
            unresolved(&record.host, &why, ctx, out);
            false
        }
        Err(error) => {
            ctx.log.error(format_args!("{error}"));
            out.note(&record.host, Outcome::of_error(&error), "", "", ctx.words);
            false
        }
    }
}

/// The admin's line and the outcome for a prefix that gave no address.
fn unresolved(host: &Hostname, why: &Unresolved, ctx: &Context<'_>, out: &mut Decided) {
    let (outcome, detail) = match why {
        Unresolved::NoInterfaceId { current } => {
            let outcome = Outcome::NoRecord;
            ctx.log.warn(format_args!(
                "{host}: no interface ID to join to the IPv6 prefix: it is not configured and the host has {} AAAA record{}; set ipv6_interface_id in a [host:{host}] section (the host part, such as ::211:32ff:fe12:3456); answering {}",
                current,
                if *current == 1 { "" } else { "s" },
                (ctx.words)(outcome)
            ));
            (outcome, " (no interface ID)")
        }
        Unresolved::Address(e) => {
            let outcome = Outcome::BadAddress;
            ctx.log.warn(format_args!(
                "{host}: the IPv6 prefix with the host part of its current AAAA gives {e}; answering {}",
                (ctx.words)(outcome)
            ));
            (outcome, " (prefix)")
        }
    };
    out.note(host, outcome, "", detail, ctx.words);
}

/// Logs a record's problem, and saves the new state of a record that is as asked.
fn settle(
    record: &RecordChange,
    outcome: &RecordOutcome,
    state: HostState,
    user: &str,
    at: u64,
    ctx: &Context<'_>,
) {
    log_record_problem(&record.host, outcome, ctx.log, ctx.words);
    if matches!(
        outcome,
        RecordOutcome::Changed { .. } | RecordOutcome::Unchanged
    ) {
        let limit = AbuseLimit::of(ctx.general);
        let next = rules::remember(state, &record.operations, user, at, outcome, limit);
        if let Err(e) = ctx.store.save(&record.host, &next) {
            ctx.log.warn(format_args!("{e}"));
        }
    }
}

/// Values replaced that one summary line names: a name may hold thousands of records (with
/// `collapse_round_robin`), and the line must stay a line.
const REPLACED_SHOWN: usize = 8;

/// The replaced values for the summary line: `(new)`, or the first few and how many more.
fn replaced(previous: &PerFamily<Vec<String>>) -> String {
    let previous: Vec<&String> = previous.v4.iter().chain(&previous.v6).flatten().collect();
    match previous.len() {
        0 => "(new)".to_string(),
        n if n <= REPLACED_SHOWN => join(&previous),
        n => format!(
            "{} and {} more",
            join(&previous[..REPLACED_SHOWN]),
            n - REPLACED_SHOWN
        ),
    }
}

fn join(values: &[&String]) -> String {
    values
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The summary detail of one record: for challenge values, what was added and removed.
fn describe(record: &RecordChange, outcome: &RecordOutcome, words: Words) -> String {
    let host = &record.host;
    let operations = &record.operations;
    let word = words(Outcome::of_record(outcome));
    let txt = operations.iter().all(operation::Operation::is_txt);
    match outcome {
        RecordOutcome::Changed { .. } | RecordOutcome::Unchanged if txt => {
            match operations.is_empty() {
                true => format!("{host} TXT (nothing of this user's to remove) {word}"),
                false => format!("{host} {} {word}", operation::describe(operations)),
            }
        }
        RecordOutcome::Changed { previous, .. } => format!(
            "{host} {} -> {} {word}",
            replaced(previous),
            operation::describe(operations)
        ),
        RecordOutcome::Unchanged => format!("{host} {} {word}", operation::describe(operations)),
        RecordOutcome::Missing { rr_type } => format!("{host} {word} (no {rr_type} record)"),
        RecordOutcome::RoundRobin { rr_type, count } => {
            format!("{host} {word} ({count} {rr_type} records)")
        }
        RecordOutcome::Alias { rr_type } => format!("{host} {word} (CNAME, no {rr_type} record)"),
        RecordOutcome::NotPlain { rr_type, .. } => {
            format!("{host} {word} ({rr_type} is not a plain record)")
        }
        RecordOutcome::Failed(_) => format!("{host} {word}"),
    }
}

/// The admin's line for a record that is not as asked: what to fix.
fn log_record_problem(host: &Hostname, outcome: &RecordOutcome, log: &Log, words: Words) {
    let word = words(Outcome::of_record(outcome));
    match outcome {
        RecordOutcome::Missing { rr_type } => log.warn(format_args!(
            "{host} has no {rr_type} record; create it at the registrar or set create_missing_records = yes; answering {word}"
        )),
        RecordOutcome::RoundRobin { rr_type, count } => log.warn(format_args!(
            "{host} holds {count} {rr_type} records; refusing to replace them by one (set collapse_round_robin = yes to allow it); answering {word}"
        )),
        RecordOutcome::Alias { rr_type } => log.warn(format_args!(
            "{host} is a CNAME, and DNS allows no {rr_type} record beside it; point the router at the name the CNAME leads to, or replace the CNAME at the registrar; answering {word}"
        )),
        RecordOutcome::NotPlain { rr_type, why } => log.warn(format_args!(
            "{host}: its {rr_type} record cannot be deleted: {why}; nothing was changed; answering {word}"
        )),
        RecordOutcome::Failed(error) => log.error(format_args!("{host}: {error}")),
        RecordOutcome::Changed { .. } | RecordOutcome::Unchanged => {}
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::net::Ipv4Addr;
    use std::path::Path;
    use std::rc::Rc;
    use std::time::Duration;

    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::auth::web_server_user;
    use crate::backend::{BackendError, Clock, PerFamily, Registrar, Registrars, ZoneChange};
    use crate::config::Config;
    use crate::core::operation::Operation;
    use crate::core::{HostRequest, UpdateRequest, run};
    use crate::log::{Level, Log};
    use crate::state::Store;

    #[test]
    fn the_summary_names_a_few_replaced_values_and_counts_the_rest() {
        let values = |n: usize| PerFamily {
            v4: Some((1..=n).map(|i| format!("192.0.2.{i}")).collect::<Vec<_>>()),
            v6: None,
        };
        assert_eq!(replaced(&PerFamily::default()), "(new)");
        assert_eq!(replaced(&values(2)), "192.0.2.1,192.0.2.2");
        assert_eq!(replaced(&values(8)).split(',').count(), 8);
        let many = replaced(&values(100_000));
        assert!(
            many.starts_with("192.0.2.1,192.0.2.2,") && many.ends_with(",192.0.2.8 and 99992 more"),
            "{many}"
        );
    }

    /// A registrar for `example.net` that remembers the time each call was given.
    struct Recording {
        zones: Vec<String>,
        seen: Rc<RefCell<Vec<SystemTime>>>,
    }

    impl Registrar for Recording {
        fn label(&self) -> &str {
            "recording"
        }
        fn configured_zones(&self) -> &[String] {
            &self.zones
        }
        fn probe(&self, _clock: Clock<'_>, _log: &Log) -> Result<String, BackendError> {
            Ok(String::new())
        }
        fn discover_zone(
            &self,
            _host: &Hostname,
            _clock: Clock<'_>,
            _log: &Log,
        ) -> Result<Option<String>, BackendError> {
            Ok(None)
        }
        fn current(
            &self,
            _zone: &str,
            _record: &RecordChange,
            _rr_type: RrType,
            _clock: Clock<'_>,
            _log: &Log,
        ) -> Result<Vec<String>, BackendError> {
            Ok(Vec::new())
        }
        fn apply(
            &self,
            change: &ZoneChange,
            clock: Clock<'_>,
            _log: &Log,
        ) -> Result<Vec<RecordOutcome>, BackendError> {
            self.seen.borrow_mut().push(clock());
            Ok(change
                .records
                .iter()
                .map(|_| RecordOutcome::Changed {
                    previous: PerFamily::default(),
                    written_ttl: PerFamily::default(),
                })
                .collect())
        }
    }

    #[test]
    fn the_clock_is_read_again_under_the_lock_and_by_the_registrar() {
        let dir = std::env::temp_dir().join(format!("ddns-update-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let text = format!(
            "[default]\nallowed_hostnames = home.example.net\nstate_dir = {}\n\n[gandi]\ntoken = unit\nzones = example.net\n",
            dir.join("state").display()
        );
        let config = Config::parse_str(&text, Path::new("unit.ini")).unwrap();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let registrars = Registrars {
            list: vec![Box::new(Recording {
                zones: vec!["example.net".to_string()],
                seen: seen.clone(),
            })],
            budget: crate::budget::Budget::new(config.general.timeout),
        };
        let store = Store::new(&config.general.state_dir);
        // Each reading of the clock is 100 s after the one before, as if the lock took long.
        let readings = Cell::new(0u64);
        let clock = || {
            readings.set(readings.get() + 1);
            UNIX_EPOCH + Duration::from_secs(1_000_000 + 100 * readings.get())
        };
        let log = Log::to(Level::Error, Box::new(std::io::sink()));
        let pending = crate::core::Pending::default();
        let ctx = Context {
            acl: &config.acl,
            general: &config.general,
            registrars: &registrars,
            store: &store,
            clock: &clock,
            log: &log,
            words: crate::protocol::noip::word,
            pending: &pending,
        };
        let request = UpdateRequest {
            hosts: vec![HostRequest {
                text: "home.example.net".to_string(),
                name: "home.example.net".parse(),
            }],
            operations: Ok(vec![Operation::Set(Ipv4Addr::new(192, 0, 2, 1).into())]),
            ..UpdateRequest::default()
        };
        let alice = web_server_user("alice").unwrap();
        let ran = run(&request, &alice, &ctx, false);
        assert_eq!(ran.outcomes, vec![Outcome::Changed]);
        assert_eq!(ran.details, ["home.example.net (new) -> A 192.0.2.1 good"]);
        let reading = |n: u64| 1_000_000 + 100 * n;
        // Read at the start, once the lock is held, and by the registrar as it sends.
        assert_eq!(readings.get(), 3);
        assert_eq!(
            *seen.borrow(),
            vec![UNIX_EPOCH + Duration::from_secs(reading(3))]
        );
        // The state is saved at once, and the zone stays locked until the save is durable.
        let host: Hostname = "home.example.net".parse().unwrap();
        assert!(store.load(&host).unwrap().is_some());
        let busy = crate::lock::lock_zone(&store, "recording", "example.net", Duration::ZERO);
        assert!(busy.is_err());
        pending.finish(&log);
        assert!(crate::lock::lock_zone(&store, "recording", "example.net", Duration::ZERO).is_ok());
        // The state records the change at the time the lock was taken, not the start.
        let state = store.load(&host).unwrap().unwrap();
        assert_eq!(state.v4.unwrap().seen_at, reading(2));
        assert_eq!(state.changes, vec![reading(2)]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

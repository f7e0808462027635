//! The core: an authorised request becomes one [`ZoneChange`] per (registrar, zone), each
//! applied once under that zone's lock, and the outcomes come back as one answer per
//! requested host, in order.
//!
//! Before any registrar is asked, local state answers what it can: a repeat of the last
//! update within `cache_seconds` is `nochg`, and a host that changed too often is `abuse`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::acl::Acl;
use crate::address::{AddressError, Targets};
use crate::backend::{
    BackendError, Clock, KnownRecord, PerFamily, RecordChange, RecordOutcome, Registrars,
    ZoneChange,
};
use crate::config::General;
use crate::hostname::{Hostname, HostnameError};
use crate::lock::lock_zone;
use crate::log::{Log, printable};
use crate::outcome::{Answer, answer_for_error, answer_for_record};
use crate::state::{Family, HostState, Store};

/// One requested host name as sent, and what it parsed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRequest {
    /// The text as sent, for log lines.
    pub text: String,
    /// The normalised name, or why it is not one.
    pub name: Result<Hostname, HostnameError>,
}

/// A parsed update, the same for every dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    /// The authenticated user.
    pub user: String,
    /// Requested names, in request order, duplicates kept.
    pub hosts: Vec<HostRequest>,
    /// The addresses to set, or why they cannot be.
    pub targets: Result<Targets, AddressError>,
}

/// Everything an update needs besides the request.
pub struct Context<'a> {
    /// Who may change what.
    pub acl: &'a Acl,
    /// Limits and policies.
    pub general: &'a General,
    /// The registrars.
    pub registrars: &'a Registrars,
    /// Per-host state and zone locks.
    pub store: &'a Store,
    /// The wall clock. Read when the request starts, for the first cache and abuse
    /// decisions; again once a zone's lock is held, for the abuse check under the lock and
    /// the times the new state records, so they follow the order of the writes; and by the
    /// registrars as they send (a SchlundTech one-time code must be current then).
    pub clock: Clock<'a>,
    /// Where log lines go.
    pub log: &'a Log,
}

/// Per distinct host: what happened, for the request's summary log line.
pub type Details = Vec<String>;

/// Runs the update. `dry_run` (HEAD) stops before any registrar or state is touched.
pub fn run(request: &UpdateRequest, ctx: &Context<'_>, dry_run: bool) -> (Vec<Answer>, Details) {
    let log = ctx.log;
    let mut details = Vec::new();
    let mut answers: Vec<Option<Answer>> = vec![None; request.hosts.len()];
    let targets = match &request.targets {
        Ok(t) => t,
        Err(e) => {
            log.warn(format_args!(
                "user {}: unusable address ({e}); answering badip",
                printable(&request.user)
            ));
            let answers = request
                .hosts
                .iter()
                .map(|h| match &h.name {
                    // A name the user may not touch is nohost whatever the address.
                    Ok(name) if !ctx.acl.allows(&request.user, name) => Answer::NoHost,
                    Ok(_) => Answer::BadIp,
                    Err(_) => Answer::NotFqdn,
                })
                .collect();
            return (answers, details);
        }
    };
    let echo = targets.echo();

    // Allowed, distinct names in request order.
    let mut wanted: Vec<Hostname> = Vec::new();
    for (i, host) in request.hosts.iter().enumerate() {
        match &host.name {
            Err(e) => {
                log.warn(format_args!(
                    "user {}: `{}` is not a host name ({e}); answering notfqdn",
                    printable(&request.user),
                    printable(&host.text)
                ));
                answers[i] = Some(Answer::NotFqdn);
            }
            Ok(name) if !ctx.acl.allows(&request.user, name) => {
                log.warn(format_args!(
                    "user {} may not update {name}; add it to allowed_hostnames (or [user:{}]) if it should; answering nohost",
                    printable(&request.user),
                    printable(&request.user)
                ));
                answers[i] = Some(Answer::NoHost);
            }
            Ok(name) => {
                if !wanted.contains(name) {
                    wanted.push(name.clone());
                }
            }
        }
    }

    let mut per_name: HashMap<Hostname, Answer> = HashMap::new();
    if dry_run {
        for name in &wanted {
            per_name.insert(name.clone(), Answer::NoChg(echo.clone()));
        }
    } else {
        let now = unix((ctx.clock)());
        let mut groups: Vec<(usize, ZoneChange)> = Vec::new();
        for name in &wanted {
            let Some(state) = load_state(name, ctx, &mut details, &mut per_name) else {
                continue;
            };
            if is_cached(&state, targets, now, ctx.general.cache_seconds) {
                details.push(format!("{name} {} nochg (from state)", targets.describe()));
                per_name.insert(name.clone(), Answer::NoChg(echo.clone()));
                continue;
            }
            if is_abuse(&state, targets, now, ctx.general) {
                refuse_as_abuse(name, &state, now, ctx, &mut details, &mut per_name);
                continue;
            }
            match locate(name, ctx) {
                Ok(Some((index, zone))) => {
                    let record = RecordChange {
                        host: name.clone(),
                        name: name.relative_to(&zone).unwrap_or_default(),
                        v4: targets.v4.as_ref().map(|t| t.addr),
                        v6: targets.v6.as_ref().map(|t| t.addr),
                        // Filled in under the zone's lock.
                        known: PerFamily::default(),
                    };
                    match groups
                        .iter_mut()
                        .find(|(r, c)| *r == index && c.zone == zone)
                    {
                        Some((_, change)) => change.records.push(record),
                        None => groups.push((
                            index,
                            ZoneChange {
                                zone,
                                records: vec![record],
                            },
                        )),
                    }
                }
                Ok(None) => {
                    log.warn(format_args!(
                        "{name} is in no zone of the configured registrars; add its zone to a `zones` key; answering nohost"
                    ));
                    details.push(format!("{name} nohost (no zone)"));
                    per_name.insert(name.clone(), Answer::NoHost);
                }
                Err(e) => {
                    log.error(format_args!("{e}"));
                    details.push(format!("{name} {}", answer_for_error(&e).line()));
                    per_name.insert(name.clone(), answer_for_error(&e));
                }
            }
        }
        // `lock_wait` bounds the whole request's waiting, however many zones it touches, so
        // `timeout` + `lock_wait` bounds the request.
        let mut lock_budget = ctx.general.lock_wait;
        for (index, mut change) in groups {
            let registrar = &ctx.registrars.list[index];
            let asked = Instant::now();
            let locked = lock_zone(ctx.store, registrar.label(), &change.zone, lock_budget);
            lock_budget = lock_budget.saturating_sub(asked.elapsed());
            let lock = match locked {
                Ok(lock) => Some(lock),
                Err(e) => {
                    log.error(format_args!("{}: {e}; answering 911", registrar.label()));
                    None
                }
            };
            // The lock is held for the read-modify-write and the state it leaves. The hosts'
            // state is read again under it: a request that held it before may have just
            // written these names. The clock is read again too: the change happens now, and
            // a SchlundTech one-time code must be current however long the lock took.
            let at = unix((ctx.clock)());
            // The state of each record left in `change`, in the same order.
            let mut states: Vec<HostState> = Vec::new();
            let outcomes = match &lock {
                None => Err(None),
                Some(_) => {
                    // Requests that arrived together all passed the abuse limit before the
                    // lock; the state as it is now decides.
                    change.records.retain_mut(|record| {
                        let Some(state) =
                            load_state(&record.host, ctx, &mut details, &mut per_name)
                        else {
                            return false;
                        };
                        if is_abuse(&state, targets, at, ctx.general) {
                            refuse_as_abuse(
                                &record.host,
                                &state,
                                at,
                                ctx,
                                &mut details,
                                &mut per_name,
                            );
                            return false;
                        }
                        record.known = known_records(&state);
                        states.push(state);
                        true
                    });
                    if change.records.is_empty() {
                        Ok(Vec::new())
                    } else {
                        registrar.apply(&change, ctx.clock, log).map_err(Some)
                    }
                }
            };
            match outcomes {
                Ok(outcomes) => {
                    for ((record, outcome), state) in
                        change.records.iter().zip(outcomes).zip(states)
                    {
                        log_record_problem(&record.host, &outcome, log);
                        details.push(describe(record, &outcome, targets));
                        if matches!(
                            outcome,
                            RecordOutcome::Changed { .. } | RecordOutcome::Unchanged
                        ) {
                            let next =
                                remember(state, targets, &request.user, at, &outcome, ctx.general);
                            if let Err(e) = ctx.store.save(&record.host, &next) {
                                log.warn(format_args!("{e}"));
                            }
                        }
                        per_name.insert(record.host.clone(), answer_for_record(&outcome, &echo));
                    }
                }
                Err(error) => {
                    let answer = match &error {
                        Some(e) => {
                            log.error(format_args!("{e}"));
                            answer_for_error(e)
                        }
                        None => Answer::ServerError,
                    };
                    for record in &change.records {
                        details.push(format!("{} {}", record.host, answer.line()));
                        per_name.insert(record.host.clone(), answer.clone());
                    }
                }
            }
        }
    }

    let answers = request
        .hosts
        .iter()
        .zip(answers)
        .map(|(host, answer)| {
            answer.unwrap_or_else(|| {
                host.name
                    .as_ref()
                    .ok()
                    .and_then(|n| per_name.get(n).cloned())
                    .unwrap_or(Answer::ServerError)
            })
        })
        .collect();
    (answers, details)
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn holds(family: &Option<Family>, addr: IpAddr, now: u64, window: u64) -> bool {
    family.as_ref().is_some_and(|f| {
        f.addr == addr && now.saturating_sub(f.seen_at) < window && f.seen_at <= now
    })
}

/// Every requested family was set to exactly this address recently.
fn is_cached(state: &HostState, targets: &Targets, now: u64, window: u64) -> bool {
    if window == 0 {
        return false;
    }
    let v4 = targets
        .v4
        .as_ref()
        .is_none_or(|t| holds(&state.v4, IpAddr::V4(t.addr), now, window));
    let v6 = targets
        .v6
        .as_ref()
        .is_none_or(|t| holds(&state.v6, IpAddr::V6(t.addr), now, window));
    v4 && v6
}

/// The host's remembered state, or None when it is refused. A state file that is there but
/// unusable must not reset the abuse limit, or damaging it would be a way around the limit:
/// the host counts as over the limit until the admin removes the file.
fn load_state(
    name: &Hostname,
    ctx: &Context<'_>,
    details: &mut Details,
    per_name: &mut HashMap<Hostname, Answer>,
) -> Option<HostState> {
    match ctx.store.load(name) {
        Ok(state) => Some(state.unwrap_or_default()),
        Err(damaged) if ctx.general.abuse_limit == 0 => {
            ctx.log.warn(format_args!(
                "{damaged}; read as no state (abuse_limit = 0), and replaced once the update succeeds"
            ));
            Some(HostState::default())
        }
        Err(damaged) => {
            ctx.log.error(format_args!(
                "{damaged}; {name} counts as over its abuse_limit until the admin removes {}; answering abuse",
                damaged.path.display()
            ));
            details.push(format!("{name} abuse (damaged state)"));
            per_name.insert(name.clone(), Answer::Abuse);
            None
        }
    }
}

fn refuse_as_abuse(
    name: &Hostname,
    state: &HostState,
    now: u64,
    ctx: &Context<'_>,
    details: &mut Details,
    per_name: &mut HashMap<Hostname, Answer>,
) {
    ctx.log.warn(format_args!(
        "{name} changed {} times within {} s (abuse_limit = {}); answering abuse until that calms down",
        recent(state, now, ctx.general.abuse_window),
        ctx.general.abuse_window,
        ctx.general.abuse_limit
    ));
    details.push(format!("{name} abuse"));
    per_name.insert(name.clone(), Answer::Abuse);
}

fn recent(state: &HostState, now: u64, window: u64) -> usize {
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

/// The host changed `abuse_limit` times within the window and this request would change
/// it again (a repeat of the current address is never abuse).
fn is_abuse(state: &HostState, targets: &Targets, now: u64, general: &General) -> bool {
    if general.abuse_limit == 0 {
        return false;
    }
    let same =
        |family: &Option<Family>, addr: IpAddr| family.as_ref().is_some_and(|f| f.addr == addr);
    let would_change = targets
        .v4
        .as_ref()
        .is_some_and(|t| !same(&state.v4, IpAddr::V4(t.addr)))
        || targets
            .v6
            .as_ref()
            .is_some_and(|t| !same(&state.v6, IpAddr::V6(t.addr)));
    would_change && recent(state, now, general.abuse_window) >= general.abuse_limit as usize
}

/// Records whose last write state remembers with a TTL: only such a record may be written
/// without reading it first.
fn known_records(state: &HostState) -> PerFamily<KnownRecord> {
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
/// the registrar just wrote it, or for an unchanged address whose TTL was already known.
fn remember(
    mut state: HostState,
    targets: &Targets,
    user: &str,
    now: u64,
    outcome: &RecordOutcome,
    general: &General,
) -> HostState {
    let (changed, written) = match outcome {
        RecordOutcome::Changed { written_ttl, .. } => (true, *written_ttl),
        _ => (false, PerFamily::default()),
    };
    let family = |old: &Option<Family>, addr: IpAddr, written: Option<u32>| Family {
        addr,
        seen_at: now,
        ttl: written.or_else(|| {
            old.as_ref()
                .filter(|f| !changed && f.addr == addr)
                .and_then(|f| f.ttl)
        }),
        by: user.to_string(),
    };
    if let Some(t) = &targets.v4 {
        state.v4 = Some(family(&state.v4, IpAddr::V4(t.addr), written.v4));
    }
    if let Some(t) = &targets.v6 {
        state.v6 = Some(family(&state.v6, IpAddr::V6(t.addr), written.v6));
    }
    if changed {
        state.changes.push(now);
    }
    // Only the newest `abuse_limit` changes inside the window can decide `abuse`; keeping
    // more would let the state file grow with every change when the limit is off.
    state
        .changes
        .retain(|t| in_window(*t, now, general.abuse_window));
    let excess = state
        .changes
        .len()
        .saturating_sub(general.abuse_limit as usize);
    state.changes.drain(..excess);
    state
}

fn describe(record: &RecordChange, outcome: &RecordOutcome, targets: &Targets) -> String {
    match outcome {
        RecordOutcome::Changed { previous, .. } => format!(
            "{} {} -> {} good",
            record.host,
            if previous.is_empty() {
                "(new)".to_string()
            } else {
                previous.join(",")
            },
            targets.describe()
        ),
        RecordOutcome::Unchanged => format!("{} {} nochg", record.host, targets.describe()),
        RecordOutcome::Missing { rr_type } => {
            format!("{} nohost (no {rr_type} record)", record.host)
        }
        RecordOutcome::RoundRobin { rr_type, count } => {
            format!("{} dnserr ({count} {rr_type} records)", record.host)
        }
        RecordOutcome::Alias { rr_type } => {
            format!("{} dnserr (CNAME, no {rr_type} record)", record.host)
        }
        RecordOutcome::Failed(e) => format!("{} {}", record.host, answer_for_error(e).line()),
    }
}

fn log_record_problem(host: &Hostname, outcome: &RecordOutcome, log: &Log) {
    match outcome {
        RecordOutcome::Missing { rr_type } => log.warn(format_args!(
            "{host} has no {rr_type} record; create it at the registrar or set create_missing_records = yes; answering nohost"
        )),
        RecordOutcome::RoundRobin { rr_type, count } => log.warn(format_args!(
            "{host} holds {count} {rr_type} records; refusing to replace them by one (set collapse_round_robin = yes to allow it); answering dnserr"
        )),
        RecordOutcome::Alias { rr_type } => log.warn(format_args!(
            "{host} is a CNAME, and DNS allows no {rr_type} record beside it; point the router at the name the CNAME leads to, or replace the CNAME at the registrar; answering dnserr"
        )),
        RecordOutcome::Failed(error) => log.error(format_args!("{host}: {error}")),
        RecordOutcome::Changed { .. } | RecordOutcome::Unchanged => {}
    }
}

/// Finds the registrar and zone of a name: the longest configured zone first; else each
/// registrar without configured zones is asked, in config order.
fn locate(name: &Hostname, ctx: &Context<'_>) -> Result<Option<(usize, String)>, BackendError> {
    let configured = ctx
        .registrars
        .list
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.configured_zones().iter().map(move |z| (i, z)))
        .filter(|(_, z)| name.is_within(z))
        .max_by_key(|(_, z)| z.len());
    if let Some((index, zone)) = configured {
        return Ok(Some((index, zone.clone())));
    }
    for (index, registrar) in ctx.registrars.list.iter().enumerate() {
        if !registrar.configured_zones().is_empty() {
            continue;
        }
        if let Some(zone) = registrar.discover_zone(name, ctx.clock, ctx.log)? {
            return Ok(Some((index, zone)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::net::Ipv4Addr;
    use std::path::Path;
    use std::rc::Rc;
    use std::time::Duration;

    use super::*;
    use crate::address::Target;
    use crate::backend::Registrar;
    use crate::backend::http::Http;
    use crate::config::Config;
    use crate::log::Level;

    /// A registrar for `example.net` that remembers the time each call was given.
    struct Recording {
        zones: Vec<String>,
        seen: Rc<RefCell<Vec<SystemTime>>>,
    }

    impl Registrar for Recording {
        fn label(&self) -> &'static str {
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
                    previous: Vec::new(),
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
            http: Http::new(&config.general).unwrap(),
        };
        let store = Store::new(&config.general.state_dir);
        // Each reading of the clock is 100 s after the one before, as if the lock took long.
        let readings = Cell::new(0u64);
        let clock = || {
            readings.set(readings.get() + 1);
            UNIX_EPOCH + Duration::from_secs(1_000_000 + 100 * readings.get())
        };
        let log = Log::to(Level::Error, Box::new(std::io::sink()));
        let ctx = Context {
            acl: &config.acl,
            general: &config.general,
            registrars: &registrars,
            store: &store,
            clock: &clock,
            log: &log,
        };
        let request = UpdateRequest {
            user: "alice".to_string(),
            hosts: vec![HostRequest {
                text: "home.example.net".to_string(),
                name: "home.example.net".parse(),
            }],
            targets: Ok(Targets {
                v4: Some(Target {
                    addr: Ipv4Addr::new(192, 0, 2, 1),
                    echo: "192.0.2.1".to_string(),
                }),
                v6: None,
            }),
        };
        let (answers, _) = run(&request, &ctx, false);
        assert_eq!(answers, vec![Answer::Good("192.0.2.1".to_string())]);
        let reading = |n: u64| 1_000_000 + 100 * n;
        // Read at the start, once the lock is held, and by the registrar as it sends.
        assert_eq!(readings.get(), 3);
        assert_eq!(
            *seen.borrow(),
            vec![UNIX_EPOCH + Duration::from_secs(reading(3))]
        );
        // The state records the change at the time the lock was taken, not the start.
        let host: Hostname = "home.example.net".parse().unwrap();
        let state = store.load(&host).unwrap().unwrap();
        assert_eq!(state.v4.unwrap().seen_at, reading(2));
        assert_eq!(state.changes, vec![reading(2)]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn change_times_ahead_of_the_clock_do_not_count() {
        let general = Config::parse_str(
            "[default]\nallowed_hostnames = h.example.net\nabuse_limit = 2\n[gandi]\ntoken = t\n",
            Path::new("unit.ini"),
        )
        .unwrap()
        .general;
        let now = 1_000_000;
        let state = HostState {
            changes: vec![now - 10, now + 3600, now + 86_400 * 365],
            ..HostState::default()
        };
        assert_eq!(recent(&state, now, general.abuse_window), 1);
        let targets = Targets {
            v4: Some(Target {
                addr: Ipv4Addr::new(192, 0, 2, 1),
                echo: "192.0.2.1".to_string(),
            }),
            v6: None,
        };
        assert!(!is_abuse(&state, &targets, now, &general));
        let outcome = RecordOutcome::Changed {
            previous: Vec::new(),
            written_ttl: PerFamily::default(),
        };
        let next = remember(state, &targets, "alice", now, &outcome, &general);
        assert_eq!(next.changes, vec![now - 10, now]);
    }
}

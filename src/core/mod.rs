//! The neutral core, in stages that each take plain values:
//! [`authorize`] (may this principal change these names?) → [`plan`] (answers local state
//! can give, and one [`ZoneChange`](crate::backend::ZoneChange) per account and zone) →
//! [`apply`] (the only stage that writes: under the zone's lock, through the registrars and
//! the store passed in) → one neutral [`Outcome`] per requested host, in request order.
//!
//! The core knows no protocol's words: the dialect passes [`Words`] for the log lines, and
//! renders the outcomes itself.

pub mod apply;
pub mod authorize;
pub mod lan;
pub mod operation;
pub mod pending;
pub mod plan;
pub mod prefixes;
pub mod rules;
pub mod txt;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::acl::Acl;
use crate::address::AddressError;
use crate::auth::Principal;
use crate::backend::{BackendError, Clock, PerFamily, RecordOutcome, Registrars};
use crate::config::General;
use crate::hostname::{Hostname, HostnameError};
use crate::log::{Log, printable};
use crate::prefix::Ipv6Prefix;
use crate::state::Store;
use authorize::Verdict;
use operation::Operation;
pub use pending::Pending;

/// One requested host name as sent, and what it parsed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRequest {
    /// The text as sent, for log lines.
    pub text: String,
    /// The normalised name, or why it is not one.
    pub name: Result<Hostname, HostnameError>,
}

/// A parsed request, the same for every dialect: which hosts, and what to do to each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    /// Requested names, in request order, duplicates kept.
    pub hosts: Vec<HostRequest>,
    /// What to do to every host (at most one operation per record type), or why the
    /// addresses asked for cannot be used.
    pub operations: Result<Vec<Operation>, AddressError>,
    /// The TTL every record written gets; `None` keeps each record's TTL (or the
    /// backend's configured `ttl`). Checked against the zone's backend before any call.
    pub ttl: Option<u32>,
    /// The IPv6 prefix of the router's LAN, which the principal's `lan_hosts` follow.
    pub lan_prefix: Option<Ipv6Prefix>,
    /// Write even what already holds the value asked for (the command line's `--force`).
    pub force: bool,
}

impl Default for UpdateRequest {
    /// Nothing asked for; dialects fill in what their request carries.
    fn default() -> Self {
        UpdateRequest {
            hosts: Vec::new(),
            operations: Ok(Vec::new()),
            ttl: None,
            lan_prefix: None,
            force: false,
        }
    }
}

impl UpdateRequest {
    /// Whether it asks for ACME challenge values (`core::txt`), which are authorized by the
    /// names they validate: a dialect never mixes them with addresses.
    pub fn is_challenge(&self) -> bool {
        match &self.operations {
            Ok(operations) => operations.iter().any(Operation::is_txt),
            Err(e) => e.is_txt(),
        }
    }
}

/// What became of one requested host, in no protocol's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Something was written (set, created or removed).
    Changed,
    /// Everything already was as asked (or, for HEAD, would be looked at).
    Unchanged,
    /// Not a host name.
    NotFqdn,
    /// The principal may not change this name.
    NotAllowed,
    /// The addresses asked for cannot be used.
    BadAddress,
    /// No configured account holds a zone of this name, or the zone is not in the account.
    NoZone,
    /// The name has no record of the type, and creating one is not allowed.
    NoRecord,
    /// The name holds several records of the type; replacing them by one is not allowed.
    RoundRobin,
    /// The name is a CNAME, beside which no record may be created.
    Alias,
    /// The record is not a plain one this operation can change (a SchlundTech apex
    /// `<main>` cannot be deleted).
    NotPlain,
    /// The registrar refused the change itself.
    Rejected,
    /// The TTL asked for is outside what the zone's backend accepts.
    BadTtl,
    /// The name changed too often, or its state file is damaged.
    Abuse,
    /// Our side failed: registrar unreachable or refusing our credentials, lock, state.
    ServerSide,
}

impl Outcome {
    /// A registrar failure for the hosts it concerns.
    pub fn of_error(error: &BackendError) -> Outcome {
        match error {
            BackendError::ZoneNotFound { .. } | BackendError::NotServed { .. } => Outcome::NoZone,
            BackendError::Rejected { .. } => Outcome::Rejected,
            BackendError::CredentialsRejected { .. }
            | BackendError::Unreachable { .. }
            | BackendError::Timeout { .. }
            | BackendError::BadResponse { .. }
            | BackendError::RateLimited { .. }
            | BackendError::DiscoveryLimit { .. }
            | BackendError::NameServer { .. } => Outcome::ServerSide,
        }
    }

    /// What the registrar did with one record.
    pub fn of_record(outcome: &RecordOutcome) -> Outcome {
        match outcome {
            RecordOutcome::Changed { .. } => Outcome::Changed,
            RecordOutcome::Unchanged => Outcome::Unchanged,
            RecordOutcome::Missing { .. } => Outcome::NoRecord,
            RecordOutcome::RoundRobin { .. } => Outcome::RoundRobin,
            RecordOutcome::Alias { .. } => Outcome::Alias,
            RecordOutcome::NotPlain { .. } => Outcome::NotPlain,
            RecordOutcome::Failed(error) => Outcome::of_error(error),
        }
    }
}

/// The dialect's word for an outcome, for the admin's log lines ("answering nohost").
pub type Words = fn(Outcome) -> &'static str;

/// Per family a change wrote, the values it replaced (empty: there was no record);
/// `None` for a family not written.
pub type Replaced = PerFamily<Vec<String>>;

/// Per distinct host: what happened, for the request's summary log line.
pub type Details = Vec<String>;

/// Everything the stages need besides the request.
pub struct Context<'a> {
    /// Who may change what.
    pub acl: &'a Acl,
    /// Limits and policies.
    pub general: &'a General,
    /// The registrar accounts.
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
    /// The dialect's words, for log lines.
    pub words: Words,
    /// Where the apply stage leaves each zone's lock and new state, to be saved after the
    /// answer is written.
    pub pending: &'a Pending,
}

/// What a request came to: per requested host, in request order, its outcome and the
/// values its change replaced; and the summary details.
#[derive(Debug, Default)]
pub struct Ran {
    /// One per requested host.
    pub outcomes: Vec<Outcome>,
    /// One per requested host; nothing written for a host that was not changed.
    pub replaced: Vec<Replaced>,
    /// For the summary log line.
    pub details: Details,
}

/// Runs the request through every stage. `dry_run` (HEAD) stops before any registrar or
/// state is touched.
pub fn run(
    request: &UpdateRequest,
    principal: &Principal,
    ctx: &Context<'_>,
    dry_run: bool,
) -> Ran {
    let user = principal.name();
    let challenge = request.is_challenge();
    let verdicts = authorize::authorize(user, &request.hosts, ctx.acl, challenge);
    let operations = match &request.operations {
        Ok(operations) => operations,
        Err(e) => return unusable(user, e, challenge, &verdicts, ctx),
    };
    authorize::report(
        user,
        &request.hosts,
        &verdicts,
        challenge,
        ctx.log,
        ctx.words,
    );
    let named = authorize::wanted(&verdicts);
    let followers = lan::followers(user, request.lan_prefix, operations, &named, ctx);
    let mut wanted: Vec<plan::Wanted> = named
        .iter()
        .map(|name| plan::Wanted {
            name: name.clone(),
            operations: operations.clone(),
        })
        .collect();
    wanted.extend(followers.iter().cloned());
    let done = if dry_run {
        Done {
            per_name: named
                .iter()
                .map(|n| (n.clone(), Outcome::Unchanged))
                .collect(),
            ..Done::default()
        }
    } else {
        execute(&wanted, request, user, ctx)
    };
    let Done {
        details,
        per_name,
        replaced,
    } = done;
    // A LAN host the registrar or a lock failed for makes the router try again.
    let retry = followers
        .iter()
        .any(|f| per_name.get(&f.name) == Some(&Outcome::ServerSide));
    let outcomes = verdicts
        .iter()
        .map(|verdict| match verdict {
            Verdict::Allowed(_) if retry => Outcome::ServerSide,
            Verdict::Allowed(name) => per_name.get(name).copied().unwrap_or(Outcome::ServerSide),
            Verdict::NotFqdn(_) => Outcome::NotFqdn,
            Verdict::NotAllowed(_) => Outcome::NotAllowed,
        })
        .collect();
    let replaced = verdicts
        .iter()
        .map(|verdict| match verdict {
            Verdict::Allowed(name) => replaced.get(name).cloned().unwrap_or_default(),
            _ => Replaced::default(),
        })
        .collect();
    Ran {
        outcomes,
        replaced,
        details,
    }
}

/// What planning and applying came to, per distinct name.
#[derive(Default)]
struct Done {
    details: Details,
    per_name: HashMap<Hostname, Outcome>,
    replaced: HashMap<Hostname, Replaced>,
}

/// Plans the names and applies each zone's share under its lock.
fn execute(
    wanted: &[plan::Wanted],
    request: &UpdateRequest,
    user: &str,
    ctx: &Context<'_>,
) -> Done {
    let mut done = Done::default();
    let now = unix((ctx.clock)());
    let mut planned = plan::plan(wanted, request.ttl, now, &plan::Inputs::of(ctx));
    for work in &mut planned.zones {
        work.change.force = request.force;
    }
    done.details.extend(planned.details);
    done.per_name.extend(planned.decided);
    let mut lock_budget = ctx.general.lock_wait;
    for (i, work) in planned.zones.into_iter().enumerate() {
        // A zone's lock is kept until the answer is out, but never while another is
        // taken: the zone before is saved and let go first, so a request holds one lock
        // at a time and two requests can never wait for each other.
        if i > 0 {
            ctx.pending.finish(ctx.log);
        }
        let applied = apply::apply(work, user, ctx, &mut lock_budget);
        done.details.extend(applied.details);
        done.per_name.extend(applied.decided);
        done.replaced.extend(applied.replaced);
    }
    done
}

/// The answer when the request's addresses or challenge value cannot be used: a name the
/// user may not touch is refused as such whatever the value.
fn unusable(
    user: &str,
    error: &AddressError,
    challenge: bool,
    verdicts: &[Verdict],
    ctx: &Context<'_>,
) -> Ran {
    let what = if challenge { "value" } else { "address" };
    ctx.log.warn(format_args!(
        "user {}: unusable {what} ({error}); answering {}",
        printable(user),
        (ctx.words)(Outcome::BadAddress)
    ));
    let outcomes = authorize::without_address(verdicts);
    let replaced = outcomes.iter().map(|_| Replaced::default()).collect();
    Ran {
        outcomes,
        replaced,
        details: Vec::new(),
    }
}

/// Seconds since the epoch; a clock before it reads as 0.
pub fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a stage decided for some hosts: the outcome of each, and their summary details.
#[derive(Debug, Default)]
pub struct Decided {
    /// Outcome per host name.
    pub decided: Vec<(Hostname, Outcome)>,
    /// Summary-line details, in the order decided.
    pub details: Details,
    /// Per host changed, the values the change replaced.
    pub replaced: Vec<(Hostname, Replaced)>,
}

impl Decided {
    /// Records one host's outcome with its detail `{host}{before} {word}{after}`.
    pub fn note(
        &mut self,
        host: &Hostname,
        outcome: Outcome,
        before: &str,
        after: &str,
        words: Words,
    ) {
        self.details
            .push(format!("{host}{before} {}{after}", words(outcome)));
        self.decided.push((host.clone(), outcome));
    }
}

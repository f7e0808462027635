//! Running the command line's changes through the core: the same stages, registrars,
//! state and zone locks as a CGI request, acting for the admin. The hostname ACL of CGI
//! users does not apply: whoever can read the config file holds the registrar
//! credentials anyway. Every name must still be in a configured (or discovered) zone.

use std::net::IpAddr;

use super::lines::{self, Line};
use super::status::Status;
use super::watch::Seen;
use crate::acl::Acl;
use crate::backend::{Clock, Registrars};
use crate::config::Config;
use crate::core::operation::{Operation, RrType};
use crate::core::{self, HostRequest, Outcome, UpdateRequest};
use crate::hostname::Hostname;
use crate::log::Log;
use crate::state::Store;

/// The name the state files record for changes made from the command line.
pub const PRINCIPAL: &str = "(command line)";

/// Hosts that get the same operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The hosts, each once.
    pub hosts: Vec<Hostname>,
    /// What to do to each.
    pub operations: Vec<Operation>,
    /// The TTL written with them; None keeps each record's.
    pub ttl: Option<u32>,
}

/// How the changes are made.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Write nothing; say what would be written.
    pub dry_run: bool,
    /// How long the state's "the record holds X" is trusted (0: always ask the registrar).
    pub trust_state: u64,
    /// Write even records that already hold the value (`--force`).
    pub force: bool,
}

/// What the run printed and came to.
#[derive(Debug, Default)]
pub struct Report {
    /// The stdout lines.
    pub lines: Vec<Line>,
    /// The run's status so far.
    pub status: Option<Status>,
}

impl Report {
    /// Adds a status, keeping the worst.
    pub fn note(&mut self, status: Status) {
        self.status = Some(self.status.map_or(status, |s| s.worst(status)));
    }
}

/// What the changes need from the outside.
pub struct Edges<'a> {
    /// The registrar accounts, watched.
    pub registrars: &'a Registrars,
    /// The worst registrar error they saw.
    pub seen: &'a Seen,
    /// The wall clock.
    pub clock: Clock<'a>,
    /// Where log lines go.
    pub log: &'a Log,
}

/// Runs every job, one core request each.
pub fn run(
    config: &Config,
    jobs: &[Job],
    options: Options,
    edges: &Edges<'_>,
    report: &mut Report,
) {
    let mut general = config.general.clone();
    general.cache_seconds = options.trust_state;
    let store = Store::new(&general.state_dir);
    let principal = crate::auth::web_server_user(PRINCIPAL).expect("a valid principal name");
    for job in jobs.iter().filter(|j| !j.hosts.is_empty()) {
        if options.dry_run {
            dry_run(job, &general, &store, edges, report);
            continue;
        }
        let request = UpdateRequest {
            hosts: job
                .hosts
                .iter()
                .map(|h| HostRequest {
                    text: h.to_string(),
                    name: Ok(h.clone()),
                })
                .collect(),
            operations: Ok(job.operations.clone()),
            ttl: job.ttl,
            force: options.force,
            ..UpdateRequest::default()
        };
        let pending = core::Pending::default();
        let ctx = core::Context {
            acl: &Acl::Open,
            general: &general,
            registrars: edges.registrars,
            store: &store,
            clock: edges.clock,
            log: edges.log,
            words: crate::protocol::noip::word,
            pending: &pending,
        };
        let ran = core::run(&request, &principal, &ctx, false);
        pending.finish(edges.log);
        for ((host, outcome), replaced) in job.hosts.iter().zip(&ran.outcomes).zip(&ran.replaced) {
            report
                .lines
                .extend(lines::of_host(host, &job.operations, *outcome, replaced));
            report.note(Status::of_outcome(*outcome));
            if *outcome == Outcome::ServerSide {
                report.note(edges.seen.get());
            }
        }
        for detail in &ran.details {
            edges.log.info(format_args!("{detail}"));
        }
    }
}

/// Says what a job would write: what the state trusts is `nochg`, the rest `would-update`.
/// The zone is looked up (read-only), so a name in no zone is `nohost` here too.
fn dry_run(
    job: &Job,
    general: &crate::config::General,
    store: &Store,
    edges: &Edges<'_>,
    report: &mut Report,
) {
    let now = core::unix((edges.clock)());
    for host in &job.hosts {
        match edges.registrars.locate(host, edges.clock, edges.log) {
            Ok(Some(_)) => {}
            Ok(None) => {
                edges.log.warn(format_args!(
                    "{host} is in no configured zone; add its zone to a registrar's zones"
                ));
                for op in &job.operations {
                    report.lines.push(Line {
                        text: format!("nohost {host} {}", op.rr_type()),
                        verbose_only: false,
                    });
                }
                report.note(Status::HostFailed);
                continue;
            }
            Err(e) => {
                edges.log.error(format_args!("{e}"));
                report.note(Status::of_error(&e));
                continue;
            }
        }
        let state = store.load(host).ok().flatten().unwrap_or_default();
        for op in &job.operations {
            let family = match op.rr_type() {
                RrType::A => &state.v4,
                RrType::Aaaa => &state.v6,
                // The command line sets no challenge values.
                RrType::Txt => &None,
            };
            let ops = std::slice::from_ref(op);
            if core::rules::is_cached(&state, ops, job.ttl, now, general.cache_seconds) {
                report.lines.extend(lines::of_host(
                    host,
                    ops,
                    Outcome::Unchanged,
                    &Default::default(),
                ));
            } else {
                let was: Option<IpAddr> = family.as_ref().map(|f| f.addr);
                report.lines.push(lines::would_update(
                    host,
                    op,
                    was.map(|a| format!("{a} when last written")),
                ));
            }
        }
        report.note(Status::Done);
    }
}

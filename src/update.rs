//! The core: an authorised request becomes one [`ZoneChange`] per (registrar, zone), each
//! applied once, and the outcomes come back as one answer per requested host, in order.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::acl::Acl;
use crate::address::{AddressError, Targets};
use crate::backend::{BackendError, RecordChange, Registrars, ZoneChange};
use crate::hostname::{Hostname, HostnameError};
use crate::log::{Log, printable};
use crate::outcome::{Answer, answer_for_error, answer_for_record};

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

/// Runs the update: validate each host, authorise it, find its zone, apply each zone's
/// changes once, and answer each requested host. `dry_run` (HEAD) stops before any
/// registrar is asked.
pub fn run(
    request: &UpdateRequest,
    acl: &Acl,
    registrars: &Registrars,
    now: SystemTime,
    dry_run: bool,
    log: &Log,
) -> Vec<Answer> {
    let mut answers: Vec<Option<Answer>> = vec![None; request.hosts.len()];
    let targets = match &request.targets {
        Ok(t) => t,
        Err(e) => {
            log.warn(format_args!(
                "user {}: unusable address ({e}); answering badip",
                printable(&request.user)
            ));
            return request
                .hosts
                .iter()
                .map(|h| match h.name {
                    Ok(_) => Answer::BadIp,
                    Err(_) => Answer::NotFqdn,
                })
                .collect();
        }
    };

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
            Ok(name) if !acl.allows(&request.user, name) => {
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
            per_name.insert(name.clone(), Answer::NoChg(targets.echo()));
        }
    } else {
        // Route each name to (registrar, zone), keeping first-seen order of groups.
        let mut groups: Vec<(usize, ZoneChange)> = Vec::new();
        for name in &wanted {
            match locate(name, registrars, now, log) {
                Ok(Some((index, zone))) => {
                    let record = RecordChange {
                        host: name.clone(),
                        name: name.relative_to(&zone).unwrap_or_default(),
                        v4: targets.v4.as_ref().map(|t| t.addr),
                        v6: targets.v6.as_ref().map(|t| t.addr),
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
                    per_name.insert(name.clone(), Answer::NoHost);
                }
                Err(e) => {
                    log.error(format_args!("{e}"));
                    per_name.insert(name.clone(), answer_for_error(&e));
                }
            }
        }
        for (index, change) in &groups {
            let registrar = &registrars.list[*index];
            match registrar.apply(change, now, log) {
                Ok(outcomes) => {
                    for (record, outcome) in change.records.iter().zip(outcomes) {
                        log_record_problem(&record.host, &outcome, log);
                        per_name.insert(
                            record.host.clone(),
                            answer_for_record(&outcome, &targets.echo()),
                        );
                    }
                }
                Err(e) => {
                    log.error(format_args!("{e}"));
                    let answer = answer_for_error(&e);
                    for record in &change.records {
                        per_name.insert(record.host.clone(), answer.clone());
                    }
                }
            }
        }
    }

    request
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
        .collect()
}

fn log_record_problem(host: &Hostname, outcome: &crate::backend::RecordOutcome, log: &Log) {
    use crate::backend::RecordOutcome;
    match outcome {
        RecordOutcome::Missing { rr_type } => log.warn(format_args!(
            "{host} has no {rr_type} record; create it at the registrar or set create_missing_records = yes; answering nohost"
        )),
        RecordOutcome::RoundRobin { rr_type, count } => log.warn(format_args!(
            "{host} holds {count} {rr_type} records; refusing to replace them by one (set collapse_round_robin = yes to allow it); answering dnserr"
        )),
        RecordOutcome::Failed(error) => log.error(format_args!("{host}: {error}")),
        RecordOutcome::Changed | RecordOutcome::Unchanged => {}
    }
}

/// Finds the registrar and zone of a name: the longest configured zone first; else each
/// registrar without configured zones is asked, in config order.
fn locate(
    name: &Hostname,
    registrars: &Registrars,
    now: SystemTime,
    log: &Log,
) -> Result<Option<(usize, String)>, BackendError> {
    let configured = registrars
        .list
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.configured_zones().iter().map(move |z| (i, z)))
        .filter(|(_, z)| name.is_within(z))
        .max_by_key(|(_, z)| z.len());
    if let Some((index, zone)) = configured {
        return Ok(Some((index, zone.clone())));
    }
    for (index, registrar) in registrars.list.iter().enumerate() {
        if !registrar.configured_zones().is_empty() {
            continue;
        }
        if let Some(zone) = registrar.discover_zone(name, now, log)? {
            return Ok(Some((index, zone)));
        }
    }
    Ok(None)
}

//! What `update`, `delete`, `client` and `detect` do with a loaded config: the jobs they
//! hand to [`super::run`], and the detection they ask for. `main` loads the config, takes
//! the client lock, and prints.

use std::net::IpAddr;

use super::args::Only;
use super::run::{self, Edges, Job, Options, Report};
use super::status::Status;
use crate::address;
use crate::client::detect::{self, Found};
use crate::client::ranges;
use crate::client::settings::Method;
use crate::config::Config;
use crate::core::operation::{Operation, RrType};
use crate::hostname::Hostname;
use crate::prefix::Ipv6Prefix;
use crate::state::Store;

/// A run that cannot start, with its status and the admin's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// 64 for the command line, 78 for the config, 75 for no address.
    pub status: Status,
    /// What to fix.
    pub message: String,
}

fn refused(status: Status, message: impl Into<String>) -> Refused {
    Refused {
        status,
        message: message.into(),
    }
}

fn host_name(text: &str) -> Result<Hostname, Refused> {
    text.parse().map_err(|e| {
        refused(
            Status::Usage,
            format!("`{}` is not a host name: {e}", crate::log::printable(text)),
        )
    })
}

/// `update HOST [IP [IP]]`: the given addresses (checked as the CGI checks them, with
/// `[client] accept_ranges` admitted too), else the detected ones.
pub fn update(
    config: &Config,
    host: &str,
    addrs: &[String],
    ttl: Option<u32>,
    options: Options,
    edges: &Edges<'_>,
) -> Result<Report, Refused> {
    let host = host_name(host)?;
    let mut report = Report::default();
    let mut operations: Vec<Operation> = Vec::new();
    for text in addrs {
        let shown = |e: address::AddressError| {
            refused(
                Status::Usage,
                format!("`{}` is {e}", crate::log::printable(text)),
            )
        };
        let allow_private = config.general.allow_private_addresses;
        let op = if text.contains('/') {
            // An IPv6 prefix: the host's AAAA becomes it plus the host's interface ID.
            let prefix = Ipv6Prefix::parse(text).and_then(|p| p.usable(allow_private));
            Operation::SetPrefix(prefix.map_err(shown)?)
        } else {
            Operation::Set(address::parse_ip(text).map_err(shown)?)
        };
        if operations.iter().any(|o| o.rr_type() == op.rr_type()) {
            return Err(refused(
                Status::Usage,
                "update: at most one address per family (one IPv4, one IPv6)",
            ));
        }
        let Operation::Set(ip) = op else {
            operations.push(op);
            continue;
        };
        if let Some(why) = ranges::refusal(
            ip,
            config.general.allow_private_addresses,
            &config.client.accept_ranges,
        ) {
            return Err(refused(Status::Usage, why));
        }
        operations.push(Operation::Set(ip));
    }
    if addrs.is_empty() {
        let families = [false, true]
            .into_iter()
            .filter(|v6| config.client.family(*v6).method != Method::Off)
            .collect::<Vec<_>>();
        if families.is_empty() {
            return Err(refused(
                Status::Usage,
                "update: no address given, and [client] detects none (ipv4 = off, ipv6 = off); give the address, or set ipv4/ipv6 in [client]",
            ));
        }
        for v6 in families {
            match found(config, v6, edges, false).addr {
                Ok(ip) => operations.push(Operation::Set(ip)),
                Err(why) => {
                    edges.log.error(format_args!(
                        "{why}; nothing is written for IPv{}",
                        family(v6)
                    ));
                    report.note(Status::TempFail);
                }
            }
        }
    }
    let job = Job {
        hosts: vec![host],
        operations,
        ttl,
    };
    if !job.operations.is_empty() {
        run::run(config, &[job], options, edges, &mut report);
    }
    Ok(report)
}

/// `delete HOST [-4|-6]`.
pub fn delete(
    config: &Config,
    host: &str,
    only: Option<Only>,
    options: Options,
    edges: &Edges<'_>,
) -> Result<Report, Refused> {
    let host = host_name(host)?;
    let operations = match only {
        Some(Only::V4) => vec![Operation::Delete(RrType::A)],
        Some(Only::V6) => vec![Operation::Delete(RrType::Aaaa)],
        None => vec![
            Operation::Delete(RrType::A),
            Operation::Delete(RrType::Aaaa),
        ],
    };
    let mut report = Report::default();
    let job = Job {
        hosts: vec![host],
        operations,
        ttl: None,
    };
    run::run(config, &[job], options, edges, &mut report);
    Ok(report)
}

/// `client [HOST …]`: every `[client]` name of every enabled family, at the detected
/// address; named hosts restrict the run to them.
pub fn client(
    config: &Config,
    only: &[String],
    options: Options,
    edges: &Edges<'_>,
) -> Result<Report, Refused> {
    let settings = &config.client;
    if !settings.has_hostnames {
        return Err(refused(
            Status::Config,
            format!(
                "config {}: [client] hostnames is not set; list the names the client keeps current",
                config.path.display()
            ),
        ));
    }
    let only: Vec<Hostname> = only
        .iter()
        .map(|h| host_name(h))
        .collect::<Result<_, _>>()?;
    for name in &only {
        if !settings.v4.hostnames.contains(name) && !settings.v6.hostnames.contains(name) {
            return Err(refused(
                Status::Usage,
                format!("client: {name} is not in [client] hostnames"),
            ));
        }
    }
    let wanted = |v6: bool| -> Vec<Hostname> {
        let fam = settings.family(v6);
        if fam.method == Method::Off {
            return Vec::new();
        }
        fam.hostnames
            .iter()
            .filter(|h| only.is_empty() || only.contains(h))
            .cloned()
            .collect()
    };
    let mut report = Report::default();
    let mut addr = [None, None];
    for (i, v6) in [false, true].into_iter().enumerate() {
        if wanted(v6).is_empty() {
            continue;
        }
        match found(config, v6, edges, false).addr {
            Ok(ip) => addr[i] = Some(ip),
            Err(why) => {
                edges.log.error(format_args!(
                    "{why}; nothing is written for IPv{}",
                    family(v6)
                ));
                report.note(Status::TempFail);
            }
        }
    }
    let (v4_hosts, v6_hosts) = (wanted(false), wanted(true));
    run::run(
        config,
        &jobs(&v4_hosts, &v6_hosts, addr, settings.ttl),
        options,
        edges,
        &mut report,
    );
    Ok(report)
}

/// The hosts grouped by what they get: both families, only IPv4, only IPv6.
fn jobs(v4: &[Hostname], v6: &[Hostname], addr: [Option<IpAddr>; 2], ttl: Option<u32>) -> Vec<Job> {
    let v4: Vec<&Hostname> = if addr[0].is_some() {
        v4.iter().collect()
    } else {
        Vec::new()
    };
    let v6: Vec<&Hostname> = if addr[1].is_some() {
        v6.iter().collect()
    } else {
        Vec::new()
    };
    let set = |a: Option<IpAddr>| a.map(Operation::Set);
    let group = |hosts: Vec<&Hostname>, ops: Vec<Option<Operation>>| Job {
        hosts: hosts.into_iter().cloned().collect(),
        operations: ops.into_iter().flatten().collect(),
        ttl,
    };
    vec![
        group(
            v4.iter().copied().filter(|h| v6.contains(h)).collect(),
            vec![set(addr[0]), set(addr[1])],
        ),
        group(
            v4.iter().copied().filter(|h| !v6.contains(h)).collect(),
            vec![set(addr[0])],
        ),
        group(
            v6.iter().copied().filter(|h| !v4.contains(h)).collect(),
            vec![set(addr[1])],
        ),
    ]
}

fn family(v6: bool) -> u8 {
    if v6 { 6 } else { 4 }
}

fn found(config: &Config, v6: bool, edges: &Edges<'_>, every: bool) -> Found {
    let store = Store::new(&config.general.state_dir);
    let inputs = detect::Inputs {
        allow_private: config.general.allow_private_addresses,
        store: &store,
        now: crate::core::unix((edges.clock)()),
        log: edges.log,
        every_provider: every,
    };
    detect::family(&config.client, v6, &inputs)
}

/// `detect`: every provider of each enabled family once, in the listed order; the table
/// and whether every family reached an address.
pub fn detect(config: &Config, only: Option<Only>, edges: &Edges<'_>) -> (String, Status) {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut status = Status::Done;
    for v6 in [false, true] {
        let skip = match only {
            Some(Only::V4) => v6,
            Some(Only::V6) => !v6,
            None => false,
        };
        let method = config.client.family(v6).method;
        if skip || (method == Method::Off && only.is_none()) {
            continue;
        }
        let tag = format!("v{}", family(v6));
        let found = found(config, v6, edges, true);
        for asked in &found.asked {
            let a = &asked.answer;
            let status_text = a.status.map_or("-".to_string(), |s| s.to_string());
            let result = match &a.result {
                Ok(ip) => ip.to_string(),
                Err(why) => why.clone(),
            };
            let _ = writeln!(
                out,
                "{tag}  {:<40} {:>3}  {result}  {} ms",
                asked.provider.url,
                status_text,
                a.elapsed.as_millis()
            );
        }
        match (&found.addr, &found.verdict) {
            (Ok(ip), Some(detect::quorum::Verdict::Agreed { votes, valid, .. })) => {
                let _ = writeln!(
                    out,
                    "{tag}  consensus {ip} ({votes} of {valid} valid answers, quorum {})",
                    config.client.quorum
                );
            }
            (Ok(ip), _) => {
                let _ = writeln!(out, "{tag}  {} {ip}", method.name());
            }
            (Err(why), _) => {
                let _ = writeln!(out, "{tag}  no address: {why}");
                status = Status::TempFail;
            }
        }
    }
    (out, status)
}

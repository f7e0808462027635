//! Finding this machine's public address, one family at a time: the configured method,
//! then `ipv6_interface_id`, then the public-address check. Any failure means nothing is
//! written for that family.

pub mod backoff;
pub mod command;
pub mod interface;
pub mod quorum;
pub mod resolve;
pub mod web;

use std::net::IpAddr;
use std::time::Duration;

use super::ranges;
use super::settings::{ClientSettings, Method, Provider};
use crate::log::Log;
use crate::state::Store;
use backoff::Backoff;
use quorum::{Asked, Rule, Verdict};

/// What detection found for one family.
#[derive(Debug, Clone)]
pub struct Found {
    /// The address to publish, or why there is none (the admin's message).
    pub addr: Result<IpAddr, String>,
    /// `web`: every provider's answer, in the order they came.
    pub asked: Vec<Asked>,
    /// `web`: the consensus verdict.
    pub verdict: Option<Verdict>,
}

/// What detection reads besides the settings.
pub struct Inputs<'a> {
    /// The `[default]` rule for private addresses.
    pub allow_private: bool,
    /// Where the provider backoff list lives.
    pub store: &'a Store,
    /// Seconds since the epoch.
    pub now: u64,
    /// Where log lines go.
    pub log: &'a Log,
    /// `detect`: every provider, in the listed order, backoff ignored.
    pub every_provider: bool,
}

/// Finds the address of one family by its method.
pub fn family(settings: &ClientSettings, v6: bool, inputs: &Inputs<'_>) -> Found {
    let fam = settings.family(v6);
    let mut found = Found {
        addr: Err(String::new()),
        asked: Vec::new(),
        verdict: None,
    };
    let n = if v6 { 6 } else { 4 };
    found.addr = match fam.method {
        Method::Off => Err(format!("ipv{n} = off")),
        Method::Web => {
            let (addr, asked, verdict) = by_web(settings, v6, inputs);
            found.asked = asked;
            found.verdict = Some(verdict);
            addr
        }
        Method::Command => command::run(
            fam.command.as_deref().unwrap_or(""),
            v6,
            settings.command_timeout,
            inputs.log,
        ),
        Method::Interface => by_interface(settings, v6),
        Method::Resolve => resolve::run(fam.resolve.as_deref().unwrap_or(""), v6),
    };
    found.addr = found
        .addr
        .and_then(|addr| finish(addr, settings, inputs.allow_private));
    found
}

/// `ipv6_interface_id`, then the check that the address may be published.
fn finish(addr: IpAddr, settings: &ClientSettings, allow_private: bool) -> Result<IpAddr, String> {
    let addr = match (addr, settings.ipv6_interface_id) {
        (IpAddr::V6(v6), Some(id)) => IpAddr::V6(id.apply(v6).map_err(|e| {
            format!("[client] ipv6_interface_id {id} with the detected address {v6}: {e}")
        })?),
        (other, _) => other,
    };
    match ranges::refusal(addr, allow_private, &settings.accept_ranges) {
        None => Ok(addr),
        Some(why) => Err(why),
    }
}

fn by_interface(settings: &ClientSettings, v6: bool) -> Result<IpAddr, String> {
    let fam = settings.family(v6);
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let name = match fam.interface.as_str() {
        "default" if v6 => interface::default_v6(&read("/proc/net/ipv6_route")),
        "default" => interface::default_v4(&read("/proc/net/route")),
        name => Some(name.to_string()),
    }
    .ok_or_else(|| {
        format!(
            "no IPv{} default route, so interface_v{} = default names no interface; set interface_v{} to one",
            if v6 { 6 } else { 4 },
            if v6 { 6 } else { 4 },
            if v6 { 6 } else { 4 }
        )
    })?;
    if v6 {
        let entries = interface::parse_if_inet6(&read("/proc/net/if_inet6"));
        return interface::pick_v6(&entries, &name, settings.ipv6_prefer).map(IpAddr::V6);
    }
    let all = interface::v4_addresses(&name)?;
    let usable: Vec<IpAddr> = all
        .iter()
        .map(|ip| IpAddr::V4(*ip))
        .filter(|ip| ranges::refusal(*ip, false, &settings.accept_ranges).is_none())
        .collect();
    match (usable.as_slice(), all.as_slice()) {
        ([one], _) => Ok(*one),
        ([], []) => Err(format!("interface {name} has no global IPv4 address")),
        ([], [one])
            if ranges::refusal(IpAddr::V4(*one), false, &[])
                .is_some_and(|w| w.contains("carrier-grade")) =>
        {
            Err(ranges::refusal(IpAddr::V4(*one), false, &[]).unwrap_or_default())
        }
        ([], private) => Err(format!(
            "interface {name} has no public IPv4 address ({}): this host is behind NAT; use ipv4 = web",
            private
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (many, _) => Err(format!(
            "interface {name} has {} public IPv4 addresses ({}); name the one to publish with ipv4 = command",
            many.len(),
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `web`: the providers not backed off, shuffled unless `provider_order = listed`, asked by
/// the consensus rule. 403/429 answers go on the backoff list.
fn by_web(
    settings: &ClientSettings,
    v6: bool,
    inputs: &Inputs<'_>,
) -> (Result<IpAddr, String>, Vec<Asked>, Verdict) {
    let n = if v6 { 6 } else { 4 };
    let mut backoff = Backoff::load(inputs.store, inputs.now);
    let mut providers: Vec<Provider> = settings.family(v6).providers.clone();
    if !inputs.every_provider {
        providers.retain(|p| match backoff.until(&p.url) {
            Some(until) => {
                inputs.log.info(format_args!(
                    "provider {} is skipped for another {} s: it answered 403 or 429 (provider_backoff)",
                    p.url,
                    until.saturating_sub(inputs.now)
                ));
                false
            }
            None => true,
        });
        if settings.shuffle {
            shuffle(&mut providers);
        }
    }
    // Every provider once: no early decision, the verdict comes from all answers.
    let rule = match inputs.every_provider {
        true => Rule {
            quorum: providers.len().max(1),
            max_queries: providers.len(),
            deadline: settings.detect_timeout,
        },
        false => Rule {
            quorum: settings.quorum,
            max_queries: settings.max_queries,
            deadline: settings.detect_timeout,
        },
    };
    let agents = [true, false].map(|https_only| {
        web::agent(
            v6,
            settings.proxy.as_deref(),
            settings.provider_timeout,
            https_only,
        )
    });
    let [Ok(secure), Ok(plain)] = agents else {
        let e = agents.into_iter().find_map(Result::err).unwrap_or_default();
        return (Err(e), Vec::new(), Verdict::TooFew { valid: 0, asked: 0 });
    };
    let (allow_private, accept) = (inputs.allow_private, settings.accept_ranges.clone());
    // An answer that parses but may not be published is no vote.
    let (mut verdict, asked) = quorum::consensus(&providers, rule, move |p: &Provider| {
        let agent = if p.url.starts_with("https:") {
            &secure
        } else {
            &plain
        };
        let mut answer = web::ask(agent, p, v6);
        if let Ok(ip) = answer.result
            && let Some(why) = ranges::refusal(ip, allow_private, &accept)
        {
            answer.result = Err(why);
        }
        answer
    });
    if inputs.every_provider {
        verdict = recount(&asked, settings.quorum);
    }
    remember(&asked, &mut backoff, settings, inputs);
    let addr = match &verdict {
        Verdict::Agreed { addr, .. } => Ok(*addr),
        other => Err(failure(
            other,
            &asked,
            n,
            (providers.len(), settings.proxy.as_deref()),
        )),
    };
    (addr, asked, verdict)
}

/// The longest a provider is left alone, whatever its Retry-After says.
const MAX_BACKOFF: Duration = Duration::from_secs(7 * 86_400);

/// Logs why each answer did not count, and puts the providers that refused us on the
/// backoff list.
fn remember(
    asked: &[Asked],
    backoff: &mut Backoff,
    settings: &ClientSettings,
    inputs: &Inputs<'_>,
) {
    let mut changed = false;
    for a in asked {
        if let Err(why) = &a.answer.result {
            inputs
                .log
                .info(format_args!("provider {}: {why}", a.provider.url));
        }
        let (runs, counted) = backoff.count(&a.provider.url, a.answer.result.is_err());
        changed |= counted;
        if runs >= backoff::GONE_AFTER {
            inputs.log.warn(format_args!(
                "provider {} failed on each of the last {runs} runs; it may be gone: replace it in providers_v4/providers_v6",
                a.provider.url
            ));
        }
        if let Some(wait) = a.answer.backoff {
            // A provider's Retry-After is its word, not ours: at most a week.
            let wait = wait
                .max(settings.provider_backoff)
                .clamp(Duration::from_secs(1), MAX_BACKOFF);
            backoff.add(&a.provider.url, inputs.now.saturating_add(wait.as_secs()));
            changed = true;
        }
    }
    if changed && let Err(e) = backoff.save(inputs.store) {
        inputs
            .log
            .warn(format_args!("{e}; the provider backoff list is not kept"));
    }
}

/// The verdict over every answer (for `detect`, which asks all).
fn recount(asked: &[Asked], quorum: usize) -> Verdict {
    let mut votes: Vec<(IpAddr, usize)> = Vec::new();
    for a in asked {
        if let Ok(ip) = a.answer.result {
            match votes.iter_mut().find(|(v, _)| *v == ip) {
                Some((_, n)) => *n += 1,
                None => votes.push((ip, 1)),
            }
        }
    }
    votes.sort_by_key(|v| std::cmp::Reverse(v.1));
    let valid: usize = votes.iter().map(|(_, n)| n).sum();
    match votes.first() {
        Some((addr, n)) if *n >= quorum && 3 * n >= 2 * valid => Verdict::Agreed {
            addr: *addr,
            votes: *n,
            valid,
        },
        _ if votes.len() > 1 && valid >= quorum => Verdict::Disagree { votes },
        _ => Verdict::TooFew {
            valid,
            asked: asked.len(),
        },
    }
}

/// The admin's message for a failed consensus, naming every answer. `setup` is how many
/// providers are listed and the configured proxy, which is blamed when nobody answered.
fn failure(verdict: &Verdict, asked: &[Asked], n: u8, setup: (usize, Option<&str>)) -> String {
    let (listed, proxy) = setup;
    let answers: Vec<String> = asked
        .iter()
        .map(|a| match &a.answer.result {
            Ok(ip) => format!("{} {ip}", a.provider.url),
            Err(why) => format!("{} {why}", a.provider.url),
        })
        .collect();
    let answers = answers.join("; ");
    match verdict {
        Verdict::Disagree { votes } => format!(
            "providers disagree on the IPv{n} address: {} ({answers}); this often means carrier-grade NAT with an address pool, or a transparent proxy",
            votes
                .iter()
                .map(|(ip, v)| format!("{ip} ({v})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Verdict::Timeout { valid, asked } => format!(
            "no IPv{n} consensus within detect_timeout: {valid} usable answer(s) from {asked} provider(s) asked ({answers})"
        ),
        Verdict::TooFew { valid, asked } if listed == 0 => format!(
            "no IPv{n} provider left to ask ({valid} of {asked}): every provider is backed off or none is listed"
        ),
        Verdict::TooFew {
            valid,
            asked: count,
        } => {
            let cause = match proxy {
                Some(proxy) if asked.iter().all(|a| a.answer.status.is_none()) => format!(
                    // The config refuses a proxy URL with credentials.
                    "no provider answered through [client] proxy {proxy}; check that the proxy runs and lets the requests through"
                ),
                _ => "the network or the providers are down".to_string(),
            };
            format!(
                "only {valid} of {count} providers gave a usable IPv{n} answer ({answers}): {cause}"
            )
        }
        Verdict::Agreed { .. } => String::new(),
    }
}

/// Shuffles in place with a seed from the standard library's per-process random state.
fn shuffle<T>(items: &mut [T]) {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    for i in (1..items.len()).rev() {
        hasher.write_usize(i);
        let j = (hasher.finish() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

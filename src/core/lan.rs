//! The hosts behind a router that follow the LAN prefix it was delegated: the principal's
//! `lan_hosts`, each moved to that prefix plus its own interface ID (and, with
//! `lan_hosts_ipv4`, to the router's IPv4 address), in the same writes as the names the
//! request asks for. They go through the same ACL; their outcomes are logged, not answered.

use super::Context;
use super::operation::Operation;
use super::plan::Wanted;
use crate::hostname::Hostname;
use crate::log::printable;
use crate::prefix::Ipv6Prefix;

/// The LAN hosts `user` may move, other than the names the request asks for itself.
pub fn followers(
    user: &str,
    lan_prefix: Option<Ipv6Prefix>,
    operations: &[Operation],
    named: &[Hostname],
    ctx: &Context<'_>,
) -> Vec<Wanted> {
    let Some(prefix) = lan_prefix else {
        return Vec::new();
    };
    let Some(lan) = ctx.general.ipv6.lan_hosts(user) else {
        ctx.log.info(format_args!(
            "user {}: LAN prefix {prefix} given, but no lan_hosts are configured for them; nothing follows it",
            printable(user)
        ));
        return Vec::new();
    };
    let mut wanted = vec![Operation::SetPrefix(prefix)];
    if lan.ipv4 {
        wanted.extend(
            operations
                .iter()
                .filter(|op| matches!(op, Operation::Set(std::net::IpAddr::V4(_))))
                .cloned(),
        );
    }
    let mut out: Vec<Wanted> = Vec::new();
    for name in &lan.names {
        if named.contains(name) || out.iter().any(|w| &w.name == name) {
            continue;
        }
        if !ctx.acl.allows(user, name) {
            ctx.log.warn(format_args!(
                "user {}: LAN host {name} is not among the names they may change (allowed_hostnames); left alone",
                printable(user)
            ));
            continue;
        }
        out.push(Wanted {
            name: name.clone(),
            operations: wanted.clone(),
        });
    }
    out
}

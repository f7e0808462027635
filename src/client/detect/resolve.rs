//! `resolve`: the address another name resolves to, through the system resolver (what
//! gandi-ddns.py's `host` did). A loopback answer means the name is this machine's own
//! (`localhost`, Debian's `127.0.1.1`), which is never the public address.

use std::net::{IpAddr, ToSocketAddrs};

/// The one address of the family `name` resolves to.
pub fn run(name: &str, v6: bool) -> Result<IpAddr, String> {
    let family = if v6 { 6 } else { 4 };
    let found: Vec<IpAddr> = (name, 0)
        .to_socket_addrs()
        .map_err(|e| {
            format!(
                "resolve_v{family}: {} does not resolve ({e})",
                crate::log::printable(name)
            )
        })?
        .map(|a| a.ip())
        .map(|ip| match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        })
        .filter(|ip| ip.is_ipv6() == v6)
        .fold(Vec::new(), |mut all, ip| {
            if !all.contains(&ip) {
                all.push(ip);
            }
            all
        });
    match found.as_slice() {
        [one] if one.is_loopback() => Err(format!(
            "resolve_v{family}: {} resolves to the loopback address {one}, which is this machine's own name, not its public address; use ipv{family} = web",
            crate::log::printable(name)
        )),
        [one] => Ok(*one),
        [] => Err(format!(
            "resolve_v{family}: {} has no IPv{family} address",
            crate::log::printable(name)
        )),
        many => Err(format!(
            "resolve_v{family}: {} resolves to {} addresses ({}), not one",
            crate::log::printable(name),
            many.len(),
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

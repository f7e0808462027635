//! `trusted_sources`: networks whose devices act for one user without sending credentials
//! (a Cisco ASA's auto-update client sends neither a password nor an address).

use std::net::IpAddr;

use crate::log::printable;

/// One network in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`; a bare address is /32 or
/// /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Reads one network; the problem says what is wrong.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{}` is not an IPv4 or IPv6 address", printable(addr)))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`/{}` is not a prefix length 0–{max}", printable(p)))?,
        };
        let cidr = Cidr { network, prefix };
        if !cidr.contains(network) || bits(network) & !mask(prefix, max) != 0 {
            return Err(format!(
                "`{}` has bits set after the prefix; write the network address",
                printable(text)
            ));
        }
        Ok(cidr)
    }

    /// Whether `addr` lies in the network; an IPv4-mapped IPv6 address counts as IPv4.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        addr.is_ipv4() == self.network.is_ipv4()
            && bits(addr) & mask(self.prefix, max) == bits(self.network)
    }
}

fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The prefix's mask within an address of `max` bits.
fn mask(prefix: u8, max: u8) -> u128 {
    let all = if max == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    match u32::from(max - prefix) {
        128 => 0,
        host => all & !((1u128 << host) - 1),
    }
}

/// The networks of a `trusted_sources` value (space-separated).
pub fn parse_list(text: &str) -> Result<Vec<Cidr>, String> {
    text.split_whitespace().map(Cidr::parse).collect()
}

/// Whether the source address lies in any of the networks.
pub fn is_trusted(list: &[Cidr], source: Option<&str>) -> bool {
    source
        .and_then(|s| s.parse::<IpAddr>().ok())
        .is_some_and(|addr| list.iter().any(|cidr| cidr.contains(addr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_networks_of_both_families() {
        let list = parse_list("192.0.2.0/24 2001:db8::/32  198.51.100.7").unwrap();
        for yes in [
            "192.0.2.1",
            "192.0.2.255",
            "::ffff:192.0.2.9",
            "2001:db8::1",
            "198.51.100.7",
        ] {
            assert!(is_trusted(&list, Some(yes)), "{yes}");
        }
        for no in ["192.0.3.1", "198.51.100.8", "2001:db9::1", "x", ""] {
            assert!(!is_trusted(&list, Some(no)), "{no}");
        }
        assert!(!is_trusted(&list, None));
        assert!(is_trusted(
            &parse_list("0.0.0.0/0").unwrap(),
            Some("84.1.1.1")
        ));
        assert!(!is_trusted(
            &parse_list("0.0.0.0/0").unwrap(),
            Some("2001:db8::1")
        ));
    }

    #[test]
    fn refuses_what_is_not_a_network() {
        for bad in [
            "192.0.2.0/33",
            "192.0.2.1/24",
            "example.com",
            "2001:db8::/129",
            "1.2.3.4/x",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }
}

//! Networks in CIDR notation, as the config names them (`trusted_sources`,
//! `[client] accept_ranges`).

use std::fmt;
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

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn networks_hold_their_addresses_and_print_as_written() {
        let doc = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(doc.contains("203.0.113.9".parse().unwrap()));
        assert!(!doc.contains("203.0.114.9".parse().unwrap()));
        assert_eq!(doc.to_string(), "203.0.113.0/24");
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::9".parse().unwrap()));
        assert!(!v6.contains("203.0.113.9".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("10.1.1.1".parse().unwrap())
        );
        assert!(
            Cidr::parse("::/0")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
    }
}

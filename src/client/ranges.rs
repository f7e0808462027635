//! Which detected addresses may be published: the public-address rules the CGI uses, with
//! `accept_ranges` for the labs and LAN-only zones that need special-purpose addresses.

use std::net::IpAddr;

use crate::address::{self, AddressError};

/// An address block, `203.0.113.0/24` or `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    base: IpAddr,
    len: u8,
}

impl Cidr {
    /// Whether `ip` lies inside the block (an IPv4 block never holds an IPv6 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(base) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(base) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(text: &str) -> Result<Cidr, String> {
        let bad = || {
            format!(
                "`{}` is not an address block such as 203.0.113.0/24 or 2001:db8::/32",
                crate::log::printable(text)
            )
        };
        let (base, len) = text.split_once('/').ok_or_else(bad)?;
        let base: IpAddr = base.parse().map_err(|_| bad())?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let len: u8 = len.parse().ok().filter(|l| *l <= max).ok_or_else(bad)?;
        Ok(Cidr { base, len })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.len)
    }
}

/// Why a detected address cannot be published, in words that say what to do.
pub fn refusal(ip: IpAddr, allow_private: bool, accept: &[Cidr]) -> Option<String> {
    if accept.iter().any(|range| range.contains(ip)) {
        return None;
    }
    match address::check_usable(ip, allow_private) {
        Ok(()) => None,
        Err(AddressError::NotPublic(kind)) if kind.contains("CGNAT") => Some(format!(
            "{ip} is a carrier-grade NAT (100.64.0.0/10) address: the provider shares one public IPv4 among many customers, and no connection from outside reaches this host through it; use IPv6 (ipv6 = web or interface) or a tunnel"
        )),
        Err(e) => Some(format!(
            "{ip} is {e}; list its range in [client] accept_ranges if it really is meant to be published"
        )),
    }
}

/// An address as a provider or command writes it: strictly (no leading zeros), with an
/// IPv4-mapped IPv6 address unwrapped.
pub fn parse_strict(text: &str) -> Option<IpAddr> {
    let ip: IpAddr = text.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_their_addresses() {
        let doc: Cidr = "203.0.113.0/24".parse().unwrap();
        assert!(doc.contains("203.0.113.9".parse().unwrap()));
        assert!(!doc.contains("203.0.114.9".parse().unwrap()));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::9".parse().unwrap()));
        assert!(!v6.contains("203.0.113.9".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("10.1.1.1".parse().unwrap()));
        for bad in ["203.0.113.0", "203.0.113.0/33", "x/8", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn special_addresses_are_refused_unless_accepted() {
        let accept: Vec<Cidr> = vec!["192.0.2.0/24".parse().unwrap()];
        assert_eq!(refusal("84.17.5.9".parse().unwrap(), false, &[]), None);
        assert_eq!(refusal("192.0.2.7".parse().unwrap(), false, &accept), None);
        assert!(refusal("192.0.2.7".parse().unwrap(), false, &[]).is_some());
        let cgnat = refusal("100.64.1.1".parse().unwrap(), false, &[]).unwrap();
        assert!(cgnat.contains("carrier-grade NAT"), "{cgnat}");
        assert!(refusal("fe80::1".parse().unwrap(), false, &[]).is_some());
        assert_eq!(parse_strict("192.000.002.001"), None);
        assert_eq!(parse_strict("::ffff:84.17.5.9"), "84.17.5.9".parse().ok());
    }
}

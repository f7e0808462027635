//! Which detected addresses may be published: the public-address rules the CGI uses, with
//! `accept_ranges` for the labs and LAN-only zones that need special-purpose addresses.

use std::net::IpAddr;

use crate::address::{self, AddressError};
use crate::cidr::Cidr;

/// One `accept_ranges` block: a network written with its length (`203.0.113.0/24`,
/// `2001:db8::/32`); a bare address is no block here.
pub fn block(text: &str) -> Result<Cidr, String> {
    if !text.contains('/') {
        return Err(format!(
            "`{}` is not an address block such as 203.0.113.0/24 or 2001:db8::/32",
            crate::log::printable(text)
        ));
    }
    Cidr::parse(text)
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
    fn a_block_needs_its_length() {
        assert!(block("203.0.113.0/24").is_ok());
        for bad in [
            "203.0.113.0",
            "203.0.113.0/33",
            "x/8",
            "::/129",
            "203.0.113.7/24",
        ] {
            assert!(block(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn special_addresses_are_refused_unless_accepted() {
        let accept: Vec<Cidr> = vec![block("192.0.2.0/24").unwrap()];
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

//! Addresses as routers send them: parsing, and the public-address check.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address cannot be set; every variant is answered `badip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// Not an IPv4 or IPv6 address at all.
    Unparsable,
    /// A router placeholder that was never filled in (`<ipaddr>`, `[IP]`, `__MYIP__`).
    Placeholder,
    /// Two addresses of one family, or two different IPv6 in `myip` and `myipv6`.
    Conflict,
    /// More than one IPv4 and one IPv6.
    TooMany,
    /// Parsed, but not an address a host on the Internet can have.
    NotPublic(&'static str),
    /// A 6to4 address (`2002::/16`) whose embedded IPv4 address is of this kind: a 6to4
    /// address is only as public as the IPv4 address it is made from.
    SixToFour(&'static str),
    /// Not an ACME challenge value: the 43-character base64url SHA-256 digest.
    TxtValue,
    /// Not an IPv6 prefix written as `ADDRESS/LENGTH` (text glued to the length, say).
    NotAPrefix,
    /// A prefix length outside 1 to 64.
    PrefixLength(u8),
    /// An interface ID with bits inside the prefix.
    InterfaceIdTooWide {
        /// The interface ID.
        id: Ipv6Addr,
        /// The prefix length it was to follow.
        prefix_len: u8,
    },
}

impl AddressError {
    /// Whether the request asked for a challenge TXT value rather than addresses.
    pub fn is_txt(&self) -> bool {
        matches!(self, AddressError::TxtValue)
    }
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::Unparsable => f.write_str("not an IPv4 or IPv6 address"),
            AddressError::Placeholder => {
                f.write_str("an unfilled placeholder; the router did not substitute its address")
            }
            AddressError::Conflict => f.write_str("two different addresses of one family"),
            AddressError::TooMany => f.write_str("more than one address per family"),
            AddressError::NotPublic(kind) => write!(f, "a {kind} address, not a public one"),
            AddressError::SixToFour(kind) => write!(
                f,
                "a 6to4 address made from a {kind} IPv4 address, not a public one"
            ),
            AddressError::TxtValue => f.write_str(
                "a TXT value that is not an ACME challenge value (43 characters of base64url, the SHA-256 digest of a key authorization); only such values can be set",
            ),
            AddressError::NotAPrefix => f.write_str(
                "not an IPv6 prefix written as ADDRESS/LENGTH, such as 2a02:908:1200:1234::/64",
            ),
            AddressError::PrefixLength(len) => {
                write!(f, "a /{len} prefix; prefix lengths of 1 to 64 are accepted")
            }
            AddressError::InterfaceIdTooWide { id, prefix_len } => write!(
                f,
                "interface ID {id} does not fit in the {} host bits of a /{prefix_len} prefix",
                128 - u32::from(*prefix_len)
            ),
        }
    }
}

/// Parses one address as a router sends it. IPv4 octets with leading zeros are decimal
/// (`192.000.002.001`, as ddclient's own parser reads them), never octal; an IPv4-mapped
/// IPv6 address becomes IPv4; brackets, zone indexes and prefixes are refused.
pub fn parse_ip(text: &str) -> Result<IpAddr, AddressError> {
    let text = text.trim();
    if is_placeholder(text) {
        return Err(AddressError::Placeholder);
    }
    if let Some(v4) = parse_ipv4_decimal(text) {
        return Ok(IpAddr::V4(v4));
    }
    let v6: Ipv6Addr = text.parse().map_err(|_| AddressError::Unparsable)?;
    Ok(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

/// A router placeholder left unfilled.
pub fn is_placeholder(text: &str) -> bool {
    (text.contains('<') && text.contains('>'))
        || (text.starts_with('[') && text.ends_with(']') && !text.contains(':'))
        || text.contains("__")
        || text.starts_with('%')
}

fn parse_ipv4_decimal(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// Refuses addresses no router on the Internet has. `allow_private` admits RFC 1918,
/// CGNAT and unique-local addresses, for zones that serve a LAN.
pub fn check_usable(ip: IpAddr, allow_private: bool) -> Result<(), AddressError> {
    let kind = match ip {
        IpAddr::V4(v4) => ipv4_kind(v4),
        IpAddr::V6(v6) => {
            // A 6to4 address made from a private IPv4 address is no LAN address either:
            // `allow_private_addresses` does not admit it.
            if let Some(embedded) = six_to_four(v6) {
                return ipv4_kind(embedded)
                    .map_or(Ok(()), |kind| Err(AddressError::SixToFour(kind)));
            }
            ipv6_kind(v6)
        }
    };
    match kind {
        None => Ok(()),
        Some(kind @ ("private" | "shared (CGNAT)" | "unique-local")) if allow_private => {
            let _ = kind;
            Ok(())
        }
        Some(kind) => Err(AddressError::NotPublic(kind)),
    }
}

fn ipv4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() || a == 0 => "unspecified",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        (100, 64..=127, _) => "shared (CGNAT)",
        _ if ip.is_link_local() => "link-local",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_broadcast() || a >= 240 => "reserved",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (192, 0, 0) => "protocol-assignment",
        (192, 88, 99) => "6to4-relay",
        _ => return None,
    })
}

fn ipv6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xfc00..=0xfdff => "unique-local",
        0xff00..=0xffff => "multicast",
        0x2001 => match s[1] {
            // Teredo hides the client's real address; a record pointing at it breaks as
            // soon as the tunnel's NAT mapping changes.
            0x0000 => "Teredo",
            0x0002 if s[2] == 0 => "benchmarking",
            0x0010..=0x002f => "ORCHID",
            0x0db8 => "documentation",
            _ => return None,
        },
        0x3fff if s[1] <= 0x0fff => "documentation",
        0x2000..=0x3fff => return None,
        _ => "reserved",
    })
}

/// The IPv4 address a 6to4 address (`2002:V4HI:V4LO::/48`) is made from.
fn six_to_four(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    (s[0] == 0x2002).then(|| Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_routers_send() {
        assert_eq!(
            parse_ip(" 84.17.5.9 ").unwrap(),
            "84.17.5.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            parse_ip("084.017.005.009").unwrap(),
            "84.17.5.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            parse_ip("::ffff:84.17.5.9").unwrap(),
            "84.17.5.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            parse_ip("2a01:4f8::9").unwrap(),
            "2a01:4f8::9".parse::<IpAddr>().unwrap()
        );
        for bad in [
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "fe80::1%eth0",
            "[2a01::1]",
            "2a01::/64",
            "x",
        ] {
            assert_eq!(parse_ip(bad), Err(AddressError::Unparsable), "{bad}");
        }
        for placeholder in ["<ipaddr>", "[IP]", "__MYIP__", "%IP%", "<ip6addr>"] {
            assert_eq!(
                parse_ip(placeholder),
                Err(AddressError::Placeholder),
                "{placeholder}"
            );
        }
    }

    #[test]
    fn only_public_addresses_are_usable() {
        let usable = |s: &str, p| check_usable(s.parse().unwrap(), p);
        assert!(usable("84.17.5.9", false).is_ok());
        assert!(usable("2a01:4f8::9", false).is_ok());
        for bad in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "0.0.0.0",
            "169.254.1.1",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.7",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "2001:db8::7",
        ] {
            assert!(usable(bad, false).is_err(), "{bad}");
        }
        assert!(usable("192.168.1.1", true).is_ok());
        assert!(usable("fd00::1", true).is_ok());
        assert!(usable("127.0.0.1", true).is_err());
    }

    /// Every block of the special-purpose list (seed-systems.md §6.4.5), at both ends, and
    /// the public neighbours just outside it.
    #[test]
    fn the_special_purpose_blocks_are_refused_at_both_ends() {
        let usable = |s: &str| check_usable(s.parse().unwrap(), false);
        let refused = [
            ("0.0.0.0", "0.255.255.255"),
            ("10.0.0.0", "10.255.255.255"),
            ("100.64.0.0", "100.127.255.255"),
            ("127.0.0.0", "127.255.255.255"),
            ("169.254.0.0", "169.254.255.255"),
            ("172.16.0.0", "172.31.255.255"),
            ("192.0.0.0", "192.0.0.255"),
            ("192.0.2.0", "192.0.2.255"),
            ("192.88.99.0", "192.88.99.255"),
            ("192.168.0.0", "192.168.255.255"),
            ("198.18.0.0", "198.19.255.255"),
            ("198.51.100.0", "198.51.100.255"),
            ("203.0.113.0", "203.0.113.255"),
            ("224.0.0.0", "239.255.255.255"),
            ("240.0.0.0", "255.255.255.255"),
            ("2001::", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff"),
            ("2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("::", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("4000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("64:ff9b::", "64:ff9b::ffff:ffff"),
        ];
        for (first, last) in refused {
            assert!(usable(first).is_err(), "{first}");
            assert!(usable(last).is_err(), "{last}");
        }
        for public in [
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.0.3.0",
            "192.88.98.255",
            "192.88.100.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2000::1",
            "2001:1::1",
            "2001:2:1::1",
            "2001:30::1",
            "2001:db9::1",
            "2a01:4f8::9",
            "3fff:1000::1",
        ] {
            assert_eq!(usable(public), Ok(()), "{public}");
        }
    }

    #[test]
    fn teredo_is_refused() {
        assert_eq!(
            check_usable(
                "2001:0:4136:e378:8000:63bf:3fff:fdd2".parse().unwrap(),
                true
            ),
            Err(AddressError::NotPublic("Teredo"))
        );
    }

    /// A 6to4 address is judged by the IPv4 address inside it, whatever follows it.
    #[test]
    fn six_to_four_is_judged_by_its_ipv4_address() {
        let usable = |s: &str, p| check_usable(s.parse().unwrap(), p);
        assert_eq!(usable("2002:5411:0509::1", false), Ok(()));
        assert_eq!(usable("2002:5411:0509:ffff::1", false), Ok(()));
        for (bad, kind) in [
            ("2002:c000:0204::1", "documentation"),
            ("2002:0a00:0001::1", "private"),
            ("2002:7f00:0001::1", "loopback"),
            ("2002:6440:0001::1", "shared (CGNAT)"),
            ("2002::1", "unspecified"),
            ("2002:c058:6301::1", "6to4-relay"),
            ("2002:e000:0001::1", "multicast"),
            ("2002:ffff:ffff::1", "reserved"),
        ] {
            assert_eq!(
                usable(bad, false),
                Err(AddressError::SixToFour(kind)),
                "{bad}"
            );
        }
        // Not a LAN address, even where LAN addresses are allowed.
        assert_eq!(
            usable("2002:c0a8:0101::1", true),
            Err(AddressError::SixToFour("private"))
        );
        assert_eq!(
            AddressError::SixToFour("documentation").to_string(),
            "a 6to4 address made from a documentation IPv4 address, not a public one"
        );
    }
}

//! IPv6 prefixes as routers send them (`2a02:908:1200:1234::/64`) and interface IDs as the
//! admin writes them (`::211:32ff:fe12:3456`): one host's address is the prefix's bits plus
//! its interface ID. A parser of its own, so that the address parser keeps refusing a
//! `/len` suffix where a plain address is meant.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use crate::address::{AddressError, check_usable, is_placeholder, parse_ip};

/// The longest prefix a request may carry: the host part must be a whole interface ID.
pub const MAX_PREFIX_LEN: u8 = 64;

/// An IPv6 prefix: the network bits (host bits zero) and its length, 1 to 64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Prefix {
    network: Ipv6Addr,
    len: u8,
}

impl Ipv6Prefix {
    /// Parses `ADDRESS/LEN` strictly: one `/`, a decimal length of 1 to 64 and nothing
    /// glued to it (`…::/647656:…`). Host bits are dropped, so that an interface's own
    /// address with its length, as `ip -6 addr` prints it, names its prefix.
    pub fn parse(text: &str) -> Result<Ipv6Prefix, AddressError> {
        let text = text.trim();
        if is_placeholder(text) {
            return Err(AddressError::Placeholder);
        }
        let (addr, len) = text.split_once('/').ok_or(AddressError::NotAPrefix)?;
        if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AddressError::NotAPrefix);
        }
        let len: u8 = len.parse().map_err(|_| AddressError::NotAPrefix)?;
        let network = match parse_ip(addr)? {
            IpAddr::V6(v6) => v6,
            IpAddr::V4(_) => return Err(AddressError::NotAPrefix),
        };
        if !(1..=MAX_PREFIX_LEN).contains(&len) {
            return Err(AddressError::PrefixLength(len));
        }
        Ok(Ipv6Prefix::of(network, len))
    }

    /// The prefix of `addr` that is `len` (1 to 64) bits long: its host bits dropped.
    fn of(addr: Ipv6Addr, len: u8) -> Ipv6Prefix {
        let mask = Ipv6Prefix { network: addr, len }.mask();
        Ipv6Prefix {
            network: Ipv6Addr::from_bits(addr.to_bits() & mask),
            len,
        }
    }

    /// The prefix, refused unless it is one a router on the Internet can be delegated:
    /// its network address passes the same rules as any address.
    pub fn usable(self, allow_private: bool) -> Result<Ipv6Prefix, AddressError> {
        check_usable(IpAddr::V6(self.network), allow_private)?;
        Ok(self)
    }

    /// The prefix length.
    pub fn prefix_len(self) -> u8 {
        self.len
    }

    fn mask(self) -> u128 {
        u128::MAX << (128 - u32::from(self.len))
    }

    /// The address of the host with this interface ID, which must fit in the host bits and
    /// give an address as usable as any other.
    pub fn with(self, id: InterfaceId, allow_private: bool) -> Result<Ipv6Addr, AddressError> {
        let addr = self.join(id)?;
        check_usable(IpAddr::V6(addr), allow_private)?;
        Ok(addr)
    }

    /// The prefix's bits and the ID's, which must fit in the host bits.
    fn join(self, id: InterfaceId) -> Result<Ipv6Addr, AddressError> {
        let host = id.bits.to_bits();
        if host & self.mask() != 0 {
            return Err(AddressError::InterfaceIdTooWide {
                id: id.bits,
                prefix_len: self.len,
            });
        }
        Ok(Ipv6Addr::from_bits(self.network.to_bits() | host))
    }

    /// The interface ID of `addr` for this prefix's length: its host bits.
    pub fn host_part(self, addr: Ipv6Addr) -> InterfaceId {
        InterfaceId {
            bits: Ipv6Addr::from_bits(addr.to_bits() & !self.mask()),
            len: Some(self.len),
        }
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

/// A host's interface ID: its host bits written as an address. The length (of the prefix
/// it goes with) is used only where no prefix gives one, as for a detected address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterfaceId {
    bits: Ipv6Addr,
    /// The `/len` written after it, if any.
    len: Option<u8>,
}

impl InterfaceId {
    /// Parses `::211:32ff:fe12:3456` or `::211:32ff:fe12:3456/56`. Bits must fit below a
    /// length written; without one they are checked against each prefix they go with.
    pub fn parse(text: &str) -> Result<InterfaceId, String> {
        let text = text.trim();
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => {
                let len = len
                    .parse::<u8>()
                    .ok()
                    .filter(|l| (1..=MAX_PREFIX_LEN).contains(l))
                    .ok_or_else(|| format!("`/{len}` is not a prefix length of 1 to 64"))?;
                (addr, Some(len))
            }
            None => (text, None),
        };
        let bits: Ipv6Addr = addr.parse().map_err(|_| {
            format!("`{addr}` is not the host part written as an IPv6 address, such as ::211:32ff:fe12:3456")
        })?;
        if bits.to_bits() == 0 {
            return Err("an interface ID of all zeros is the subnet's own address".to_string());
        }
        let id = InterfaceId { bits, len };
        if let Some(len) = len
            && bits.to_bits() >> (128 - u32::from(len)) != 0
        {
            return Err(format!(
                "{bits} has bits inside a /{len} prefix; write only the host part (the last {} bits)",
                128 - u32::from(len)
            ));
        }
        Ok(id)
    }

    /// The prefix length this ID was written for: 64 unless a `/len` says otherwise.
    pub fn prefix_len(self) -> u8 {
        self.len.unwrap_or(64)
    }

    /// The host bits, written as an address.
    pub fn bits(self) -> Ipv6Addr {
        self.bits
    }

    /// The address of this ID under the prefix of `detected` (an address of this host,
    /// which carries no length): its first [`InterfaceId::prefix_len`] bits, then the ID.
    pub fn apply(self, detected: Ipv6Addr) -> Result<Ipv6Addr, AddressError> {
        // Only whether it fits is asked here; the caller checks the address as any other.
        Ipv6Prefix::of(detected, self.prefix_len()).join(self)
    }
}

impl fmt::Display for InterfaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(text: &str) -> Result<Ipv6Prefix, AddressError> {
        Ipv6Prefix::parse(text)
    }

    fn id(text: &str) -> InterfaceId {
        InterfaceId::parse(text).unwrap()
    }

    #[test]
    fn a_prefix_and_an_interface_id_make_the_hosts_address() {
        let p = prefix("2a02:908:1200:1234::/64").unwrap();
        assert_eq!(p.to_string(), "2a02:908:1200:1234::/64");
        let addr = p.with(id("::211:32ff:fe12:3456"), false).unwrap();
        assert_eq!(
            addr,
            "2a02:908:1200:1234:211:32ff:fe12:3456"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
        let p56 = prefix("2a02:908:1200:1200::/56").unwrap();
        let addr = p56.with(id("::34:211:32ff:fe12:3456"), false).unwrap();
        assert_eq!(
            addr,
            "2a02:908:1200:1234:211:32ff:fe12:3456"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
        assert_eq!(p.host_part(addr).bits(), id("::211:32ff:fe12:3456").bits());
    }

    #[test]
    fn what_is_not_a_usable_prefix_is_badip() {
        for (text, error) in [
            ("2a02:908:1200:1234::", AddressError::NotAPrefix),
            (
                "2a02:908:1200:1234::/647656:211:32ff:fe12:3456",
                AddressError::NotAPrefix,
            ),
            ("2a02:908:1200:1234::/", AddressError::NotAPrefix),
            ("2a02:908:1200:1234::/64/64", AddressError::NotAPrefix),
            ("<ip6lanprefix>", AddressError::Placeholder),
            ("__IPV6PREFIX__", AddressError::Placeholder),
            ("<ip6lanprefix>/64", AddressError::Placeholder),
            ("84.17.5.9/24", AddressError::NotAPrefix),
            ("2a02:908:1200:1234::/80", AddressError::PrefixLength(80)),
            ("2a02:908:1200:1234::/0", AddressError::PrefixLength(0)),
        ] {
            assert_eq!(prefix(text), Err(error), "{text}");
        }
        assert_eq!(
            prefix("2a02:908:1200:1234:1::1/64").unwrap().to_string(),
            "2a02:908:1200:1234::/64",
            "an interface's address names its prefix"
        );
        let doc = prefix("2001:db8:1::/48").unwrap();
        assert_eq!(
            doc.usable(false),
            Err(AddressError::NotPublic("documentation"))
        );
        let ula = prefix("fd00:1::/64").unwrap();
        assert!(ula.usable(false).is_err() && ula.usable(true).is_ok());
    }

    #[test]
    fn an_interface_id_must_fit_the_host_bits() {
        let p = prefix("2a02:908:1200:1234::/64").unwrap();
        assert_eq!(
            p.with(id("::1:0:0:0:1/48"), false),
            Err(AddressError::InterfaceIdTooWide {
                id: "::1:0:0:0:1".parse().unwrap(),
                prefix_len: 64
            })
        );
        // A wide prefix lets an ID reach into a documentation range.
        let wide = prefix("2000::/4").unwrap();
        assert_eq!(
            wide.with(id("1:db8::1/4"), false),
            Err(AddressError::NotPublic("documentation"))
        );
        assert!(InterfaceId::parse("2a02::1/64").is_err());
        assert!(InterfaceId::parse("::").is_err());
        assert!(InterfaceId::parse("::1/65").is_err());
        assert!(InterfaceId::parse("nas").is_err());
        assert_eq!(id("::1:0:0:0:1/48").prefix_len(), 48);
        assert_eq!(id("::211:32ff:fe12:3456").prefix_len(), 64);
    }
}

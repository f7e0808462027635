//! What a request asks for one record type of a host. A type not named is left alone.
//!
//! Each variant carries its own rules for local state (whether a repeat is answered from
//! state, whether it counts towards the abuse limit, what is remembered afterwards), so a
//! new kind of operation is one variant here plus its handling in each backend's `apply`.

use std::fmt;
use std::net::IpAddr;

use super::txt::TxtValue;
use crate::prefix::Ipv6Prefix;

/// The record types operations address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RrType {
    /// IPv4 address records.
    A,
    /// IPv6 address records.
    Aaaa,
    /// Text records, only as ACME DNS-01 challenge values (`core::txt`).
    Txt,
}

impl RrType {
    /// The type as DNS spells it.
    pub fn name(self) -> &'static str {
        match self {
            RrType::A => "A",
            RrType::Aaaa => "AAAA",
            RrType::Txt => "TXT",
        }
    }

    /// The type that holds this address.
    pub fn of(addr: IpAddr) -> RrType {
        match addr {
            IpAddr::V4(_) => RrType::A,
            IpAddr::V6(_) => RrType::Aaaa,
        }
    }
}

impl fmt::Display for RrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One change to one record type of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// The type holds exactly this address afterwards (`A` for IPv4, `AAAA` for IPv6).
    Set(IpAddr),
    /// No record of this type is left.
    Delete(RrType),
    /// The AAAA is this prefix plus the host's interface ID: the configured one
    /// (`[host:NAME] ipv6_interface_id`), else the host part of its current AAAA. The core
    /// turns it into a `Set` before a backend sees it.
    SetPrefix(Ipv6Prefix),
    /// The name's TXT record holds this challenge value besides the others it holds.
    TxtAdd(TxtValue),
    /// This challenge value goes from the name's TXT record, the others stay. Under the
    /// zone's lock the core keeps it only for a value it recorded for the principal.
    TxtRemove(TxtValue),
    /// Every challenge value recorded for the principal goes. The core turns it into one
    /// [`Operation::TxtRemove`] per value under the zone's lock; no registrar sees it.
    TxtClear,
}

impl Operation {
    /// The record type this operation changes.
    pub fn rr_type(&self) -> RrType {
        match self {
            Operation::Set(addr) => RrType::of(*addr),
            Operation::Delete(rr_type) => *rr_type,
            Operation::SetPrefix(_) => RrType::Aaaa,
            Operation::TxtAdd(_) | Operation::TxtRemove(_) | Operation::TxtClear => RrType::Txt,
        }
    }

    /// Whether this changes a challenge TXT value rather than an address record.
    pub fn is_txt(&self) -> bool {
        self.rr_type() == RrType::Txt
    }

    /// The address set, if this sets one.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            Operation::Set(addr) => Some(*addr),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::Set(addr) => write!(f, "{} {addr}", RrType::of(*addr)),
            Operation::Delete(rr_type) => write!(f, "delete {rr_type}"),
            Operation::SetPrefix(prefix) => write!(f, "AAAA {prefix}+id"),
            Operation::TxtAdd(value) => write!(f, "add TXT {value}"),
            Operation::TxtRemove(value) => write!(f, "remove TXT {value}"),
            Operation::TxtClear => f.write_str("remove own TXT"),
        }
    }
}

/// For log lines: `A 1.2.3.4 AAAA 2001:db8::1`, `delete A delete AAAA`.
pub fn describe(operations: &[Operation]) -> String {
    operations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The address set for IPv4, if any operation sets one.
pub fn v4(operations: &[Operation]) -> Option<std::net::Ipv4Addr> {
    operations.iter().find_map(|op| match op {
        Operation::Set(IpAddr::V4(a)) => Some(*a),
        _ => None,
    })
}

/// The address set for IPv6, if any operation sets one.
pub fn v6(operations: &[Operation]) -> Option<std::net::Ipv6Addr> {
    operations.iter().find_map(|op| match op {
        Operation::Set(IpAddr::V6(a)) => Some(*a),
        _ => None,
    })
}

//! Turning "this IPv6 prefix plus the host's interface ID" into the host's address. The
//! interface ID is the configured one when there is one; else the host part of the AAAA
//! the host has now, read under the zone's lock. For the state rules alone (is this a
//! repeat? would it change the host?), the AAAA that state remembers stands in for it.

use std::net::{IpAddr, Ipv6Addr};

use super::operation::Operation;
use crate::address::AddressError;
use crate::config::General;
use crate::hostname::Hostname;
use crate::prefix::Ipv6Prefix;
use crate::state::HostState;

/// Why a prefix gave no address for a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// Neither the config nor a single current AAAA gives an interface ID.
    NoInterfaceId {
        /// How many AAAA values the host has (0, or several).
        current: usize,
    },
    /// The address made is not one to set.
    Address(AddressError),
}

/// Whether any operation still waits for an interface ID.
pub fn has_prefix(operations: &[Operation]) -> bool {
    operations
        .iter()
        .any(|op| matches!(op, Operation::SetPrefix(_)))
}

/// The operations with the configured interface ID applied, where the host has one.
pub fn with_configured_id(
    host: &Hostname,
    operations: &[Operation],
    general: &General,
) -> Result<Vec<Operation>, AddressError> {
    let Some(id) = general.ipv6.interface_id(host) else {
        return Ok(operations.to_vec());
    };
    resolve(operations, |prefix| {
        prefix.with(id, general.allow_private_addresses)
    })
}

/// The operations as state sees them: a prefix joined to the host part of the AAAA state
/// remembers. Left as it is when state remembers none (the rules then read the record).
pub fn with_remembered_id(operations: &[Operation], state: &HostState) -> Vec<Operation> {
    let Some(IpAddr::V6(known)) = state.v6.as_ref().map(|f| f.addr) else {
        return operations.to_vec();
    };
    operations
        .iter()
        .map(|op| match op {
            // Checked again once the record is read; here only equality matters.
            Operation::SetPrefix(prefix) => {
                let id = prefix.host_part(known);
                prefix
                    .with(id, true)
                    .map_or(op.clone(), |addr| Operation::Set(IpAddr::V6(addr)))
            }
            other => other.clone(),
        })
        .collect()
}

/// The operations with the host part of the host's current AAAA values as the registrar
/// gives them, which must be exactly one IPv6 address.
pub fn with_current_id(
    operations: &[Operation],
    current: &[String],
    allow_private: bool,
) -> Result<Vec<Operation>, Unresolved> {
    if !has_prefix(operations) {
        return Ok(operations.to_vec());
    }
    let parsed: Vec<Ipv6Addr> = current
        .iter()
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let ([now], true) = (parsed.as_slice(), parsed.len() == current.len()) else {
        return Err(Unresolved::NoInterfaceId {
            current: current.len(),
        });
    };
    resolve(operations, |prefix| {
        prefix.with(prefix.host_part(*now), allow_private)
    })
    .map_err(Unresolved::Address)
}

fn resolve(
    operations: &[Operation],
    address: impl Fn(Ipv6Prefix) -> Result<Ipv6Addr, AddressError>,
) -> Result<Vec<Operation>, AddressError> {
    operations
        .iter()
        .map(|op| match op {
            Operation::SetPrefix(prefix) => address(*prefix).map(|a| Operation::Set(IpAddr::V6(a))),
            other => Ok(other.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Family;

    fn prefix(text: &str) -> Operation {
        Operation::SetPrefix(Ipv6Prefix::parse(text).unwrap())
    }

    fn set(text: &str) -> Operation {
        Operation::Set(text.parse().unwrap())
    }

    #[test]
    fn the_current_records_host_part_follows_the_new_prefix() {
        let ops = [set("84.17.5.9"), prefix("2a02:908:1200:99::/64")];
        let current = "2a02:908:1200:1234:211:32ff:fe12:3456".to_string();
        assert_eq!(
            with_current_id(&ops, std::slice::from_ref(&current), false),
            Ok(vec![
                set("84.17.5.9"),
                set("2a02:908:1200:99:211:32ff:fe12:3456")
            ])
        );
        assert_eq!(
            with_current_id(&ops, &[], false),
            Err(Unresolved::NoInterfaceId { current: 0 })
        );
        assert_eq!(
            with_current_id(&ops, &[current.clone(), current], false),
            Err(Unresolved::NoInterfaceId { current: 2 })
        );
        assert_eq!(
            with_current_id(&ops, &["not an address".to_string()], false),
            Err(Unresolved::NoInterfaceId { current: 1 })
        );
    }

    #[test]
    fn state_stands_in_for_the_record_only_in_the_rules() {
        let ops = [prefix("2a02:908:1200:99::/64")];
        assert_eq!(with_remembered_id(&ops, &HostState::default()), ops);
        let state = HostState {
            v6: Some(Family {
                addr: "2a02:908:1200:1234::7".parse().unwrap(),
                seen_at: 1,
                ttl: None,
                by: "router".into(),
            }),
            ..HostState::default()
        };
        assert_eq!(
            with_remembered_id(&ops, &state),
            [set("2a02:908:1200:99::7")]
        );
    }
}

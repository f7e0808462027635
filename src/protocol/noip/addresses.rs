//! The addresses of a NoIP request: `myip` (one or two addresses, either order), `myipv6`,
//! or else the source address; and, for a delete, which families `myip` narrows it to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::address::{AddressError, check_usable, parse_ip};
use crate::core::operation::{Operation, RrType};
use crate::prefix::Ipv6Prefix;
use crate::protocol::params::Params;

/// An address to set, with the text to echo back (clients such as ddclient compare the echo
/// byte for byte with what they sent, so it is never re-formatted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<A> {
    /// The parsed address.
    pub addr: A,
    /// What the client sent (trimmed), or the canonical form of the source address.
    pub echo: String,
}

/// At most one address per family; a family not named is left untouched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// The A record's new value.
    pub v4: Option<Target<Ipv4Addr>>,
    /// The AAAA record's new value.
    pub v6: Option<Target<Ipv6Addr>>,
    /// Or the prefix the AAAA takes, each host keeping its interface ID (`myipv6=P/LEN`).
    pub v6_prefix: Option<Target<Ipv6Prefix>>,
}

impl Targets {
    /// `good`/`nochg` echo: IPv4 first, then IPv6, comma separated (as No-IP does).
    pub fn echo(&self) -> String {
        let v6 = self
            .v6
            .as_ref()
            .map(|t| &t.echo)
            .or(self.v6_prefix.as_ref().map(|t| &t.echo));
        match (&self.v4, v6) {
            (Some(a), Some(b)) => format!("{},{b}", a.echo),
            (Some(a), None) => a.echo.clone(),
            (None, Some(b)) => b.clone(),
            (None, None) => String::new(),
        }
    }

    /// The operations: set each named family.
    pub fn operations(&self) -> Vec<Operation> {
        let v4 = self.v4.as_ref().map(|t| Operation::Set(IpAddr::V4(t.addr)));
        let v6 = self.v6.as_ref().map(|t| Operation::Set(IpAddr::V6(t.addr)));
        let prefix = self
            .v6_prefix
            .as_ref()
            .map(|t| Operation::SetPrefix(t.addr));
        v4.into_iter().chain(v6).chain(prefix).collect()
    }
}

/// The texts of `myip` (at most two) and `myipv6`.
fn given(params: &Params) -> Result<(Vec<&str>, Option<&str>), AddressError> {
    let mut given = Vec::new();
    if let Some(list) = params.get("myip") {
        let parts: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.len() > 2 {
            return Err(AddressError::TooMany);
        }
        given.extend(parts);
    }
    Ok((given, params.get("myipv6").map(str::trim)))
}

/// The addresses to set, each usable.
pub fn targets(
    params: &Params,
    remote_addr: Option<&str>,
    allow_private: bool,
) -> Result<Targets, AddressError> {
    let targets = read_targets(params, remote_addr)?;
    if let Some(t) = &targets.v4 {
        check_usable(IpAddr::V4(t.addr), allow_private)?;
    }
    if let Some(t) = &targets.v6 {
        check_usable(IpAddr::V6(t.addr), allow_private)?;
    }
    if let Some(t) = &targets.v6_prefix {
        t.addr.usable(allow_private)?;
    }
    Ok(targets)
}

/// `ip6lanprefix`, the prefix of the router's LAN (the FRITZ!Box's placeholder name); an
/// empty value is absent, anything else must be a usable prefix.
pub fn lan_prefix(
    params: &Params,
    allow_private: bool,
) -> Result<Option<Ipv6Prefix>, AddressError> {
    match params.get("ip6lanprefix").map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => Ipv6Prefix::parse(text)?.usable(allow_private).map(Some),
    }
}

fn read_targets(params: &Params, remote_addr: Option<&str>) -> Result<Targets, AddressError> {
    let mut targets = Targets::default();
    let (given, v6_param) = given(params)?;
    for text in given {
        let echo = text.to_string();
        match parse_ip(text)? {
            IpAddr::V4(addr) if targets.v4.is_none() => targets.v4 = Some(Target { addr, echo }),
            IpAddr::V6(addr) if targets.v6.is_none() => targets.v6 = Some(Target { addr, echo }),
            _ => return Err(AddressError::Conflict),
        }
    }
    if let Some(text) = v6_param.filter(|t| t.contains('/')) {
        if targets.v6.is_some() {
            return Err(AddressError::Conflict);
        }
        let addr = Ipv6Prefix::parse(text)?;
        let echo = text.to_string();
        targets.v6_prefix = Some(Target { addr, echo });
    } else if let Some(text) = v6_param {
        match parse_ip(text)? {
            IpAddr::V6(addr) => match &targets.v6 {
                Some(existing) if existing.addr != addr => return Err(AddressError::Conflict),
                Some(_) => {}
                None => {
                    let echo = text.to_string();
                    targets.v6 = Some(Target { addr, echo });
                }
            },
            IpAddr::V4(_) => return Err(AddressError::Unparsable),
        }
    }
    if targets.v4.is_none() && targets.v6.is_none() && targets.v6_prefix.is_none() {
        let source = remote_addr.ok_or(AddressError::Unparsable)?;
        match parse_ip(source)? {
            IpAddr::V4(addr) => {
                let echo = addr.to_string();
                targets.v4 = Some(Target { addr, echo });
            }
            IpAddr::V6(addr) => {
                let echo = addr.to_string();
                targets.v6 = Some(Target { addr, echo });
            }
        }
    }
    Ok(targets)
}

/// A delete (nsupdate.info's `/nic/delete`): both families, or only those `myip` and
/// `myipv6` name. Any address stands for its family, `0.0.0.0` and `::` included, so the
/// public-address check does not apply; the source address never narrows anything.
pub fn deletions(params: &Params) -> Result<Vec<Operation>, AddressError> {
    let (given, v6_param) = given(params)?;
    let mut types = Vec::new();
    for text in given.into_iter().chain(v6_param) {
        types.push(RrType::of(parse_ip(text)?));
    }
    if v6_param.is_some_and(|text| parse_ip(text).is_ok_and(|a| a.is_ipv4())) {
        return Err(AddressError::Unparsable);
    }
    if types.is_empty() {
        types = vec![RrType::A, RrType::Aaaa];
    }
    types.sort();
    types.dedup();
    Ok(types.into_iter().map(Operation::Delete).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        Params::read(query, None, b"")
    }

    #[test]
    fn a_delete_is_narrowed_by_the_families_named() {
        let both = vec![
            Operation::Delete(RrType::A),
            Operation::Delete(RrType::Aaaa),
        ];
        assert_eq!(deletions(&params("hostname=h")), Ok(both.clone()));
        assert_eq!(
            deletions(&params("myip=0.0.0.0")),
            Ok(vec![Operation::Delete(RrType::A)])
        );
        assert_eq!(
            deletions(&params("myip=::")),
            Ok(vec![Operation::Delete(RrType::Aaaa)])
        );
        assert_eq!(
            deletions(&params("myipv6=2001:db8::1")),
            Ok(vec![Operation::Delete(RrType::Aaaa)])
        );
        assert_eq!(deletions(&params("myip=0.0.0.0,::")), Ok(both));
        assert_eq!(
            deletions(&params("myip=<ipaddr>")),
            Err(AddressError::Placeholder)
        );
        assert_eq!(
            deletions(&params("myipv6=0.0.0.0")),
            Err(AddressError::Unparsable)
        );
    }
}

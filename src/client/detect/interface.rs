//! `interface`: an address this machine holds. The default route's interface comes from
//! `/proc/net/route` (IPv4) and `/proc/net/ipv6_route` (IPv6); IPv6 addresses and their
//! flags from `/proc/net/if_inet6`; IPv4 addresses, which `/proc` does not list per
//! interface, from `ip -j -4 addr show dev IF` (iproute2).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;

use crate::client::settings::Prefer;

/// The interface holding the default route, from the text of `/proc/net/route`.
pub fn default_v4(route: &str) -> Option<String> {
    route.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Iface Destination Gateway Flags RefCnt Use Metric Mask ...; flag 1 is "up".
        let up = f.get(3).and_then(|x| u32::from_str_radix(x, 16).ok())? & 1 == 1;
        (f.len() > 7 && f[1] == "00000000" && f[7] == "00000000" && up).then(|| f[0].to_string())
    })
}

/// The interface of the IPv6 default route, from the text of `/proc/net/ipv6_route`.
pub fn default_v6(route: &str) -> Option<String> {
    route.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let default = f.len() == 10 && f[0].bytes().all(|b| b == b'0') && f[1] == "00";
        // Not the unreachable route the kernel keeps on `lo`.
        (default && f[9] != "lo").then(|| f[9].to_string())
    })
}

/// One IPv6 address of an interface, as `/proc/net/if_inet6` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V6Entry {
    /// The address.
    pub addr: Ipv6Addr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// Scope 0: global.
    pub global: bool,
    /// The kernel's IFA_F_* flags (low byte).
    pub flags: u32,
    /// The interface.
    pub name: String,
}

const TEMPORARY: u32 = 0x01;
const DADFAILED: u32 = 0x08;
const DEPRECATED: u32 = 0x20;
const TENTATIVE: u32 = 0x40;
const PERMANENT: u32 = 0x80;

/// Parses `/proc/net/if_inet6`.
pub fn parse_if_inet6(text: &str) -> Vec<V6Entry> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 6 || f[0].len() != 32 {
                return None;
            }
            Some(V6Entry {
                addr: Ipv6Addr::from(u128::from_str_radix(f[0], 16).ok()?),
                prefix_len: u8::from_str_radix(f[2], 16).ok()?,
                global: f[3] == "00",
                flags: u32::from_str_radix(f[4], 16).ok()?,
                name: f[5].to_string(),
            })
        })
        .collect()
}

/// The IPv6 address to publish of interface `name`: usable global ones only; `stable`
/// never takes a temporary one and ranks static first, then the longest prefix, then the
/// shortest written form; `temporary` takes a temporary one.
pub fn pick_v6(entries: &[V6Entry], name: &str, prefer: Prefer) -> Result<Ipv6Addr, String> {
    let mut usable: Vec<&V6Entry> = entries
        .iter()
        .filter(|e| e.name == name && e.global)
        .filter(|e| e.flags & (TENTATIVE | DADFAILED | DEPRECATED) == 0)
        .filter(|e| match prefer {
            Prefer::Stable => e.flags & TEMPORARY == 0,
            Prefer::Temporary => e.flags & TEMPORARY != 0,
        })
        .collect();
    usable.sort_by_key(|e| {
        (
            e.flags & PERMANENT == 0,
            std::cmp::Reverse(e.prefix_len),
            e.addr.to_string().len(),
        )
    });
    usable.first().map(|e| e.addr).ok_or_else(|| {
        let kind = match prefer {
            Prefer::Stable => "stable (non-temporary)",
            Prefer::Temporary => "temporary",
        };
        format!("interface {name} has no usable global {kind} IPv6 address (tentative, deprecated and failed ones do not count)")
    })
}

/// The global IPv4 addresses of `name`, from `ip -j -4 addr show dev NAME`.
pub fn v4_addresses(name: &str) -> Result<Vec<Ipv4Addr>, String> {
    let out = Command::new("ip")
        .args(["-j", "-4", "addr", "show", "dev", name])
        .output()
        .map_err(|e| format!("cannot run `ip` (iproute2) to read the addresses of {name}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`ip -4 addr show dev {name}` failed: {}; check interface_v4",
            crate::log::printable(String::from_utf8_lossy(&out.stderr).trim())
        ));
    }
    parse_ip_json(&String::from_utf8_lossy(&out.stdout))
}

/// The global IPv4 addresses in iproute2's JSON.
pub fn parse_ip_json(text: &str) -> Result<Vec<Ipv4Addr>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| "`ip -j` printed no JSON".to_string())?;
    let mut out = Vec::new();
    for link in value.as_array().into_iter().flatten() {
        for info in link["addr_info"].as_array().into_iter().flatten() {
            let global = info["scope"].as_str() == Some("global");
            if info["family"].as_str() == Some("inet")
                && global
                && let Some(Ok(IpAddr::V4(ip))) = info["local"].as_str().map(str::parse)
            {
                out.push(ip);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_route_names_its_interface() {
        let route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
eth1\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        assert_eq!(default_v4(route).as_deref(), Some("eth1"));
        let route6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n\
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n";
        assert_eq!(default_v6(route6).as_deref(), Some("eth0"));
    }

    #[test]
    fn stable_addresses_win_and_temporary_ones_are_taken_only_when_asked() {
        let text = "\
20010db8000000010000000000000001 02 40 00 41     eth0
20010db8000000010000000000000002 02 40 00 20     eth0
20010db8000000010000000000000003 02 40 00 01     eth0
20010db80000000100000000000a0b0c 02 40 00 00     eth0
20010db80000000100000000000000ff 02 40 00 80     eth0
fe800000000000000000000000000001 02 40 20 80     eth0
20010db8000000090000000000000009 03 40 00 80     eth1
";
        let entries = parse_if_inet6(text);
        assert_eq!(entries.len(), 7);
        assert_eq!(
            pick_v6(&entries, "eth0", Prefer::Stable)
                .unwrap()
                .to_string(),
            "2001:db8:0:1::ff"
        );
        assert_eq!(
            pick_v6(&entries, "eth0", Prefer::Temporary)
                .unwrap()
                .to_string(),
            "2001:db8:0:1::3"
        );
        assert!(pick_v6(&entries, "eth2", Prefer::Stable).is_err());
    }

    #[test]
    fn iproute2_json_gives_the_global_ipv4_addresses() {
        let json = r#"[{"ifindex":2,"ifname":"eth0","addr_info":[
            {"family":"inet","local":"10.0.0.2","prefixlen":24,"scope":"global"},
            {"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]}]"#;
        assert_eq!(
            parse_ip_json(json).unwrap(),
            vec![Ipv4Addr::new(10, 0, 0, 2)]
        );
        assert!(parse_ip_json("oops").is_err());
    }
}

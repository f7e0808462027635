//! `trusted_sources`: networks whose devices act for one user without sending credentials
//! (a Cisco ASA's auto-update client sends neither a password nor an address).

use std::net::IpAddr;

use crate::cidr::Cidr;

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
}

//! Host names as the protocol compares them: lower-case A-labels without the trailing dot.

use std::fmt;
use std::str::FromStr;

/// A fully-qualified host name, normalised (IDNA to A-labels, lower case, one trailing dot
/// removed), so that the ACL, the zone lookup and the registrar all see the same string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hostname(String);

/// Why a text is not a host name; every variant is answered `notfqdn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostnameError {
    /// Nothing left after trimming.
    Empty,
    /// Only one label, such as `localhost`.
    SingleLabel,
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A label over 63 octets.
    LabelTooLong,
    /// More than 253 octets in all.
    TooLong,
    /// A character no host name may hold, or a label IDNA rejects.
    Invalid,
    /// An IP address where a name was expected.
    Address,
}

impl fmt::Display for HostnameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostnameError::Empty => "empty host name",
            HostnameError::SingleLabel => "a single label is not a fully-qualified name",
            HostnameError::EmptyLabel => "empty label",
            HostnameError::LabelTooLong => "label longer than 63 characters",
            HostnameError::TooLong => "name longer than 253 characters",
            HostnameError::Invalid => "not a valid host name",
            HostnameError::Address => "an IP address, not a host name",
        })
    }
}

impl FromStr for Hostname {
    type Err = HostnameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.is_empty() {
            return Err(HostnameError::Empty);
        }
        // Cheap bounds before IDNA, so an overlong value costs nothing.
        if text.len() > 1024 {
            return Err(HostnameError::TooLong);
        }
        if text.starts_with('.') || text.contains("..") {
            return Err(HostnameError::EmptyLabel);
        }
        let ascii = if is_plain(text) {
            text.to_ascii_lowercase()
        } else if text
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '%')
        {
            return Err(HostnameError::Invalid);
        } else {
            to_ascii(text)?.to_ascii_lowercase()
        };
        if ascii.len() > 253 {
            return Err(HostnameError::TooLong);
        }
        let labels = || ascii.split('.');
        if labels().any(str::is_empty) {
            return Err(HostnameError::EmptyLabel);
        }
        if labels().nth(1).is_none() {
            return Err(HostnameError::SingleLabel);
        }
        for label in labels() {
            if label.len() > 63 {
                return Err(HostnameError::LabelTooLong);
            }
            let ok_chars = label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok_chars || label.starts_with('-') || label.ends_with('-') {
                return Err(HostnameError::Invalid);
            }
        }
        if labels()
            .next_back()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(HostnameError::Address);
        }
        Ok(Hostname(ascii))
    }
}

/// The name in A-labels, through UTS-46 (noip-protocol.md §6). A name that is plain ASCII
/// letters, digits, `-`, `_` and dots, with no `xn--` label and not ending in what the URL
/// standard reads as a number, is its own A-label form: such names are what routers send,
/// and skipping IDNA for them saves a good part of a request's own work.
fn to_ascii(text: &str) -> Result<String, HostnameError> {
    if is_plain(text) {
        return Ok(text.to_string());
    }
    match url::Host::parse(text) {
        Ok(url::Host::Domain(name)) => Ok(name),
        Ok(_) => Err(HostnameError::Address),
        Err(_) => Err(HostnameError::Invalid),
    }
}

fn is_plain(text: &str) -> bool {
    let plain_bytes = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let punycode = text.split('.').any(|label| {
        label
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
    });
    let last = text.rsplit('.').next().unwrap_or("");
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"));
    plain_bytes && !punycode && !numeric
}

impl Hostname {
    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this name is `zone` itself or lies below it, on a label boundary.
    pub fn is_within(&self, zone: &str) -> bool {
        self.relative_to(zone).is_some()
    }

    /// The record name relative to `zone` ("" for the apex), or None when the name is not
    /// in that zone. `zone` must already be normalised.
    pub fn relative_to(&self, zone: &str) -> Option<String> {
        if self.0 == zone {
            return Some(String::new());
        }
        let prefix = self.0.strip_suffix(zone)?.strip_suffix('.')?;
        (!prefix.is_empty()).then(|| prefix.to_string())
    }

    /// Candidate zones from the longest proper suffix to the shortest, stopping before the
    /// bare top-level label: `a.b.example.co.uk` → `b.example.co.uk`, `example.co.uk`,
    /// `co.uk`; the name itself comes first, as a host may be a zone apex.
    pub fn zone_candidates(&self) -> Vec<&str> {
        let mut out = vec![self.0.as_str()];
        let mut rest = self.0.as_str();
        while let Some((_, tail)) = rest.split_once('.') {
            if !tail.contains('.') {
                break;
            }
            out.push(tail);
            rest = tail;
        }
        out
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> String {
        text.parse::<Hostname>().unwrap().to_string()
    }

    fn err(text: &str) -> HostnameError {
        text.parse::<Hostname>().unwrap_err()
    }

    #[test]
    fn plain_names_skip_idna_with_the_same_result() {
        let idna = |text: &str| match url::Host::parse(text) {
            Ok(url::Host::Domain(name)) => Ok(name.to_ascii_lowercase()),
            Ok(_) => Err(HostnameError::Address),
            Err(_) => Err(HostnameError::Invalid),
        };
        for text in [
            "Home.Example.COM",
            "a_b.example.com",
            "a--b.example.com",
            "-a.example.com",
            "a.b.c.d.e.f",
            "1a.example.c0m",
            "_dmarc.example.org",
        ] {
            assert!(is_plain(text), "{text}");
            assert_eq!(
                to_ascii(text).map(|n| n.to_ascii_lowercase()),
                idna(text),
                "{text}"
            );
        }
        for text in [
            "xn--bcher-kva.example.com",
            "a.XN--bcher-kva.com",
            "a.example.123",
            "a.0x7f",
            "a.0X7F",
            "x.0xzz",
            "bücher.example.com",
            "a!b.example.com",
            "1.2.3.4",
        ] {
            assert!(!is_plain(text), "{text}");
        }
        // Every short name over an alphabet of the interesting characters agrees too.
        let alphabet = ['a', 'Z', '0', '9', '-', '_', '.', 'x'];
        let mut names = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = names
                .iter()
                .flat_map(|n| alphabet.iter().map(move |c| format!("{n}{c}")))
                .collect();
            for text in longer.iter().filter(|t| is_plain(t)) {
                assert_eq!(
                    to_ascii(text).map(|n| n.to_ascii_lowercase()),
                    idna(text),
                    "{text}"
                );
            }
            names = longer;
        }
    }

    #[test]
    fn normalises_case_trailing_dot_and_idn() {
        assert_eq!(ok("Home.Example.COM."), "home.example.com");
        assert_eq!(ok(" home.example.com "), "home.example.com");
        assert_eq!(ok("bücher.example.com"), "xn--bcher-kva.example.com");
        assert_eq!(ok("xn--bcher-kva.example.com"), "xn--bcher-kva.example.com");
        assert_eq!(ok("_acme.example.com"), "_acme.example.com");
    }

    #[test]
    fn rejects_what_is_not_a_name() {
        assert_eq!(err(""), HostnameError::Empty);
        assert_eq!(err("."), HostnameError::Empty);
        assert_eq!(err("localhost"), HostnameError::SingleLabel);
        assert_eq!(err("a..example.com"), HostnameError::EmptyLabel);
        assert_eq!(err("home.example.com.."), HostnameError::EmptyLabel);
        assert_eq!(
            err(&format!("{}.com", "a".repeat(64))),
            HostnameError::LabelTooLong
        );
        assert_eq!(
            err(&format!("{}com", "abcdefghi.".repeat(26))),
            HostnameError::TooLong
        );
        assert_eq!(err("1.2.3.4"), HostnameError::Address);
        assert_eq!(err("home example.com"), HostnameError::Invalid);
        assert_eq!(err("home.example.com\r\nX: y"), HostnameError::Invalid);
        assert_eq!(err("home\0.example.com"), HostnameError::Invalid);
        assert_eq!(err("-home.example.com"), HostnameError::Invalid);
        assert_eq!(err("*.example.com"), HostnameError::Invalid);
        assert_eq!(err("xn--zz.example.com"), HostnameError::Invalid);
        assert_eq!(err("home%2eexample.com"), HostnameError::Invalid);
    }

    #[test]
    fn relative_names_respect_label_boundaries() {
        let h: Hostname = "a.b.example.co.uk".parse().unwrap();
        assert_eq!(h.relative_to("example.co.uk").as_deref(), Some("a.b"));
        assert_eq!(h.relative_to("ample.co.uk"), None);
        assert_eq!(h.relative_to("a.b.example.co.uk").as_deref(), Some(""));
        assert_eq!(
            h.zone_candidates(),
            vec![
                "a.b.example.co.uk",
                "b.example.co.uk",
                "example.co.uk",
                "co.uk"
            ]
        );
    }
}

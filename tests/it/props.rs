//! Property tests with hostile and random input: no parser panics on anything a client, a
//! config file or a registrar can send, and whatever the parsers accept keeps the invariants
//! the ACL, the protocol answer and the zone write-back rely on.
//!
//! Case counts are bounded so the whole file runs in a few seconds, and failures are not
//! persisted to files: a failing case is printed, and a fixed regression test is added here.

use std::cell::RefCell;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::rc::Rc;

use ddns_cgi::acl::Acl;
use ddns_cgi::address::{check_usable, parse_ip};
use ddns_cgi::backend::gandi::RrsetBody;
use ddns_cgi::backend::schlund::xml::{self, Element, Node};
use ddns_cgi::backend::schlund::zone::{self, READ_ONLY};
use ddns_cgi::backend::{EditPolicy, RecordChange, RecordOutcome};
use ddns_cgi::cgi::{CgiRequest, CgiResponse};
use ddns_cgi::config::{Config, General, ini};
use ddns_cgi::core::Outcome;
use ddns_cgi::core::operation::Operation;
use ddns_cgi::hostname::Hostname;
use ddns_cgi::log::{Level, Log, printable};
use ddns_cgi::protocol::params::Params;
use ddns_cgi::protocol::{Refusal, noip};
use ddns_cgi::state::{Family, HostState, TxtEntry};
use fake_registrars::schlund::FIXTURE_ZONE;
use proptest::prelude::*;

const HOME: &str = "home.example.co.uk";

/// A global list of exactly `home`, a wildcard below `dyn`, and bob narrowed to his own name.
const ACL_CONFIG: &str = "[default]\nusername = u\npassword = p\nmax_hostnames = 20\nallowed_hostnames = home.example.co.uk *.dyn.example.co.uk\n[user:bob]\nallowed_hostnames = bob.example.co.uk\nuse_global = no\n";

fn cases(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn acl_config() -> Config {
    Config::parse_str(ACL_CONFIG, Path::new("props.ini")).expect("the ACL config loads")
}

fn general() -> General {
    acl_config().general
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// Text a hostile client might send: anything at all, or something close to the grammar.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9.,%&=+;:_*\\-\\[\\]<>@/ \t\r\n\u{0}\u{85}\u{2028}]{0,40}",
        name_like(),
    ]
}

/// Host-name-shaped text: ASCII and IDN labels, `xn--` labels, ignorable and mapped
/// characters, an optional trailing dot and surrounding blanks.
fn name_like() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            "[a-zA-Z0-9_\\-]{1,8}|[a-zäöüßоοｈ\u{ad}\u{200b}\u{3002}]{1,6}|xn--[a-z0-9\\-]{1,10}",
            1..6,
        ),
        any::<bool>(),
        " ?",
        "[ \t]?",
    )
        .prop_map(|(labels, dot, pre, post)| {
            format!(
                "{pre}{}{}{post}",
                labels.join("."),
                if dot { "." } else { "" }
            )
        })
}

/// ASCII names from a few labels, so that ACL matches and near misses both happen often.
fn acl_name() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop::sample::select(vec![
                "home",
                "HOME",
                "dyn",
                "example",
                "co",
                "uk",
                "bob",
                "evil",
                "x",
                "xn--hme-sed",
            ]),
            1..6,
        ),
        any::<bool>(),
    )
        .prop_map(|(labels, dot)| format!("{}{}", labels.join("."), if dot { "." } else { "" }))
}

/// Percent-encodes one character (every UTF-8 byte), with upper- or lower-case hex.
fn encode_char(c: char, upper: bool) -> String {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| {
            if upper {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

/// Encodes a decoded value for a query string: characters the query syntax gives a meaning
/// always, any other character when its flag says so.
fn encode(decoded: &str, flags: &[bool]) -> String {
    decoded
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let flag = flags.get(i % flags.len().max(1)).copied().unwrap_or(false);
            let must = !c.is_ascii_alphanumeric() && !".-_".contains(c);
            if must || flag {
                encode_char(c, i % 2 == 0)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A decoded spelling of `home.example.co.uk` with random case, one inserted character
/// and affixes, some of which keep the name (case, one trailing dot, blanks) and some of
/// which make it another name or no name.
fn home_spelling() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(any::<bool>(), HOME.len()),
        prop::option::of((
            0..=HOME.len(),
            prop::sample::select(vec![
                '.', '-', ' ', '\0', '\r', '\n', '\t', '%', '*', '_', 'o', '0', 'о', 'ο', 'օ', 'ı',
                '/', '@', ':', '\\',
            ]),
        )),
        prop::sample::select(vec!["", " ", "\t", ".", "\r\n"]),
        prop::sample::select(vec![
            "",
            ".",
            "..",
            " ",
            "\r\n",
            "\t",
            ".evil.net",
            "\0",
            "%00",
            "%2e",
            ":80",
            "/",
        ]),
    )
        .prop_map(|(upper, insert, prefix, suffix)| {
            let mut name: Vec<char> = HOME
                .chars()
                .zip(upper)
                .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            if let Some((at, c)) = insert {
                name.insert(at, c);
            }
            format!("{prefix}{}{suffix}", name.into_iter().collect::<String>())
        })
}

/// What the ACL must decide for a decoded spelling of [`home_spelling`]: only case, blanks
/// around it and one trailing dot keep it the allowed name. Every non-ASCII character the
/// generator inserts is a look-alike letter, which makes it another name.
fn spelling_is_home(decoded: &str) -> bool {
    if !decoded.is_ascii() {
        return false;
    }
    let trimmed = decoded.trim();
    let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
    name.eq_ignore_ascii_case(HOME)
}

/// Leaf text as a registrar may return it: empty, blank, markup characters, non-ASCII, or
/// anything.
fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ \t\n]{1,4}",
        "[&<>\"'a-z ;#]{1,16}",
        "\\PC{1,12}",
        any::<String>(),
    ]
}

/// Comment text as a well-formed document can hold it (no `--`, no CR, which XML folds).
fn comment_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 &<>\"'.:;/äß]{0,16}"
}

fn element_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}"
}

/// Attribute values in the escaped form the tree keeps.
fn attributes() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        "[a-zA-Z0-9 ._:]{0,8}|[a-z]{0,3}&amp;[a-z]{0,3}|&lt;&gt;",
        0..3,
    )
    .prop_map(|values| {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("a{i}"), v))
            .collect()
    })
}

/// A leaf: at most one text node, optionally with a comment before or after it.
fn leaf() -> impl Strategy<Value = Element> {
    (
        element_name(),
        attributes(),
        text_value(),
        prop::option::of((comment_text(), any::<bool>())),
    )
        .prop_map(|(name, attrs, text, comment)| {
            let mut children = Vec::new();
            if !text.is_empty() {
                children.push(Node::Text(text));
            }
            if let Some((c, before)) = comment {
                if before {
                    children.insert(0, Node::Comment(c));
                } else {
                    children.push(Node::Comment(c));
                }
            }
            Element {
                name,
                attrs,
                children,
            }
        })
}

fn rr_element() -> impl Strategy<Value = Element> {
    (
        text_value(),
        "[0-9]{1,6}",
        prop::sample::select(vec!["A", "AAAA", "MX", "TXT", "CNAME", "a"]),
        text_value(),
        prop::option::of("[0-9]{1,3}"),
        prop::option::of(comment_text()),
    )
        .prop_map(|(name, ttl, rr_type, value, pref, comment)| {
            let mut rr = Element::new("rr")
                .child_el(Element::with_text("name", &name))
                .child_el(Element::with_text("ttl", &ttl))
                .child_el(Element::with_text("type", rr_type));
            if let Some(pref) = pref {
                rr = rr.child_el(Element::with_text("pref", &pref));
            }
            rr = rr.child_el(Element::with_text("value", &value));
            if let Some(c) = comment {
                rr.children.push(Node::Comment(c));
            }
            rr
        })
}

/// A zone-like tree: leaves, records, nested containers and comments in any order.
fn zone_tree() -> impl Strategy<Value = Element> {
    let child = prop_oneof![
        4 => leaf().prop_map(Node::Element),
        4 => rr_element().prop_map(Node::Element),
        2 => (element_name(), prop::collection::vec(leaf(), 0..4)).prop_map(|(name, leaves)| {
            let mut e = Element::new(&name);
            e.children = leaves.into_iter().map(Node::Element).collect();
            Node::Element(e)
        }),
        1 => comment_text().prop_map(Node::Comment),
    ];
    prop::collection::vec(child, 0..12).prop_map(|children| Element {
        name: "zone".into(),
        attrs: Vec::new(),
        children,
    })
}

/// Record names close to what a change targets, so matches, case variants and near misses
/// all occur.
fn rr_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        3 => prop::sample::select(vec!["", "home", "Home", "x"]),
        1 => prop::sample::select(vec!["a.b", "www", "HOME ", "home.example.co.uk."]),
    ]
}

fn address_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<Ipv4Addr>().prop_map(|a| a.to_string()),
        any::<Ipv6Addr>().prop_map(|a| a.to_string()),
        prop::sample::select(vec![
            "84.17.5.9",
            "2a01:4f8::9",
            " 84.17.5.9 ",
            "2A01:4F8:0::9"
        ])
        .prop_map(String::from),
        text_value(),
    ]
}

fn apply_rr() -> impl Strategy<Value = Element> {
    (
        rr_name(),
        prop_oneof![
            4 => prop::sample::select(vec!["A", "AAAA"]),
            1 => prop::sample::select(vec!["a", "aaaa", "MX", "TXT"]),
        ],
        address_text(),
        prop::option::of(comment_text()),
    )
        .prop_map(|(name, rr_type, value, comment)| {
            let mut rr = Element::new("rr")
                .child_el(Element::with_text("name", name))
                .child_el(Element::with_text("ttl", "300"))
                .child_el(Element::with_text("type", rr_type))
                .child_el(Element::with_text("value", &value));
            if let Some(c) = comment {
                rr.children.push(Node::Comment(c));
            }
            rr
        })
}

/// Zones for `zone::apply`: the fixture, or a generated zone with an optional `main` and
/// records of a few names and types among other elements.
fn apply_zone() -> impl Strategy<Value = Element> {
    let generated = (
        prop::option::of(address_text()),
        prop::collection::vec(
            prop_oneof![
                3 => apply_rr().prop_map(Node::Element),
                1 => leaf().prop_map(Node::Element),
                1 => comment_text().prop_map(Node::Comment),
            ],
            0..14,
        ),
    )
        .prop_map(|(main, mut children)| {
            if let Some(value) = main {
                let main = Element::new("main")
                    .child_el(Element::with_text("value", &value))
                    .child_el(Element::with_text("ttl", "600"));
                children.insert(0, Node::Element(main));
            }
            children.insert(
                0,
                Node::Element(Element::with_text("name", "example.co.uk")),
            );
            Element {
                name: "zone".into(),
                attrs: Vec::new(),
                children,
            }
        });
    prop_oneof![
        1 => Just(zone::for_update(&xml::parse(FIXTURE_ZONE).unwrap())),
        3 => generated,
    ]
}

fn policy() -> impl Strategy<Value = EditPolicy> {
    (any::<bool>(), any::<bool>()).prop_map(|(create_missing, collapse_round_robin)| EditPolicy {
        create_missing,
        collapse_round_robin,
        rewrite: false,
    })
}

fn record_change() -> impl Strategy<Value = RecordChange> {
    (
        prop::sample::select(vec!["", "home", "x", "a.b", "nothere"]),
        prop::option::of(prop_oneof![
            any::<Ipv4Addr>(),
            Just(Ipv4Addr::new(84, 17, 5, 9))
        ]),
        prop::option::of(prop_oneof![
            any::<Ipv6Addr>(),
            Just("2a01:4f8::9".parse().unwrap())
        ]),
    )
        .prop_map(|(name, v4, v6)| RecordChange {
            host: if name.is_empty() {
                "example.co.uk".parse().unwrap()
            } else {
                format!("{name}.example.co.uk").parse().unwrap()
            },
            name: name.to_string(),
            operations: operations(v4, v6),
            ttl: None,
            known: Default::default(),
        })
}

/// The operations setting these addresses, IPv4 first.
fn operations(v4: Option<Ipv4Addr>, v6: Option<Ipv6Addr>) -> Vec<Operation> {
    let v4 = v4.map(|a| Operation::Set(IpAddr::V4(a)));
    let v6 = v6.map(|a| Operation::Set(IpAddr::V6(a)));
    v4.into_iter().chain(v6).collect()
}

/// One line of an INI file: headers, known and unknown keys, comments, continuations,
/// interpolation syntax and junk.
fn ini_line() -> impl Strategy<Value = String> {
    // Every key the config knows, from the library's own lists, plus a mis-cased and an
    // unknown one.
    let mut keys = ddns_cgi::config::known_keys();
    keys.extend(["Password", "bogus"]);
    let key = prop::sample::select(keys);
    let value = prop_oneof![
        "[a-zA-Z0-9 .:/%@*_\\-]{0,20}",
        prop::sample::select(vec![
            "%%",
            "%(x)s",
            "%",
            "yes",
            "no",
            "http://127.0.0.1:1",
            "https://u:p@h",
            "JBSWY3DPEHPK3PXP",
            "*.example.co.uk home.example.co.uk",
            "/tmp/ddns-props-never-created",
            "0",
            "99999999999999999999999",
        ])
        .prop_map(String::from),
        any::<String>(),
    ];
    prop_oneof![
        prop::sample::select(vec![
            "[default]",
            "[DEFAULT]",
            "[schlund]",
            "[gandi]",
            "[gandi:work]",
            "[gandi:]",
            "[user:bob]",
            "[user:]",
            "[dialect:noip]",
            "[dialect:dyndns]",
            "[dialect:]",
            "[nope]",
            "[default",
            "[]",
            "# comment",
            "; comment",
            "",
            "\u{feff}[default]",
        ])
        .prop_map(String::from),
        (
            key,
            "[ \t]{0,2}",
            prop::sample::select(vec!["=", ":", " = ", " : "]),
            value.clone()
        )
            .prop_map(|(k, pad, sep, v)| format!("{pad}{k}{sep}{v}")),
        ("[ \t]{1,3}", value).prop_map(|(pad, v)| format!("{pad}{v}")),
        any::<String>(),
    ]
}

/// A shared buffer to read back what a [`Log`] wrote.
#[derive(Clone, Default)]
struct Captured(Rc<RefCell<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

// ---------------------------------------------------------------------------------------
// Checks shared by several properties
// ---------------------------------------------------------------------------------------

/// What every accepted name must look like before it reaches the ACL or a registrar.
fn check_clean_name(h: &Hostname) -> Result<(), TestCaseError> {
    let s = h.as_str();
    prop_assert!(s.len() <= 253, "{s:?} is {} bytes", s.len());
    prop_assert!(
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)),
        "{s:?} holds a character outside [a-z0-9._-]"
    );
    let labels: Vec<&str> = s.split('.').collect();
    prop_assert!(labels.len() >= 2, "{s:?} is a single label");
    for label in labels {
        prop_assert!(
            !label.is_empty() && label.len() <= 63,
            "{s:?}: bad label {label:?}"
        );
        prop_assert!(
            !label.starts_with('-') && !label.ends_with('-'),
            "{s:?}: label {label:?} starts or ends with a hyphen"
        );
    }
    Ok(())
}

/// An echo may only hold what an address is written with: one or two addresses.
fn check_echo(echo: &str) -> Result<(), TestCaseError> {
    let parts: Vec<&str> = echo.split(',').collect();
    prop_assert!((1..=2).contains(&parts.len()), "echo {echo:?}");
    for part in parts {
        prop_assert!(
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':'),
            "echo {echo:?}"
        );
    }
    Ok(())
}

/// One answer line: a protocol word, or `good`/`nochg` with a clean echo.
fn check_answer_line(line: &str) -> Result<(), TestCaseError> {
    if let Some(echo) = line
        .strip_prefix("good ")
        .or_else(|| line.strip_prefix("nochg "))
    {
        return check_echo(echo);
    }
    prop_assert!(
        ["nohost", "notfqdn", "badip", "dnserr", "abuse", "911"].contains(&line),
        "{line:?} is not a protocol word"
    );
    Ok(())
}

fn request(query: &str, content_type: Option<&str>, body: &[u8]) -> CgiRequest {
    CgiRequest {
        method: "GET".into(),
        query: query.into(),
        content_type: content_type.map(String::from),
        body: body.to_vec(),
        remote_addr: Some("84.17.5.1".into()),
        remote_user: Some("alice".into()),
        ..CgiRequest::default()
    }
}

/// The decoded host texts of a single-name query, judged as `update::run` judges them.
fn allowed(acl: &Acl, user: &str, query: &str, general: &General) -> Vec<bool> {
    match noip::parse(&request(query, None, b""), "/nic/update", user, general) {
        Ok(parsed) => parsed
            .update
            .hosts
            .iter()
            .map(|h| h.name.as_ref().is_ok_and(|n| acl.allows(user, n)))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn rr_text(e: &Element, child: &str) -> String {
    e.child_text(child).unwrap_or_default()
}

fn is_targeted(node: &Node, name: &str, types: &[&str]) -> bool {
    matches!(node, Node::Element(e) if e.name == "rr"
        && rr_text(e, "name").eq_ignore_ascii_case(name)
        && types.iter().any(|t| rr_text(e, "type").eq_ignore_ascii_case(t)))
}

/// The element with its `value` child emptied, to compare everything but the value.
fn without_value(e: &Element) -> Element {
    let mut e = e.clone();
    if let Some(v) = e.child_mut("value") {
        v.set_text("");
    }
    e
}

fn holds(text: &str, addr: IpAddr) -> bool {
    text.trim().parse::<IpAddr>().ok() == Some(addr)
}

// ---------------------------------------------------------------------------------------
// Host names and the ACL
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(512))]

    /// Whatever is accepted is a clean A-label name, and normalising it again changes
    /// nothing: the ACL, the zone lookup and the registrar all see one string.
    #[test]
    fn hostname_output_is_clean_and_idempotent(text in hostile_text()) {
        if let Ok(h) = text.parse::<Hostname>() {
            check_clean_name(&h)?;
            prop_assert_eq!(h.to_string().parse::<Hostname>(), Ok(h.clone()));
            prop_assert_eq!(h.as_str().parse::<Hostname>(), Ok(h.clone()));
        }
    }

    /// Case, one trailing dot and surrounding blanks are spellings of the same name.
    #[test]
    fn hostname_spellings_agree(text in name_like()) {
        if let Ok(h) = text.parse::<Hostname>() {
            let s = h.as_str();
            prop_assert_eq!(s.to_ascii_uppercase().parse::<Hostname>(), Ok(h.clone()));
            prop_assert_eq!(format!("{s}.").parse::<Hostname>(), Ok(h.clone()));
            prop_assert_eq!(format!(" \t{s}. ").parse::<Hostname>(), Ok(h.clone()));
            if text.is_ascii() {
                prop_assert_eq!(text.to_ascii_uppercase().parse::<Hostname>(), Ok(h.clone()));
            }
        }
    }

    /// Relative names and zone candidates stay on label boundaries.
    #[test]
    fn relative_names_respect_label_boundaries(host in acl_name(), zone in acl_name()) {
        let (Ok(host), Ok(zone)) = (host.parse::<Hostname>(), zone.parse::<Hostname>()) else {
            return Ok(());
        };
        let zone = zone.as_str();
        match host.relative_to(zone) {
            Some(rel) if rel.is_empty() => prop_assert_eq!(host.as_str(), zone),
            Some(rel) => prop_assert_eq!(format!("{rel}.{zone}"), host.as_str()),
            None => {
                let below = host.as_str().ends_with(&format!(".{zone}"));
                prop_assert!(host.as_str() != zone && !below, "{} in {}", host, zone);
            }
        }
        let candidates = host.zone_candidates();
        prop_assert_eq!(candidates[0], host.as_str());
        for c in &candidates[1..] {
            prop_assert!(host.as_str().ends_with(&format!(".{c}")), "{c}");
            prop_assert!(c.contains('.'), "{c} is a bare top-level label");
        }
    }

    /// The ACL admits exactly the listed names: `home` for everyone on the global list, the
    /// names strictly below `dyn`, and for bob only his own name.
    #[test]
    fn acl_admits_exactly_the_listed_names(name in acl_name()) {
        let acl = acl_config().acl;
        let Ok(h) = name.parse::<Hostname>() else { return Ok(()) };
        let s = h.as_str();
        let global = s == HOME || s.ends_with(".dyn.example.co.uk");
        prop_assert_eq!(acl.allows("alice", &h), global, "alice {}", s);
        prop_assert_eq!(acl.allows("carol", &h), global, "carol {}", s);
        prop_assert_eq!(acl.allows("bob", &h), s == "bob.example.co.uk", "bob {}", s);
    }

    /// A spelling of `home` in the query is allowed exactly when it is `home` after case
    /// folding, trimming and one trailing dot; percent-encoding changes nothing, look-alike
    /// letters, NUL, CR/LF, inner blanks and extra labels never pass.
    #[test]
    fn acl_cannot_be_bypassed_by_spelling(
        decoded in home_spelling(),
        flags in prop::collection::vec(any::<bool>(), 1..8),
    ) {
        let config = acl_config();
        let query = format!("hostname={}&myip=84.17.5.9", encode(&decoded, &flags));
        let verdicts = allowed(&config.acl, "alice", &query, &config.general);
        let expected: Vec<bool> = if decoded.trim().is_empty() { vec![] } else { vec![spelling_is_home(&decoded)] };
        prop_assert_eq!(&verdicts, &expected, "{:?} as {}", decoded, query);
        // bob is narrowed to his own name, whatever the spelling.
        prop_assert!(!allowed(&config.acl, "bob", &query, &config.general).contains(&true));
    }

    /// Comma lists: every name is judged alone, in order.
    #[test]
    fn comma_lists_are_judged_name_by_name(
        picks in prop::collection::vec(
            prop::sample::select(vec![
                ("HOME.Example.CO.uk", true),
                ("home.example.co.uk.", true),
                ("home%2Eexample.co.uk", true),
                ("h%6Fme.example.co.uk", true),
                ("%20home.example.co.uk%20", true),
                ("h%D0%BEme.example.co.uk", false),
                ("xn--hme-sed.example.co.uk", false),
                ("home.example.co.uk.evil.net", false),
                ("evil-home.example.co.uk", false),
                ("*.example.co.uk", false),
                ("home.example.co.uk..", false),
                ("home%00.example.co.uk", false),
                ("home%0d%0a.example.co.uk", false),
                ("home%2520example.co.uk", false),
                ("example.co.uk", false),
            ]),
            1..8,
        ),
    ) {
        let config = acl_config();
        let list: Vec<&str> = picks.iter().map(|(n, _)| *n).collect();
        let query = format!("hostname={}&myip=84.17.5.9", list.join(","));
        let expected: Vec<bool> = picks.iter().map(|(_, ok)| *ok).collect();
        prop_assert_eq!(allowed(&config.acl, "alice", &query, &config.general), expected);
    }
}

// ---------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(512))]

    /// Any text: no panic, and an accepted address was written only with address
    /// characters, so echoing the text back can never inject anything.
    #[test]
    fn parse_ip_accepts_only_address_characters(text in hostile_text()) {
        if let Ok(ip) = parse_ip(&text) {
            let trimmed = text.trim();
            prop_assert!(
                trimmed.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':'),
                "{trimmed:?}"
            );
            if let IpAddr::V6(v6) = ip {
                prop_assert!(v6.to_ipv4_mapped().is_none(), "mapped IPv6 stays IPv6: {v6}");
            }
            let _ = check_usable(ip, false);
        }
    }

    /// Canonical and zero-padded IPv4 read as the same decimal address (never octal).
    #[test]
    fn ipv4_reads_as_decimal(a in any::<Ipv4Addr>()) {
        let [w, x, y, z] = a.octets();
        prop_assert_eq!(parse_ip(&a.to_string()), Ok(IpAddr::V4(a)));
        prop_assert_eq!(parse_ip(&format!("{w:03}.{x:03}.{y:03}.{z:03}")), Ok(IpAddr::V4(a)));
        prop_assert_eq!(parse_ip(&format!(" {a}\t")), Ok(IpAddr::V4(a)));
    }

    /// IPv6 reads back as itself, except the IPv4-mapped form, which is IPv4.
    #[test]
    fn ipv6_reads_back(a in any::<Ipv6Addr>()) {
        let expected = match a.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(a),
        };
        prop_assert_eq!(parse_ip(&a.to_string()), Ok(expected));
        for form in [format!("[{a}]"), format!("{a}%eth0"), format!("{a}/64")] {
            prop_assert!(parse_ip(&form).is_err(), "{} accepted", form);
        }
    }

    /// `allow_private_addresses` only ever widens, and loopback, unspecified and
    /// multicast addresses are never usable.
    #[test]
    fn allow_private_only_widens(ip in any::<IpAddr>()) {
        if check_usable(ip, false).is_ok() {
            prop_assert!(check_usable(ip, true).is_ok());
        }
        if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
            prop_assert!(check_usable(ip, true).is_err());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Query, form and multipart parameters; the NoIP parse and answer
// ---------------------------------------------------------------------------------------

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec![
            "application/x-www-form-urlencoded",
            "APPLICATION/X-WWW-FORM-URLENCODED; charset=latin1",
            "multipart/form-data; boundary=XyZ",
            "multipart/form-data; boundary=\"\"",
            "multipart/form-data; boundary=",
            "multipart/form-data",
            "multipart/form-data; boundary=--",
            "application/xml",
            "",
            ";;;",
        ])
        .prop_map(|s| Some(s.to_string())),
        any::<String>().prop_map(Some),
    ]
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        hostile_text().prop_map(String::into_bytes),
        "(--XyZ\r\nContent-Disposition: form-data; name=\"[a-z]{1,8}\"\r\n\r\n[a-z0-9.,:%\r\n-]{0,12}\r\n){0,3}(--XyZ--\r\n)?"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    /// Any query, content type and body: no panic, blank values read as absent.
    #[test]
    fn params_read_never_panics(
        query in hostile_text(),
        content_type in content_type(),
        body in body_bytes(),
        name in prop::sample::select(vec!["hostname", "myip", "myipv6", "offline", ""]),
    ) {
        let params = Params::read(&query, content_type.as_deref(), &body);
        if let Some(v) = params.get(name) {
            prop_assert!(!v.trim().is_empty());
            prop_assert!(params.count(name) >= 1);
        }
    }

    /// The query wins over the body, and the first of repeated names wins.
    #[test]
    fn query_and_first_occurrence_win(
        first in "[a-z0-9.:]{1,12}",
        second in "[a-z0-9.:]{1,12}",
        body_value in "[a-z0-9.:]{1,12}",
    ) {
        let params = Params::read(
            &format!("hostname={first}&hostname={second}"),
            Some("application/x-www-form-urlencoded"),
            format!("hostname={body_value}").as_bytes(),
        );
        prop_assert_eq!(params.get("hostname"), Some(first.as_str()));
        prop_assert_eq!(params.count("hostname"), 3);
    }

    /// Multipart text fields read back as sent.
    #[test]
    fn multipart_fields_read_back(
        fields in prop::collection::vec(("[a-z]{1,8}", "[a-zA-Z0-9 .,:;=&%\"'äß\r\n]{0,16}"), 1..4),
    ) {
        let mut body = String::new();
        for (name, value) in &fields {
            body.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str("--XyZ--\r\n");
        let params = Params::read("", Some("multipart/form-data; boundary=XyZ"), body.as_bytes());
        let (name, value) = &fields[0];
        let expected = Some(value.as_str()).filter(|v| !v.trim().is_empty());
        prop_assert_eq!(params.get(name), expected);
    }

    /// The NoIP parse never panics; what it accepts is bounded and clean, and the rendered
    /// answer holds one protocol line per host, without CR.
    #[test]
    fn noip_parse_and_render(
        query in hostile_text(),
        content_type in content_type(),
        body in body_bytes(),
        user in hostile_text(),
        remote_addr in prop::option::of(hostile_text()),
        picks in prop::collection::vec(0usize..8, 0..24),
    ) {
        let general = general();
        let req = CgiRequest {
            method: "POST".into(),
            query,
            content_type,
            body,
            remote_addr,
            remote_user: Some(user.clone()),
            ..CgiRequest::default()
        };
        match noip::parse(&req, "/nic/update", &user, &general) {
            Err(refusal) => prop_assert!(
                matches!(
                    refusal,
                    Refusal::NoHostname | Refusal::TooManyHosts { .. } | Refusal::NotOffered
                ),
                "{refusal:?}"
            ),
            Ok(parsed) => {
                let update = &parsed.update;
                prop_assert!(!update.hosts.is_empty());
                prop_assert!(update.hosts.len() <= general.max_hostnames);
                for host in &update.hosts {
                    if let Ok(name) = &host.name {
                        check_clean_name(name)?;
                    }
                }
                let echo = match &update.operations {
                    Ok(operations) => {
                        check_echo(&parsed.echo)?;
                        for op in operations {
                            if let Operation::Set(addr) = op {
                                prop_assert!(check_usable(*addr, false).is_ok());
                            }
                        }
                        parsed.echo.clone()
                    }
                    Err(_) => "84.17.5.1".to_string(),
                };
                let outcomes: Vec<Outcome> = update
                    .hosts
                    .iter()
                    .zip(picks.iter().chain(std::iter::repeat(&0)))
                    .map(|(_, pick)| match pick {
                        0 => Outcome::Changed,
                        1 => Outcome::Unchanged,
                        2 => Outcome::NotAllowed,
                        3 => Outcome::NotFqdn,
                        4 => Outcome::BadAddress,
                        5 => Outcome::Rejected,
                        6 => Outcome::Abuse,
                        _ => Outcome::ServerSide,
                    })
                    .collect();
                let response = noip::render(&echo, &outcomes);
                prop_assert_eq!(response.status, 200);
                prop_assert!(!response.body.contains('\r'));
                prop_assert!(response.body.ends_with('\n'));
                let lines: Vec<&str> = response.body.lines().collect();
                prop_assert_eq!(lines.len(), outcomes.len());
                for line in lines {
                    check_answer_line(line)?;
                }
            }
        }
    }

    /// Whatever the status, header values or body, the header block keeps its lines.
    #[test]
    fn response_header_block_cannot_be_split(
        status in any::<u16>(),
        values in prop::collection::vec(hostile_text(), 0..3),
        body in hostile_text(),
        head_only in any::<bool>(),
    ) {
        let mut response = CgiResponse::text(status, body.clone());
        for (i, v) in values.iter().enumerate() {
            response = response.with_header(&format!("X-Test-{i}"), v);
        }
        response.head_only = head_only;
        let mut out = Vec::new();
        response.write_to(&mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let (head, rest) = out.split_once("\r\n\r\n").unwrap();
        let lines: Vec<&str> = head.split("\r\n").collect();
        prop_assert_eq!(lines.len(), 3 + values.len(), "{:?}", head);
        prop_assert!(!head.contains('\n') || head.matches('\n').count() == lines.len() - 1);
        prop_assert_eq!(lines[2], format!("Content-Length: {}", body.len()));
        prop_assert_eq!(rest, if head_only { "" } else { body.as_str() });
    }

    /// Log lines stay one line with the prefix, whatever the message holds, and
    /// `printable` leaves no control character.
    #[test]
    fn log_lines_stay_single(text in hostile_text()) {
        let sink = Captured::default();
        let log = Log::to(Level::Debug, Box::new(sink.clone()));
        log.warn(format_args!("raw {text} shown {}", printable(&text)));
        let out = sink.text();
        prop_assert!(out.starts_with("ddns-cgi: warning: "), "{out:?}");
        prop_assert_eq!(out.matches('\n').count(), 1, "{:?}", out);
        prop_assert!(out.ends_with('\n') && !out.contains('\r'), "{out:?}");
        prop_assert!(!printable(&text).chars().any(char::is_control), "{:?}", printable(&text));
    }
}

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(512))]

    /// Any text: no panic in the INI reader or the validation.
    #[test]
    fn config_never_panics(text in prop_oneof![any::<String>(), hostile_text()]) {
        let _ = ini::parse(&text);
        let _ = Config::parse_str(&text, Path::new("props.ini"));
    }

    /// INI-shaped text: no panic; keys come back lower-cased with real line numbers.
    #[test]
    fn ini_shaped_text_never_panics(
        lines in prop::collection::vec(ini_line(), 0..16),
        crlf in any::<bool>(),
    ) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        if let Ok(sections) = ini::parse(&text) {
            let count = text.lines().count();
            for section in &sections {
                prop_assert!((1..=count).contains(&section.line));
                for entry in &section.entries {
                    prop_assert_eq!(&entry.key, &entry.key.to_lowercase());
                    prop_assert!((1..=count).contains(&entry.line));
                }
            }
        }
        let _ = Config::parse_str(&text, Path::new("props.ini"));
    }

    /// A password on its own line never shows in an error message or a `Debug` dump,
    /// whatever else the file holds.
    #[test]
    fn password_never_shows_in_config_errors(
        before in prop::collection::vec(ini_line(), 0..8),
        after in prop::collection::vec(ini_line(), 0..8),
        secret in "[a-zA-Z0-9]{8,16}",
    ) {
        let secret = format!("Pw{secret}Zq");
        let mut lines = before;
        lines.push(format!("password = {secret}"));
        lines.extend(after);
        let text = lines.join("\n");
        match Config::parse_str(&text, Path::new("props.ini")) {
            Ok(config) => {
                let dump = format!("{config:?}");
                prop_assert!(!dump.contains(&secret), "{}", dump);
            }
            Err(e) => prop_assert!(!e.to_string().contains(&secret), "{}", e),
        }
    }
}

// ---------------------------------------------------------------------------------------
// State files
// ---------------------------------------------------------------------------------------

/// A user name as REMOTE_USER may carry it: anything, line breaks, NUL, `%` and spaces.
fn user_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z \r\n\t\u{0}%\u{7f}\u{85}\u{2028}é😀]{0,24}",
        hostile_text(),
    ]
}

fn family<A: Into<IpAddr>>(addr: impl Strategy<Value = A>) -> impl Strategy<Value = Family> {
    (
        addr,
        any::<u64>(),
        prop::option::of(any::<u32>()),
        user_name(),
    )
        .prop_map(|(addr, seen_at, ttl, by)| Family {
            addr: addr.into(),
            seen_at,
            ttl,
            by,
        })
}

fn host_state() -> impl Strategy<Value = HostState> {
    (
        prop::option::of(family(any::<Ipv4Addr>())),
        prop::option::of(family(any::<Ipv6Addr>())),
        prop::collection::vec(any::<u64>(), 0..16),
        prop::collection::vec((any::<[u8; 32]>(), any::<u64>(), any::<String>()), 0..4),
    )
        .prop_map(|(v4, v6, changes, txt)| HostState {
            v4,
            v6,
            changes,
            txt: txt
                .into_iter()
                .map(|(digest, set_at, by)| {
                    use base64::Engine as _;
                    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                    TxtEntry {
                        value: engine.encode(digest),
                        set_at,
                        by,
                    }
                })
                .collect(),
        })
}

proptest! {
    #![proptest_config(cases(512))]

    /// Whatever the user names hold, the file has one line per family and one for the
    /// changes, only printable ASCII besides the line ends, and reads back exactly.
    #[test]
    fn state_files_round_trip_with_any_user_name(state in host_state()) {
        let text = state.render();
        let lines = 1
            + usize::from(state.v4.is_some())
            + usize::from(state.v6.is_some())
            + usize::from(!state.changes.is_empty())
            + state.txt.len();
        prop_assert_eq!(text.matches('\n').count(), lines);
        prop_assert_eq!(text.lines().count(), lines);
        prop_assert!(text.ends_with('\n'));
        prop_assert!(text.bytes().all(|b| b == b'\n' || (0x20..0x7f).contains(&b)), "{:?}", text);
        prop_assert_eq!(HostState::parse(&text), Some(state));
    }

    /// Any text: no panic, and what is read renders back to something that reads the same.
    #[test]
    fn state_parse_never_panics(text in prop_oneof![any::<String>(), hostile_text()]) {
        if let Some(state) = HostState::parse(&text) {
            prop_assert_eq!(HostState::parse(&state.render()), Some(state));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Gandi rrsets: JSON round trip
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(256))]

    /// Any answer body: no panic, only an error or an rrset.
    #[test]
    fn gandi_rrset_parse_never_panics(text in prop_oneof![
        any::<String>(),
        hostile_text(),
        (any::<Option<u32>>(), prop::collection::vec(hostile_text(), 0..4)).prop_map(|(ttl, values)| {
            serde_json::json!({ "rrset_ttl": ttl, "rrset_values": values, "rrset_name": "x" }).to_string()
        }),
    ]) {
        let _ = RrsetBody::parse(&text);
    }

    /// What we send reads back as the same rrset, whatever the values hold.
    #[test]
    fn gandi_rrset_render_parse_is_identity(
        ttl in any::<Option<u32>>(),
        values in prop::collection::vec(prop_oneof![any::<String>(), hostile_text()], 0..4),
    ) {
        let rrset = RrsetBody { rrset_ttl: ttl, rrset_values: values };
        let text = rrset.render();
        prop_assert_eq!(RrsetBody::parse(&text), Ok(rrset), "{}", text);
    }
}

// ---------------------------------------------------------------------------------------
// The SchlundTech zone: XML round trip and edits
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(256))]

    /// Any text: no panic.
    #[test]
    fn xml_parse_never_panics(text in prop_oneof![any::<String>(), hostile_text()]) {
        let _ = xml::parse(&text);
    }

    /// Markup-shaped text: if it parses, writing it and reading it again gives the same
    /// tree.
    #[test]
    fn parsed_documents_round_trip(
        tokens in prop::collection::vec(
            prop::sample::select(vec![
                "<zone>", "</zone>", "<rr>", "</rr>", "<name/>", "<name>", "</name>",
                "<value>", "</value>", "<e a=\"1&amp;2\">", "</e>", "text", " ", "\n",
                "\r\n", "\t", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#13;", "&#xDF;",
                "&#252;", "<!-- c -->", "<!---->", "<![CDATA[<b>&amp;]]>", "<?pi x?>",
                "Grüße", "'\"", "]]", ">",
            ]),
            0..24,
        ),
    ) {
        let text: String = tokens.concat();
        if let Ok(tree) = xml::parse(&text) {
            let again = xml::parse(&xml::to_string(&tree));
            prop_assert_eq!(again.as_ref(), Ok(&tree), "{:?} wrote {:?}", text, xml::to_string(&tree));
        }
    }

    /// Generated zone trees (markup characters, non-ASCII, blank and empty leaves,
    /// comments, attributes) survive to_string and to_document unchanged.
    #[test]
    fn generated_zones_round_trip(tree in zone_tree()) {
        let written = xml::to_string(&tree);
        prop_assert_eq!(xml::parse(&written), Ok(tree.clone()), "{:?}", written);
        let document = String::from_utf8(xml::to_document(&tree)).unwrap();
        prop_assert_eq!(xml::parse(&document), Ok(tree));
    }

    /// `for_update` removes exactly the read-only elements and keeps the rest in order.
    #[test]
    fn for_update_removes_only_read_only_fields(tree in zone_tree()) {
        let out = zone::for_update(&tree);
        let expected: Vec<Node> = tree
            .children
            .iter()
            .filter(|n| !matches!(n, Node::Element(e) if READ_ONLY.contains(&e.name.as_str())))
            .cloned()
            .collect();
        prop_assert_eq!(out.children, expected);
        prop_assert_eq!(out.name, tree.name);
    }

    /// `zone::apply` changes the targeted values and nothing else: every other record and
    /// element keeps its place and content, a refused or unchanged host leaves the zone
    /// as it was, and a changed host holds the new address in every place it lives.
    #[test]
    fn apply_changes_only_the_targeted_values(
        before in apply_zone(),
        change in record_change(),
        policy in policy(),
        ttl in 60u32..100_000,
    ) {
        let mut after = before.clone();
        let outcome = zone::apply(&mut after, &change, policy, ttl);
        check_apply(&before, &after, &change, policy, ttl, &outcome)?;
    }

    /// The same guarantee with collapsing on and both families in one change.
    #[test]
    fn apply_collapsing_both_families_changes_only_the_targeted_values(
        before in apply_zone(),
        (name, v4, v6) in (
            prop::sample::select(vec!["", "home", "x"]),
            any::<Ipv4Addr>(),
            any::<Ipv6Addr>(),
        ),
        create_missing in any::<bool>(),
    ) {
        let change = RecordChange {
            host: if name.is_empty() {
                "example.co.uk".parse().unwrap()
            } else {
                format!("{name}.example.co.uk").parse().unwrap()
            },
            name: name.to_string(),
            operations: operations(Some(v4), Some(v6)),
            ttl: None,
            known: Default::default(),
        };
        let policy = EditPolicy { create_missing, collapse_round_robin: true, rewrite: false };
        let mut after = before.clone();
        let outcome = zone::apply(&mut after, &change, policy, 300);
        check_apply(&before, &after, &change, policy, 300, &outcome)?;
    }
}

/// Checks one `zone::apply`; a failure shows both zones as XML, which reads far better
/// than the trees.
fn check_apply(
    before: &Element,
    after: &Element,
    change: &RecordChange,
    policy: EditPolicy,
    ttl: u32,
    outcome: &RecordOutcome,
) -> Result<(), TestCaseError> {
    check_apply_trees(before, after, change, policy, ttl, outcome).map_err(|e| {
        TestCaseError::fail(format!(
            "{e}\nchange: {change:?}\nbefore: {}\nafter:  {}",
            xml::to_string(before),
            xml::to_string(after)
        ))
    })
}

fn check_apply_trees(
    before: &Element,
    after: &Element,
    change: &RecordChange,
    policy: EditPolicy,
    ttl: u32,
    outcome: &RecordOutcome,
) -> Result<(), TestCaseError> {
    if !matches!(outcome, RecordOutcome::Changed { .. }) {
        prop_assert_eq!(after, before, "{:?} must leave the zone alone", outcome);
        return Ok(());
    }
    let mut families: Vec<(&str, IpAddr)> = Vec::new();
    if let Some(v4) = change.v4() {
        families.push(("A", IpAddr::V4(v4)));
    }
    if let Some(v6) = change.v6() {
        families.push(("AAAA", IpAddr::V6(v6)));
    }
    let types: Vec<&str> = families.iter().map(|(t, _)| *t).collect();
    let apex_v4 = change.name.is_empty() && change.v4().is_some();
    let main_value = |zone: &Element| zone.child("main").and_then(|m| m.child_text("value"));
    let others = |zone: &Element| -> Vec<Node> {
        zone.children
            .iter()
            .filter(|n| !is_targeted(n, &change.name, &types))
            .map(|n| match n {
                Node::Element(e) if apex_v4 && e.name == "main" => Node::Element(without_value(e)),
                other => other.clone(),
            })
            .collect()
    };
    prop_assert_eq!(
        others(after),
        others(before),
        "something besides {:?} {:?} changed",
        change.name,
        types
    );
    if apex_v4 && let (Some(value), Some(v4)) = (main_value(after), change.v4()) {
        prop_assert!(holds(&value, IpAddr::V4(v4)), "main holds {value:?}");
    }
    for (rr_type, addr) in families {
        let records = |zone: &Element| -> Vec<Element> {
            zone.elements()
                .filter(|e| is_targeted(&Node::Element((*e).clone()), &change.name, &[rr_type]))
                .cloned()
                .collect()
        };
        let (old, new) = (records(before), records(after));
        for rr in &new {
            prop_assert!(
                holds(&rr_text(rr, "value"), addr),
                "{} {} holds {:?}, not {}",
                change.name,
                rr_type,
                rr_text(rr, "value"),
                addr
            );
        }
        let has_main = rr_type == "A" && apex_v4 && main_value(before).is_some();
        if old.is_empty() && !has_main {
            prop_assert!(policy.create_missing);
            prop_assert_eq!(new.len(), 1);
            prop_assert_eq!(rr_text(&new[0], "name"), change.name.clone());
            prop_assert_eq!(rr_text(&new[0], "ttl"), ttl.to_string());
            prop_assert_eq!(rr_text(&new[0], "type"), rr_type);
        } else {
            // At the apex, `main` and one A rr are one record; further rrs are round robin.
            let kept = if old.len() > 1 && policy.collapse_round_robin {
                1
            } else {
                old.len()
            };
            let old: Vec<Element> = old.iter().take(kept).map(without_value).collect();
            let new: Vec<Element> = new.iter().map(without_value).collect();
            prop_assert_eq!(new, old, "{} {} records", change.name, rr_type);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Fixed cases
// ---------------------------------------------------------------------------------------

/// The gateway's own zone document reads, writes and reads back to the same tree.
#[test]
fn fixture_zone_round_trips() {
    let tree = xml::parse(FIXTURE_ZONE).unwrap();
    assert_eq!(xml::parse(&xml::to_string(&tree)).unwrap(), tree);
    let document = String::from_utf8(xml::to_document(&tree)).unwrap();
    assert_eq!(xml::parse(&document).unwrap(), tree);
    let note = tree
        .elements()
        .filter(|e| e.name == "rr")
        .find(|e| e.child_text("name").as_deref() == Some("note"))
        .unwrap();
    assert_eq!(
        note.child_text("value").unwrap(),
        "\"say \\\"hi\\\"\" & <b>bold</b> 'x' Grüße"
    );
}

/// With round robin collapsing on, a dual-stack change of a name with two A records must
/// set that name's AAAA, not a record that came after the removed A.
#[test]
fn collapsing_a_records_does_not_shift_the_aaaa_edit() {
    let before = xml::parse(concat!(
        "<zone><name>example.co.uk</name>",
        "<rr><name>x</name><ttl>300</ttl><type>A</type><value>198.51.100.1</value></rr>",
        "<rr><name>x</name><ttl>300</ttl><type>A</type><value>198.51.100.2</value></rr>",
        "<rr><name>x</name><ttl>300</ttl><type>AAAA</type><value>2001:db8::1</value></rr>",
        "<rr><name>y</name><ttl>300</ttl><type>AAAA</type><value>2001:db8::2</value></rr>",
        "</zone>"
    ))
    .unwrap();
    let change = RecordChange {
        host: "x.example.co.uk".parse().unwrap(),
        name: "x".into(),
        ttl: None,
        operations: operations(
            Some(Ipv4Addr::new(84, 17, 5, 9)),
            Some("2a01:4f8::9".parse().unwrap()),
        ),
        known: Default::default(),
    };
    let policy = EditPolicy {
        create_missing: false,
        collapse_round_robin: true,
        rewrite: false,
    };
    let mut after = before.clone();
    let outcome = zone::apply(&mut after, &change, policy, 300);
    assert!(matches!(outcome, RecordOutcome::Changed { .. }));
    assert_eq!(
        xml::to_string(&after),
        concat!(
            "<zone><name>example.co.uk</name>",
            "<rr><name>x</name><ttl>300</ttl><type>A</type><value>84.17.5.9</value></rr>",
            "<rr><name>x</name><ttl>300</ttl><type>AAAA</type><value>2a01:4f8::9</value></rr>",
            "<rr><name>y</name><ttl>300</ttl><type>AAAA</type><value>2001:db8::2</value></rr>",
            "</zone>"
        )
    );
}

/// An attribute written in single quotes may hold `"`; writing it back must still be XML.
#[test]
fn single_quoted_attributes_round_trip() {
    let tree = xml::parse("<zone><e a='say \"hi\"'>1</e></zone>").unwrap();
    assert_eq!(xml::parse(&xml::to_string(&tree)), Ok(tree));
}

/// A mistyped URL may carry credentials; the error must not repeat them.
#[test]
fn url_errors_do_not_repeat_credentials() {
    for key in ["url", "proxy"] {
        let text = format!(
            "[default]\nusername = u\npassword = p\n{key} = hxxps://user:hunter2@gw.example\n"
        );
        let error = Config::parse_str(&text, Path::new("props.ini"))
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }
}

/// A stored hash: each known format's prefix followed by anything, or anything at all.
fn hash_text() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "",
        "$2y$",
        "$2y$04$",
        "$2b$05$",
        "$apr1$",
        "$apr1$abc$",
        "{SHA}",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$",
        "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$",
    ]);
    (prefix, any::<String>()).prop_map(|(p, rest)| format!("{p}{rest}"))
}

/// A claim as a request may carry it.
fn claim() -> impl Strategy<Value = ddns_cgi::auth::Claim> {
    use ddns_cgi::auth::{Claim, Source};
    use ddns_cgi::secret::Secret;
    let user = prop_oneof![
        prop::sample::select(vec!["alice", "ALICE", "bob", "nobody", "", " alice"])
            .prop_map(String::from),
        any::<String>(),
    ];
    prop_oneof![
        user.clone().prop_map(Claim::RemoteUser),
        (user, any::<String>(), any::<bool>()).prop_map(|(user, password, header)| {
            Claim::Password {
                user,
                password: Secret::new(password),
                from: if header {
                    Source::Header
                } else {
                    Source::Query
                },
            }
        }),
        prop_oneof![Just("bob-secret-1".to_string()), any::<String>()]
            .prop_map(|s| Claim::Secret(Secret::new(s))),
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    /// No stored hash, however malformed, and no password makes a check panic or run
    /// away; only the right password verifies.
    #[test]
    fn hash_checks_never_panic(password in any::<Vec<u8>>(), hash in hash_text()) {
        let _ = ddns_cgi::auth::hash::verify(&password, &hash);
        let _ = ddns_cgi::auth::hash::check_config_hash(&hash);
        prop_assert!(!ddns_cgi::auth::hash::verify(&password, "$apr1$lmVMarKY$wuMsxy3GR4ztiwwCpHKMs0") || password == b"alice-s3cret:x");
    }

    /// Any Authorization header and any query yields claims or the dialect's refusal.
    #[test]
    fn credential_reading_never_panics(
        header in prop_oneof![Just(None), any::<String>().prop_map(Some), any::<String>().prop_map(|t| Some(format!("Basic {t}")))],
        query in hostile_text(),
        user in prop::option::of(any::<String>()),
    ) {
        let _ = ddns_cgi::auth::basic::parse(header.as_deref());
        let mut req = request(&query, None, b"");
        req.authorization = header;
        req.remote_user = user;
        let all = ddns_cgi::protocol::Switches::new(noip::credentials::SWITCHES.to_vec());
        match noip::credentials::claims(&req, &all) {
            Ok(_) | Err(Refusal::Unauthenticated(_)) => {}
            Err(other) => prop_assert!(false, "unexpected refusal {other:?}"),
        }
        let _ = ddns_cgi::auth::ratelimit::source_key(Some(&query));
    }
}

proptest! {
    // Each case may check an argon2id hash (slow in a debug build).
    #![proptest_config(cases(24))]

    /// Any mix of claims from any address authenticates one principal or refuses; the
    /// failure count stays in the state directory under a safe name.
    #[test]
    fn authentication_never_panics(
        claims in prop::collection::vec(claim(), 0..4),
        source in prop_oneof![Just("84.17.5.1".to_string()), hostile_text()],
    ) {
        let dir = std::env::temp_dir().join(format!("ddns-props-auth-{}", std::process::id()));
        let mut credentials = ddns_cgi::auth::Credentials {
            fail_limit: 3,
            fail_window: 600,
            ..Default::default()
        };
        credentials.users.insert("bob".into(), ddns_cgi::auth::UserCredentials {
            name: "bob".into(),
            secret: Some(ddns_cgi::secret::Secret::new("bob-secret-1")),
            password_hash: Some(ddns_cgi::secret::Secret::new("$2y$04$iET5.hsepPixE2C95BoEaOZQMhy/QQS1Eh6LH8wmSzLX/vixUKYOO")),
        });
        let store = ddns_cgi::state::Store::new(&dir);
        let log = Log::to(Level::Debug, Box::new(std::io::sink()));
        let checker = ddns_cgi::auth::Checker {
            credentials: &credentials,
            store: &store,
            source: Some(&source),
            now: 1_000_000,
            log: &log,
        };
        let _ = ddns_cgi::auth::authenticate(&claims, &checker);
        for entry in std::fs::read_dir(dir.join("auth")).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            prop_assert!(
                name == ".lock" || name == "unknown" || name.starts_with("v4-") || name.starts_with("v6-"),
                "{name}"
            );
        }
    }
}

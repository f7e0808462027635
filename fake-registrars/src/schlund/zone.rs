//! Zones as the fake gateway stores them, and the canonical fixture zone of spec §10.2.

use super::xml::{Element, parse_document};

/// The `<zone>` of spec §10.2 (`example.co.uk`), compact as the gateway sends it.
///
/// It carries everything a round trip must preserve: the five elements clients strip
/// (`created`, `changed`, `domainsafe`, `owner`, `updated_by`), `free`, `dnssec`, an empty
/// `comment`, apex records with `<name/>`, a dotted name (`a.b`) and the `note` TXT record whose
/// decoded value is `"say \"hi\"" & <b>bold</b> 'x' Grüße`. Right after
/// [`FakeSchlund::start`](super::FakeSchlund::start), `zone("example.co.uk").to_xml()` equals
/// this text.
pub const FIXTURE_ZONE: &str = concat!(
    "<zone>",
    "<changed>2024-05-17 09:12:44</changed>",
    "<created>2019-03-02 14:05:10</created>",
    "<name>example.co.uk</name>",
    "<main><value>203.0.113.10</value><ttl>600</ttl></main>",
    "<ns_action>complete</ns_action>",
    "<www_include>0</www_include>",
    "<soa><refresh>43200</refresh><retry>7200</retry><expire>1209600</expire><ttl>86400</ttl>",
    "<email>hostmaster@example.co.uk</email><default>86400</default></soa>",
    "<nserver><name>nsa5.schlundtech.de</name></nserver>",
    "<nserver><name>nsb5.schlundtech.de</name></nserver>",
    "<nserver><name>nsc5.schlundtech.de</name></nserver>",
    "<nserver><name>nsd5.schlundtech.de</name></nserver>",
    "<rr><name/><ttl>3600</ttl><type>AAAA</type><value>2001:db8::10</value></rr>",
    "<rr><name/><ttl>86400</ttl><type>MX</type><pref>10</pref><value>mx1.example.co.uk.</value></rr>",
    "<rr><name/><ttl>86400</ttl><type>MX</type><pref>20</pref><value>mx.backup-provider.example.net.</value></rr>",
    "<rr><name/><ttl>3600</ttl><type>TXT</type><value>v=spf1 mx a:mail.example.co.uk ~all</value></rr>",
    "<rr><name>home</name><ttl>300</ttl><type>A</type><value>198.51.100.7</value></rr>",
    "<rr><name>home</name><ttl>300</ttl><type>AAAA</type><value>2001:db8:85a3::8a2e:370:7334</value></rr>",
    "<rr><name>a.b</name><ttl>300</ttl><type>A</type><value>198.51.100.8</value></rr>",
    "<rr><name>www</name><ttl>3600</ttl><type>CNAME</type><value>example.co.uk.</value></rr>",
    "<rr><name>mx1</name><ttl>3600</ttl><type>A</type><value>203.0.113.25</value></rr>",
    "<rr><name>lab</name><ttl>86400</ttl><type>NS</type><value>ns1.lab-hoster.example.net.</value></rr>",
    "<rr><name>_dmarc</name><ttl>3600</ttl><type>TXT</type><value>v=DMARC1; p=quarantine; rua=mailto:dmarc@example.co.uk</value></rr>",
    "<rr><name>note</name><ttl>3600</ttl><type>TXT</type><value>\"say \\\"hi\\\"\" &amp; &lt;b&gt;bold&lt;/b&gt; 'x' Grüße</value></rr>",
    "<free>_sip._tcp 3600 IN SRV 10 60 5060 sip.example.co.uk.</free>",
    "<system_ns>nsa5.schlundtech.de</system_ns>",
    "<domainsafe>0</domainsafe>",
    "<dnssec>0</dnssec>",
    "<owner><user>1234567</user><context>10</context></owner>",
    "<updated_by><user>1234567</user><context>10</context></updated_by>",
    "<comment/>",
    "</zone>"
);

/// [`FIXTURE_ZONE`] under another zone name, for tests that need several zones.
///
/// Only the zone's own `name` changes; record values that mention `example.co.uk` stay.
pub fn fixture_zone_named(name: &str) -> String {
    let mut zone = StoredZone::parse(FIXTURE_ZONE).expect("the fixture is well-formed");
    if let Some(el) = zone.root.child_mut("name") {
        el.text = name.to_string();
    }
    zone.to_xml()
}

/// One resource record as the gateway writes it (`<rr>`), with decoded texts.
///
/// A missing child reads as an empty string (`pref` as `None`), so apex records have `name`
/// `""` whether they were sent as `<name/>`, `<name></name>` or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// Relative name; `""` is the apex.
    pub name: String,
    /// TTL in seconds, as text.
    pub ttl: String,
    /// `A`, `AAAA`, `MX`, ...
    pub rr_type: String,
    /// MX/SRV preference, when the record has one.
    pub pref: Option<String>,
    /// The record data, verbatim.
    pub value: String,
}

impl Rr {
    pub(crate) fn from_element(el: &Element) -> Rr {
        let text = |name: &str| el.child_text(name).unwrap_or("").to_string();
        Rr {
            name: text("name"),
            ttl: text("ttl"),
            rr_type: text("type"),
            pref: el.child_text("pref").map(str::to_string),
            value: text("value"),
        }
    }
}

/// A snapshot of one stored zone: the ordered element tree the fake answers 0205 with.
///
/// Every element is kept in order with its decoded text, including ones the fake does not know,
/// so tests can assert that a round trip changed exactly one leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredZone {
    pub(crate) root: Element,
}

impl StoredZone {
    /// Reads a `<zone>` element.
    pub(crate) fn parse(xml: &str) -> Result<StoredZone, String> {
        let root = parse_document(xml)?;
        if root.name != "zone" {
            return Err(format!("expected a <zone> element, found <{}>", root.name));
        }
        if root.child_text("name").is_none_or(str::is_empty) {
            return Err("the zone has no <name>".to_string());
        }
        Ok(StoredZone { root })
    }

    /// The zone name (`name`).
    pub fn name(&self) -> String {
        self.root.child_text("name").unwrap_or("").to_string()
    }

    /// The primary name server (`system_ns`), which identifies the zone together with its name.
    pub fn system_ns(&self) -> Option<String> {
        self.root.child_text("system_ns").map(str::to_string)
    }

    /// Records with that relative name (`""` = apex) and type, in zone order.
    pub fn rr(&self, name: &str, rr_type: &str) -> Vec<Rr> {
        self.all_rr()
            .into_iter()
            .filter(|rr| rr.name == name && rr.rr_type.eq_ignore_ascii_case(rr_type))
            .collect()
    }

    /// Every `rr`, in zone order.
    pub fn all_rr(&self) -> Vec<Rr> {
        self.root
            .children_named("rr")
            .map(Rr::from_element)
            .collect()
    }

    /// `(value, ttl)` of `main`, the apex IPv4 (spec §7.1).
    pub fn main(&self) -> Option<(String, String)> {
        let main = self.root.child("main")?;
        Some((
            main.child_text("value").unwrap_or("").to_string(),
            main.child_text("ttl").unwrap_or("").to_string(),
        ))
    }

    /// Decoded text at a child path such as `"soa/email"`, `"www_include"` or
    /// `"updated_by/user"`; `Some("")` for an empty or non-leaf element, `None` if absent.
    pub fn text(&self, path: &str) -> Option<String> {
        self.root.at(path).map(|el| el.text.clone())
    }

    /// Whether a direct child element with that name exists.
    pub fn has(&self, element: &str) -> bool {
        self.root.child(element).is_some()
    }

    /// The `free` lines, in order.
    pub fn free(&self) -> Vec<String> {
        self.root
            .children_named("free")
            .map(|el| el.text.clone())
            .collect()
    }

    /// Names of the direct children in order, to assert on element order.
    pub fn element_names(&self) -> Vec<String> {
        self.root.children.iter().map(|c| c.name.clone()).collect()
    }

    /// The `<zone>` element exactly as the fake sends it inside a 0205 answer.
    pub fn to_xml(&self) -> String {
        self.root.to_xml()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_reads_and_writes_back_unchanged() {
        let zone = StoredZone::parse(FIXTURE_ZONE).unwrap();
        assert_eq!(zone.to_xml(), FIXTURE_ZONE);
        assert_eq!(zone.name(), "example.co.uk");
        assert_eq!(zone.system_ns().as_deref(), Some("nsa5.schlundtech.de"));
        assert_eq!(
            zone.rr("note", "TXT")[0].value,
            "\"say \\\"hi\\\"\" & <b>bold</b> 'x' Grüße"
        );
        assert_eq!(zone.rr("", "MX")[1].pref.as_deref(), Some("20"));
        assert_eq!(
            zone.main(),
            Some(("203.0.113.10".to_string(), "600".to_string()))
        );
        assert_eq!(zone.text("comment").as_deref(), Some(""));
        assert_eq!(zone.text("owner/context").as_deref(), Some("10"));
        assert_eq!(zone.all_rr().len(), 12);
        assert_eq!(
            zone.free(),
            ["_sip._tcp 3600 IN SRV 10 60 5060 sip.example.co.uk."]
        );
    }

    #[test]
    fn fixture_under_another_name() {
        let zone = StoredZone::parse(&fixture_zone_named("example.org")).unwrap();
        assert_eq!(zone.name(), "example.org");
        assert_eq!(zone.rr("www", "CNAME")[0].value, "example.co.uk.");
    }
}

//! Our secrets, taken out of registrar text before it reaches a log line.
//!
//! A registrar may quote what we sent it: a gateway error quoting our request (password and
//! one-time code), an API echoing the `Authorization` header it refused. So every text from
//! a registrar that is logged is first cleaned of every configured secret and every one-time
//! code made in this request, in each form a registrar may echo it: as sent, XML-escaped
//! (once or twice), JSON-escaped and percent-encoded. Only then is it made printable.

use std::cell::RefCell;
use std::rc::Rc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::backend::{PerFamily, RecordOutcome};
use crate::log::printable_within;

/// What a secret becomes.
const MASK: &str = "***";

/// Characters of registrar text shown in one place of a log line: enough for any real error
/// message, few enough that a hostile answer cannot fill the log.
pub const SHOWN: usize = 400;

/// Unreserved characters stay as they are (RFC 3986), as most encoders leave them.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// JavaScript's `encodeURIComponent` also leaves these.
const JS_COMPONENT: &AsciiSet = &COMPONENT
    .remove(b'!')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// The secrets of one request. Clones share one list, so a one-time code made by one
/// registrar is scrubbed from every registrar's text.
#[derive(Clone, Default)]
pub struct Scrub {
    inner: Rc<RefCell<Needles>>,
}

/// The secrets, and their forms once a text is first cleaned: most requests (a repeat
/// answered from state, a name refused) log no registrar text at all, and working out every
/// form of every secret costs more than the rest of such a request.
#[derive(Default)]
struct Needles {
    secrets: Vec<String>,
    /// Every form of every secret, longest first, so a form holding a shorter one goes whole.
    forms: Option<Vec<String>>,
}

impl Scrub {
    /// Adds a secret, to be scrubbed in every form it may come back in. Empty text is no
    /// secret.
    pub fn add(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut inner = self.inner.borrow_mut();
        if !inner.secrets.iter().any(|s| s == secret) {
            inner.secrets.push(secret.to_string());
            inner.forms = None;
        }
    }

    /// Runs `f` on every form of every secret, longest first.
    fn with_forms<R>(&self, f: impl FnOnce(&[String]) -> R) -> R {
        let mut inner = self.inner.borrow_mut();
        let Needles { secrets, forms } = &mut *inner;
        let forms = forms.get_or_insert_with(|| {
            let mut needles: Vec<String> = Vec::new();
            for form in secrets.iter().flat_map(|s| forms_of(s)) {
                if !form.is_empty() && !needles.contains(&form) {
                    needles.push(form);
                }
            }
            needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
            needles
        });
        f(forms)
    }

    /// The text with every occurrence of a secret replaced by `***`.
    pub fn clean(&self, text: &str) -> String {
        self.with_forms(|needles| {
            let mut out = text.to_string();
            for needle in needles {
                if out.contains(needle.as_str()) {
                    out = out.replace(needle.as_str(), MASK);
                }
            }
            out
        })
    }

    /// Registrar text for a log line: cleaned of secrets (the whole text, before anything
    /// is cut off), control characters escaped, at most [`SHOWN`] characters.
    pub fn show(&self, text: &str) -> String {
        printable_within(&self.clean_head(text, SHOWN), SHOWN)
    }

    /// The cleaned text, or a cleaned head of it holding more than `keep` characters and no
    /// piece of a secret among them. A huge text is cleaned only as far as it is shown.
    fn clean_head(&self, text: &str, keep: usize) -> String {
        let margin = self
            .with_forms(|needles| needles.iter().map(|n| n.chars().count()).max())
            .unwrap_or(0);
        // A secret cut off at the end of a head stays in the cleaned head, within its last
        // `margin` characters: those must lie past what is shown.
        let enough = keep + margin + 1;
        let mut window = enough;
        loop {
            let Some((cut, _)) = text.char_indices().nth(window) else {
                return self.clean(text);
            };
            let cleaned = self.clean(&text[..cut]);
            if cleaned.chars().count() >= enough {
                return cleaned;
            }
            window = window.saturating_mul(2);
        }
    }

    /// The outcome with the values it replaced, which are the registrar's text and go into
    /// the request's log line, shown as [`Scrub::show`] shows them.
    pub fn outcome(&self, outcome: RecordOutcome) -> RecordOutcome {
        match outcome {
            RecordOutcome::Changed {
                previous,
                written_ttl,
            } => RecordOutcome::Changed {
                previous: PerFamily {
                    v4: previous
                        .v4
                        .map(|old| old.iter().map(|v| self.show(v)).collect()),
                    v6: previous
                        .v6
                        .map(|old| old.iter().map(|v| self.show(v)).collect()),
                },
                written_ttl,
            },
            other => other,
        }
    }
}

/// The forms a registrar may echo a secret in: as sent or XML-escaped once or twice (our
/// request is XML, and an answer quoting it escapes it again), each of those also
/// JSON-escaped and percent-encoded.
fn forms_of(secret: &str) -> Vec<String> {
    let once: Vec<fn(&str) -> String> = vec![escape_xml, escape_xml_numeric, escape_xml_partial];
    let mut xml = vec![
        secret.to_string(),
        quick_xml::escape::minimal_escape(secret).into_owned(),
    ];
    for first in &once {
        let escaped = first(secret);
        xml.push(escape_xml(&escaped));
        xml.push(escape_xml_partial(&escaped));
        xml.push(escaped);
    }
    // A secret without characters XML escapes is the same in most of these forms; each
    // distinct one is encoded further once.
    xml.sort();
    xml.dedup();
    let mut out = Vec::new();
    for form in xml {
        out.extend(json_forms(&form));
        out.extend(percent_forms(&form));
        out.push(form);
    }
    out
}

/// Percent-encoded with every non-alphanumeric byte, with unreserved ones kept, and as
/// JavaScript does; hex digits in either case; a space also as `+`.
fn percent_forms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for set in [NON_ALPHANUMERIC, COMPONENT, JS_COMPONENT] {
        let upper = utf8_percent_encode(text, set).to_string();
        out.push(upper.replace("%20", "+"));
        out.push(lower_hex_escapes(&upper));
        out.push(upper);
    }
    out
}

/// `&`, `<` and `>` only, as most writers escape text.
fn escape_xml_partial(text: &str) -> String {
    quick_xml::escape::partial_escape(text).into_owned()
}

/// `&`, `<`, `>`, `"` and `'` as named entities.
fn escape_xml(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// Quotes as numeric references, as some serialisers write them.
fn escape_xml_numeric(text: &str) -> String {
    quick_xml::escape::partial_escape(text)
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// As serde writes a JSON string, with `/` escaped too, and ASCII-only as Python writes it.
fn json_forms(text: &str) -> Vec<String> {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    let plain = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or("")
        .to_string();
    if plain.is_ascii() {
        return vec![plain.replace('/', "\\/"), plain.clone(), plain];
    }
    let ascii: String = plain
        .chars()
        .flat_map(|c| {
            let mut units = [0u16; 2];
            let escaped: Vec<String> = if c.is_ascii() {
                vec![c.to_string()]
            } else {
                c.encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            };
            escaped
        })
        .collect();
    vec![plain.replace('/', "\\/"), ascii, plain]
}

/// `%2F` → `%2f`: percent-encoders differ in the case of their hex digits.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "s3cret&pass<%x \"q\" 'a' /ü\\";

    fn scrub() -> Scrub {
        let scrub = Scrub::default();
        scrub.add(PASSWORD);
        scrub.add("049213");
        scrub.add("");
        scrub
    }

    #[test]
    fn every_form_of_a_secret_goes() {
        let scrub = scrub();
        let echoes = [
            PASSWORD.to_string(),
            "s3cret&amp;pass&lt;%x &quot;q&quot; &apos;a&apos; /ü\\".to_string(),
            "s3cret&amp;pass&lt;%x &#34;q&#34; &#39;a&#39; /ü\\".to_string(),
            "s3cret&amp;pass&lt;%x \"q\" 'a' /ü\\".to_string(),
            "s3cret&amp;amp;pass&amp;lt;%x &amp;quot;q&amp;quot; &amp;apos;a&amp;apos; /ü\\"
                .to_string(),
            "s3cret&pass<%x \\\"q\\\" 'a' /ü\\\\".to_string(),
            "s3cret&pass<%x \\\"q\\\" 'a' \\/ü\\\\".to_string(),
            "s3cret&pass<%x \\\"q\\\" 'a' /\\u00fc\\\\".to_string(),
            "s3cret%26pass%3C%25x%20%22q%22%20%27a%27%20%2F%C3%BC%5C".to_string(),
            "s3cret%26pass%3c%25x%20%22q%22%20%27a%27%20%2f%c3%bc%5c".to_string(),
            "s3cret%26pass%3C%25x+%22q%22+%27a%27+%2F%C3%BC%5C".to_string(),
            "s3cret%26pass%3C%25x%20%22q%22%20'a'%20%2F%C3%BC%5C".to_string(),
            // Our request as XML, quoted percent-encoded or as JSON.
            "s3cret%26amp%3Bpass%26lt%3B%25x%20%22q%22%20%27a%27%20%2F%C3%BC%5C".to_string(),
            "s3cret&amp;pass&lt;%x \\\"q\\\" 'a' /ü\\\\".to_string(),
            serde_json::to_string(&quick_xml::escape::escape(PASSWORD))
                .unwrap()
                .trim_matches('"')
                .to_string(),
        ];
        for echo in echoes {
            let text = format!("<password>{echo}</password><token>049213</token>");
            assert_eq!(
                scrub.clean(&text),
                "<password>***</password><token>***</token>",
                "{echo}"
            );
        }
    }

    #[test]
    fn codes_go_wherever_they_stand_and_other_text_stays() {
        let scrub = scrub();
        assert_eq!(scrub.clean("a0492134 b"), "a***4 b");
        assert_eq!(scrub.clean("Zone not found."), "Zone not found.");
        assert_eq!(Scrub::default().clean("049213"), "049213");
    }

    #[test]
    fn shown_text_is_scrubbed_before_it_is_cut_and_escaped() {
        let scrub = scrub();
        let long = format!("{}{PASSWORD}\u{1b}[2J\u{8}", "x".repeat(SHOWN - 3));
        let shown = scrub.show(&long);
        assert_eq!(shown, format!("{}***…", "x".repeat(SHOWN - 3)));
        assert_eq!(scrub.show("bad\u{1b}[31m\u{8}"), "bad\\u{1b}[31m\\u{8}");
        // Clones share what is added later, such as a one-time code made after the split.
        let clone = scrub.clone();
        scrub.add("777111");
        assert_eq!(clone.clean("777111"), "***");
    }

    #[test]
    fn a_long_text_is_cleaned_as_far_as_it_is_shown_and_no_further() {
        let scrub = Scrub::default();
        scrub.add("abcdefghij");
        for secrets in [0, 1, 39, 40, 41, 150, 400] {
            for lead in 0..12 {
                let text = format!(
                    "{}{}{}{}",
                    "abcdefghij".repeat(secrets),
                    "x".repeat(SHOWN - 2 + lead),
                    "abcdefghij".repeat(3),
                    "y".repeat(50_000)
                );
                let shown = scrub.show(&text);
                assert!(!shown.contains('a'), "{secrets} {lead}: {shown}");
                assert_eq!(shown, printable_within(&scrub.clean(&text), SHOWN));
            }
        }
        assert_eq!(scrub.show("abcdefghij"), "***");
        assert_eq!(scrub.show(&"z".repeat(SHOWN)), "z".repeat(SHOWN));
        assert_eq!(
            scrub.show(&"z".repeat(SHOWN + 1)),
            format!("{}…", "z".repeat(SHOWN))
        );
    }
}

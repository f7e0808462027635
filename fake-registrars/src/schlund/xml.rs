//! The ordered element tree the fake gateway reads requests into and writes answers from.
//!
//! Only what the gateway's documents use is modelled: elements, text, nothing else. Element
//! order is kept exactly (the gateway emits zones in stored order, spec §7.1), whitespace
//! between elements is dropped and leaf text is kept verbatim (spec §2). Reading rejects
//! everything that is not well-formed with a message in the style of the gateway's Java parser
//! (spec §6, §10.5), so a client that builds XML by string formatting fails here as it would
//! there.

use std::borrow::Cow;

use quick_xml::errors::{Error as XmlError, IllFormedError};
use quick_xml::escape::{partial_escape, resolve_predefined_entity};
use quick_xml::events::{BytesDecl, BytesEnd, BytesRef, BytesStart, BytesText, Event};
use quick_xml::reader::Reader;
use quick_xml::writer::Writer;

/// One element: a name, and either text (a leaf) or child elements.
///
/// Attributes are checked for well-formedness when read but not kept: no gateway document
/// uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    /// Decoded text; empty when the element has children.
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// A leaf with text (empty text is written as `<name/>`).
    pub(crate) fn leaf(name: &str, text: &str) -> Element {
        Element {
            name: name.to_string(),
            text: text.to_string(),
            children: Vec::new(),
        }
    }

    /// An element holding children.
    pub(crate) fn parent(name: &str, children: Vec<Element>) -> Element {
        Element {
            name: name.to_string(),
            text: String::new(),
            children,
        }
    }

    /// The first direct child with that name.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first direct child with that name, for changing it.
    pub(crate) fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    /// All direct children with that name, in order.
    pub(crate) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Text of the first direct child with that name.
    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The element at a `/`-separated path of child names, first match at each step.
    pub(crate) fn at(&self, path: &str) -> Option<&Element> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .try_fold(self, |el, step| el.child(step))
    }

    /// Compact serialization (no declaration, no whitespace between elements).
    pub(crate) fn to_xml(&self) -> String {
        let mut writer = Writer::new(Vec::new());
        self.write(&mut writer);
        String::from_utf8(writer.into_inner()).expect("the writer only copies UTF-8 text")
    }

    fn write(&self, writer: &mut Writer<Vec<u8>>) {
        // Writing into a Vec cannot fail.
        let ok = "writing XML into memory";
        if self.children.is_empty() && self.text.is_empty() {
            writer
                .write_event(Event::Empty(BytesStart::new(self.name.as_str())))
                .expect(ok);
            return;
        }
        writer
            .write_event(Event::Start(BytesStart::new(self.name.as_str())))
            .expect(ok);
        if self.children.is_empty() {
            // Only `&`, `<` and `>` are escaped: quotes stay literal, as in the gateway's own
            // answers (spec §10.2, the `note` TXT record).
            writer
                .write_event(Event::Text(BytesText::from_escaped(partial_escape(
                    self.text.as_str(),
                ))))
                .expect(ok);
        } else {
            for child in &self.children {
                child.write(writer);
            }
        }
        writer
            .write_event(Event::End(BytesEnd::new(self.name.as_str())))
            .expect(ok);
    }
}

/// A whole answer document: the gateway's declaration, then the root on one line (spec §2).
pub(crate) fn document(root: &Element) -> String {
    let mut writer = Writer::new(Vec::new());
    writer
        .write_event(Event::Decl(BytesDecl::new(
            "1.0",
            Some("UTF-8"),
            Some("no"),
        )))
        .expect("writing XML into memory");
    root.write(&mut writer);
    String::from_utf8(writer.into_inner()).expect("the writer only copies UTF-8 text")
}

const PROLOG: &str = "Content is not allowed in prolog.";
const TRAILING: &str = "Content is not allowed in trailing section.";
const AFTER_ROOT: &str =
    "The markup in the document following the root element must be well-formed.";
const UNFINISHED: &str = "XML document structures must start and end within the same entity.";

/// Reads one document into its root element, or returns the parser message the gateway
/// would put into its `EF00000` answer.
pub(crate) fn parse_document(input: &str) -> Result<Element, String> {
    // The gateway wants UTF-8 without a byte-order mark (spec §2); a BOM reaches its parser
    // as a character before the first `<`.
    if input.starts_with('\u{feff}') {
        return Err(PROLOG.to_string());
    }
    let mut reader = Reader::from_str(input);
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut first_event = true;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => return Err(describe(&err, input, reader.error_position())),
        };
        let was_first = std::mem::replace(&mut first_event, false);
        match event {
            Event::Decl(decl) => {
                if !was_first {
                    return Err(
                        "The processing instruction target matching \"[xX][mM][lL]\" is not allowed."
                            .to_string(),
                    );
                }
                check_declaration(&decl, input)?;
            }
            Event::DocType(_) => {
                return Err("DOCTYPE is disallowed when the feature \
                     \"http://apache.org/xml/features/disallow-doctype-decl\" set to true."
                    .to_string());
            }
            Event::Start(start) => {
                let element = open_element(&start, &open, &root)?;
                open.push(element);
            }
            Event::Empty(start) => {
                let element = open_element(&start, &open, &root)?;
                close_element(element, &mut open, &mut root);
            }
            Event::End(_) => {
                // quick-xml has already matched the name against the open element.
                let element = open.pop().ok_or_else(|| AFTER_ROOT.to_string())?;
                close_element(element, &mut open, &mut root);
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                append_text(&mut open, &root, &content)?;
            }
            Event::CData(cdata) => {
                let content = cdata.xml10_content();
                if open.is_empty() {
                    return Err(if root.is_some() { AFTER_ROOT } else { PROLOG }.to_string());
                }
                append_text(&mut open, &root, &content)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference)?;
                if open.is_empty() {
                    return Err(if root.is_some() { TRAILING } else { PROLOG }.to_string());
                }
                append_text(&mut open, &root, &resolved)?;
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return Err(UNFINISHED.to_string());
    }
    root.ok_or_else(|| "Premature end of file.".to_string())
}

fn check_declaration(decl: &BytesDecl<'_>, input: &str) -> Result<(), String> {
    let version = decl
        .version()
        .map_err(|_| "The version is required in the XML declaration.".to_string())?;
    if version != "1.0" && version != "1.1" {
        return Err(format!(
            "XML version \"{version}\" is not supported, only XML 1.0 is supported."
        ));
    }
    if let Some(encoding) = decl.encoding() {
        let encoding = encoding.map_err(|_| "Malformed XML declaration.".to_string())?;
        let utf8 = encoding.eq_ignore_ascii_case("UTF-8") || encoding.eq_ignore_ascii_case("UTF8");
        // The body arrives as UTF-8; under any other declared encoding a non-ASCII byte would
        // be decoded differently, or rejected, by the gateway.
        if !utf8 && !input.is_ascii() {
            return Err(format!(
                "Invalid byte 1 of 1-byte {} sequence.",
                encoding.to_ascii_uppercase()
            ));
        }
    }
    Ok(())
}

fn open_element(
    start: &BytesStart<'_>,
    open: &[Element],
    root: &Option<Element>,
) -> Result<Element, String> {
    let name = start.name().as_ref().to_string();
    if open.is_empty() && root.is_some() {
        return Err(AFTER_ROOT.to_string());
    }
    for attribute in start.attributes() {
        if attribute.is_err() {
            return Err(format!(
                "Element type \"{name}\" must be followed by either attribute specifications, \">\" or \"/>\"."
            ));
        }
    }
    Ok(Element::parent(&name, Vec::new()))
}

fn close_element(mut element: Element, open: &mut [Element], root: &mut Option<Element>) {
    // Whitespace between child elements is layout, not content (spec §2).
    if !element.children.is_empty() {
        element.text.clear();
    }
    match open.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn append_text(open: &mut [Element], root: &Option<Element>, text: &str) -> Result<(), String> {
    match open.last_mut() {
        Some(element) => {
            element.text.push_str(text);
            Ok(())
        }
        None if text.chars().all(is_xml_space) => Ok(()),
        None if root.is_some() => Err(TRAILING.to_string()),
        None => Err(PROLOG.to_string()),
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':') || !c.is_ascii()
}

fn unterminated_reference(name_and_more: &str) -> String {
    let name: String = name_and_more
        .chars()
        .take_while(|&c| is_name_char(c))
        .collect();
    if name.is_empty() {
        "The entity name must immediately follow the '&' in the entity reference.".to_string()
    } else {
        format!("The reference to entity \"{name}\" must end with the ';' delimiter.")
    }
}

fn resolve_reference(reference: &BytesRef<'_>) -> Result<Cow<'static, str>, String> {
    let content: &str = reference;
    if reference.is_char_ref() {
        let invalid = || format!("Character reference \"&{content}\" is an invalid XML character.");
        return match reference.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => Ok(Cow::Owned(c.to_string())),
            _ => Err(invalid()),
        };
    }
    if content.is_empty() || !content.chars().all(is_name_char) {
        // quick-xml ran on to a later `;`: the reference really ended without one.
        return Err(unterminated_reference(content));
    }
    match resolve_predefined_entity(content) {
        Some(text) => Ok(Cow::Borrowed(text)),
        None => Err(format!(
            "The entity \"{content}\" was referenced, but not declared."
        )),
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn describe(err: &XmlError, input: &str, position: u64) -> String {
    let at = usize::try_from(position).unwrap_or(usize::MAX);
    match err {
        XmlError::IllFormed(IllFormedError::UnclosedReference) => {
            let rest = input.get(at..).unwrap_or("");
            unterminated_reference(rest.strip_prefix('&').unwrap_or(rest))
        }
        XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, .. }) => format!(
            "The element type \"{expected}\" must be terminated by the matching end-tag \"</{expected}>\"."
        ),
        XmlError::IllFormed(IllFormedError::UnmatchedEndTag(_)) => AFTER_ROOT.to_string(),
        XmlError::IllFormed(IllFormedError::MissingDeclVersion(_)) => {
            "The version is required in the XML declaration.".to_string()
        }
        XmlError::Syntax(_) => UNFINISHED.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_leaf_text_and_drops_layout() {
        let root = parse_document(
            "<?xml version='1.0' encoding='ASCII'?>\n<a>\n  <b> x </b>\n  <!-- c -->\n  <c/>\n  <b>Gr&#252;&#xdf;e &amp; &lt;&gt;&quot;&apos;</b>\n</a>\n",
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.text, "");
        let names: Vec<&str> = root.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b", "c", "b"]);
        assert_eq!(root.children[0].text, " x ");
        assert_eq!(root.children[2].text, "Grüße & <>\"'");
        assert_eq!(
            root.to_xml(),
            "<a><b> x </b><c/><b>Grüße &amp; &lt;&gt;\"'</b></a>"
        );
    }

    #[test]
    fn gateway_style_parser_messages() {
        let cases = [
            (
                "<a><p>s3cret&pass</p></a>",
                "The reference to entity \"pass\" must end with the ';' delimiter.",
            ),
            (
                "<a><p>s3cret&pass</p><q>&amp;</q></a>",
                "The reference to entity \"pass\" must end with the ';' delimiter.",
            ),
            (
                "<a>&foo;</a>",
                "The entity \"foo\" was referenced, but not declared.",
            ),
            (
                "<a><b></a>",
                "The element type \"b\" must be terminated by the matching end-tag \"</b>\".",
            ),
            ("<a><b>", UNFINISHED),
            ("", "Premature end of file."),
            ("not xml", PROLOG),
            ("\u{feff}<a/>", PROLOG),
            ("<a/>junk", TRAILING),
            ("<a/><b/>", AFTER_ROOT),
            (
                " <?xml version='1.0'?><a/>",
                "The processing instruction target matching \"[xX][mM][lL]\" is not allowed.",
            ),
            (
                "<!DOCTYPE a><a/>",
                "DOCTYPE is disallowed when the feature \"http://apache.org/xml/features/disallow-doctype-decl\" set to true.",
            ),
            (
                "<?xml version='1.0' encoding='ASCII'?><a>ü</a>",
                "Invalid byte 1 of 1-byte ASCII sequence.",
            ),
            (
                "<a>&#0;</a>",
                "Character reference \"&#0\" is an invalid XML character.",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(parse_document(input), Err(message.to_string()), "{input:?}");
        }
        assert!(parse_document("<a b></a>").is_err());
    }

    #[test]
    fn document_has_the_gateway_declaration() {
        let doc = document(&Element::parent("r", vec![Element::leaf("x", "")]));
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?><r><x/></r>"
        );
    }
}

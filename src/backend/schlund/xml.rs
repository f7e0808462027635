//! A small ordered XML tree, read and written with quick-xml.
//!
//! The gateway's 0202 replaces the whole zone with what we send, so every element we do not
//! understand must go back exactly as it came: element order, text content (decoded and
//! re-escaped, so equal in meaning), comments and attributes are all kept. Whitespace
//! between elements is not significant (gateway spec §2) and is dropped; text inside leaf
//! elements is kept exactly.

use std::fmt;

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// A node inside an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Decoded character data (entities resolved, CDATA unwrapped).
    Text(String),
    /// A comment, kept verbatim.
    Comment(String),
}

/// An element with its attributes (kept in their escaped source form) and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Tag name.
    pub name: String,
    /// Attributes as written in the source, still escaped (`"` always as `&quot;`).
    pub attrs: Vec<(String, String)>,
    /// Children in document order.
    pub children: Vec<Node>,
}

/// Deepest element nesting read. A zone inquiry's answer is six levels deep
/// (`response/result/data/zone/rr/name`); a limit far above that still keeps every walk of
/// the tree (clone, compare, write, drop) short, however the text was made.
pub const MAX_DEPTH: usize = 64;

/// Most elements read from one document. A zone of 20,000 records is about 100,000
/// elements; each costs a few hundred bytes in memory, so an answer of millions of tiny
/// elements (8 MiB of `<a/>`) would need hundreds of megabytes, more than a CGI on a small
/// host may take, and is refused instead.
pub const MAX_ELEMENTS: usize = 200_000;

/// Why a text could not be read as XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// Not well-formed, or a construct we do not accept.
    Syntax(String),
    /// Elements nested deeper than [`MAX_DEPTH`]: well-formed perhaps, but no document we
    /// read is shaped like that.
    TooDeep {
        /// Byte offset where the limit was passed.
        at: u64,
    },
    /// More than [`MAX_ELEMENTS`] elements.
    TooMany {
        /// Byte offset where the limit was passed.
        at: u64,
    },
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlError::Syntax(text) => f.write_str(text),
            XmlError::TooDeep { at } => write!(
                f,
                "elements nested deeper than {MAX_DEPTH} levels, at byte {at}"
            ),
            XmlError::TooMany { at } => {
                write!(f, "more than {MAX_ELEMENTS} elements, at byte {at}")
            }
        }
    }
}

impl Element {
    /// An empty element.
    pub fn new(name: &str) -> Element {
        Element {
            name: name.to_string(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// An element holding only text.
    pub fn with_text(name: &str, text: &str) -> Element {
        let mut e = Element::new(name);
        e.set_text(text);
        e
    }

    /// Appends a child element (builder style).
    pub fn child_el(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    /// Child elements in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// Child elements in order, mutable.
    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element with that name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// The first child element with that name, mutable.
    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.elements_mut().find(|e| e.name == name)
    }

    /// Text of the first child with that name ("" for `<name/>`).
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(Element::text)
    }

    /// All text directly inside this element.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Replaces the element's content by one text node.
    pub fn set_text(&mut self, text: &str) {
        self.children.retain(|n| !matches!(n, Node::Text(_)));
        if !text.is_empty() {
            self.children.insert(0, Node::Text(text.to_string()));
        }
    }

    /// Removes every child element with one of these names; returns how many went.
    pub fn remove_children(&mut self, names: &[&str]) -> usize {
        let before = self.children.len();
        self.children
            .retain(|n| !matches!(n, Node::Element(e) if names.contains(&e.name.as_str())));
        before - self.children.len()
    }
}

/// Refuses an element opened `depth` deep as the `count`th of the document, at byte `at`,
/// past [`MAX_DEPTH`] or [`MAX_ELEMENTS`].
fn check_limits(depth: usize, count: usize, at: u64) -> Result<(), XmlError> {
    if depth >= MAX_DEPTH {
        Err(XmlError::TooDeep { at })
    } else if count > MAX_ELEMENTS {
        Err(XmlError::TooMany { at })
    } else {
        Ok(())
    }
}

/// Reads a whole document and returns its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Syntax(format!("at byte {}: {e}", reader.buffer_position())))?;
        if matches!(event, Event::Start(_) | Event::Empty(_)) {
            elements += 1;
            check_limits(stack.len(), elements, reader.buffer_position())?;
        }
        match event {
            Event::Start(start) => stack.push(start_element(&start)?),
            Event::Empty(start) => {
                let element = start_element(&start)?;
                attach(&mut stack, &mut root, element)?;
            }
            Event::End(_) => {
                let mut element = stack
                    .pop()
                    .ok_or_else(|| XmlError::Syntax("unbalanced end tag".into()))?;
                if element
                    .children
                    .iter()
                    .any(|n| matches!(n, Node::Element(_)))
                {
                    element
                        .children
                        .retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
                }
                attach(&mut stack, &mut root, element)?;
            }
            Event::Text(text) => push_text(&mut stack, &text.xml10_content())?,
            Event::CData(data) => {
                let data = data.into_inner().into_owned();
                push_text(&mut stack, &data)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| XmlError::Syntax(format!("unknown entity &{name};")))?
                            .to_string()
                    }
                    Err(e) => {
                        return Err(XmlError::Syntax(format!("bad character reference: {e}")));
                    }
                };
                push_text(&mut stack, &resolved)?;
            }
            Event::Comment(comment) => {
                if let Some(parent) = stack.last_mut() {
                    parent
                        .children
                        .push(Node::Comment(comment.xml10_content().into_owned()));
                }
            }
            Event::Decl(_) | Event::PI(_) => {}
            Event::DocType(_) => return Err(XmlError::Syntax("DOCTYPE is not accepted".into())),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax(format!(
            "document ends inside <{}> (truncated)",
            stack.last().map(|e| e.name.as_str()).unwrap_or("")
        )));
    }
    root.ok_or_else(|| XmlError::Syntax("no root element".into()))
}

fn start_element(start: &BytesStart<'_>) -> Result<Element, XmlError> {
    let name = start.name().as_ref().to_string();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError::Syntax(format!("bad attribute in <{name}>: {e}")))?;
        // Written back between double quotes: a `"` from a single-quoted source value must
        // become an entity, which means the same.
        let value = attr.value.to_string().replace('"', "&quot;");
        attrs.push((attr.key.as_ref().to_string(), value));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(Node::Element(element));
            Ok(())
        }
        None if root.is_none() => {
            *root = Some(element);
            Ok(())
        }
        None => Err(XmlError::Syntax("more than one root element".into())),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            match parent.children.last_mut() {
                Some(Node::Text(existing)) => existing.push_str(text),
                _ => parent.children.push(Node::Text(text.to_string())),
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Syntax("text outside the root element".into())),
    }
}

/// Writes a document: declaration plus the root element, on one line.
pub fn to_document(root: &Element) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    write_element(&mut writer, root);
    writer.into_inner()
}

/// Writes one element (no declaration), for tests and logs.
pub fn to_string(element: &Element) -> String {
    let mut writer = Writer::new(Vec::new());
    write_element(&mut writer, element);
    String::from_utf8_lossy(&writer.into_inner()).into_owned()
}

fn write_element(writer: &mut Writer<Vec<u8>>, element: &Element) {
    let mut start = BytesStart::new(element.name.as_str());
    for (key, value) in &element.attrs {
        start.push_attribute(quick_xml::events::attributes::Attribute {
            key: quick_xml::name::QName(key.as_str()),
            value: std::borrow::Cow::Borrowed(value.as_str()),
        });
    }
    if element.children.is_empty() {
        let _ = writer.write_event(Event::Empty(start));
        return;
    }
    let _ = writer.write_event(Event::Start(start));
    for child in &element.children {
        match child {
            Node::Element(e) => write_element(writer, e),
            Node::Text(t) => {
                let _ = writer.write_event(Event::Text(BytesText::new(t)));
            }
            Node::Comment(c) => {
                let _ = writer.write_event(Event::Comment(BytesText::from_escaped(c.as_str())));
            }
        }
    }
    let _ = writer.write_event(Event::End(BytesEnd::new(element.name.as_str())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text_exactly_in_meaning() {
        let source = "<?xml version='1.0' encoding='ASCII'?>\n<zone>\n  <!-- keep -->\n  <rr><name/><value>\"say \\\"hi\\\"\" &amp; &lt;b&gt; 'x' Gr&#252;&#xDF;e</value></rr>\n  <odd a=\"1&amp;2\">  padded  </odd>\n</zone>";
        let tree = parse(source).unwrap();
        let rr = tree.child("rr").unwrap();
        assert_eq!(rr.child_text("name").unwrap(), "");
        assert_eq!(
            rr.child_text("value").unwrap(),
            "\"say \\\"hi\\\"\" & <b> 'x' Grüße"
        );
        assert_eq!(tree.child_text("odd").unwrap(), "  padded  ");
        let again = parse(&to_string(&tree)).unwrap();
        assert_eq!(again, tree);
        assert!(to_string(&tree).contains("<!-- keep -->"));
        assert!(to_string(&tree).contains("a=\"1&amp;2\""));
    }

    #[test]
    fn rejects_broken_documents() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a><b>").is_err());
        assert!(parse("<a>&bogus;</a>").is_err());
        assert!(parse("<html><body>502 Bad Gateway").is_err());
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
    }

    #[test]
    fn nesting_is_capped_at_max_depth() {
        let nested = |depth: usize| format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let deepest = parse(&nested(MAX_DEPTH)).unwrap();
        assert_eq!(
            to_string(&deepest),
            nested(MAX_DEPTH).replace("<a></a>", "<a/>")
        );
        let empty_at_limit = format!(
            "{}<b/>{}",
            "<a>".repeat(MAX_DEPTH - 1),
            "</a>".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(&empty_at_limit).is_ok());
        let one_more = format!(
            "{}<b/>{}",
            "<a>".repeat(MAX_DEPTH),
            "</a>".repeat(MAX_DEPTH)
        );
        assert!(matches!(parse(&one_more), Err(XmlError::TooDeep { .. })));
        // Wide instead of deep: as many elements as allowed, then one more.
        let wide = |n: usize| format!("<z>{}</z>", "<a/>".repeat(n - 1));
        assert!(parse(&wide(MAX_ELEMENTS)).is_ok());
        assert_eq!(
            parse(&wide(MAX_ELEMENTS + 1)),
            Err(XmlError::TooMany {
                at: 3 + 4 * MAX_ELEMENTS as u64
            })
        );
        // Far deeper than any stack could walk recursively: refused while reading.
        let error = parse(&nested(200_000)).unwrap_err();
        assert_eq!(
            error,
            XmlError::TooDeep {
                at: 3 * MAX_DEPTH as u64 + 3
            }
        );
        assert_eq!(
            error.to_string(),
            format!("elements nested deeper than {MAX_DEPTH} levels, at byte 195")
        );
    }
}

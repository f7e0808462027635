//! The gateway envelope (schlund-xml-gateway.md §3–§4): building a request around a task,
//! and reading the status, messages and data out of a reply.

use super::xml::{self, Element};
use crate::backend::scrub::Scrub;
use crate::secret::Secret;

/// The gateway's parser error (§6): its message quotes the request it could not read.
pub const PARSER_ERROR: &str = "EF00000";

/// Messages of one reply shown in a log line; a real reply has one or two.
const MESSAGES_SHOWN: usize = 8;

/// Login for one request. The token is the current TOTP code, only for 2FA accounts
/// (sending one to an account without 2FA fails, §5).
pub struct Auth<'a> {
    /// Gateway user.
    pub user: &'a str,
    /// Gateway password.
    pub password: &'a Secret,
    /// Gateway context.
    pub context: &'a str,
    /// One-time code.
    pub token: Option<String>,
}

/// The request document for one task. Built as a tree and written by quick-xml, so a
/// password with `&` or `<` is escaped (a naive template breaks there, §12.7).
pub fn request_document(auth: &Auth<'_>, task: Element) -> Vec<u8> {
    let mut auth_el = Element::new("auth")
        .child_el(Element::with_text("user", auth.user))
        .child_el(Element::with_text("password", auth.password.expose()))
        .child_el(Element::with_text("context", auth.context));
    if let Some(token) = &auth.token {
        auth_el = auth_el.child_el(Element::with_text("token", token));
    }
    let request = Element::new("request")
        .child_el(auth_el)
        .child_el(Element::with_text("language", "en"))
        .child_el(task);
    xml::to_document(&request)
}

/// A `msg` of the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Code such as `EF02020`.
    pub code: String,
    /// Human text.
    pub text: String,
    /// `type: value` of the object it is about, if any.
    pub object: Option<String>,
}

/// What the gateway answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `status/code`, e.g. `S0205`, `E0205`, `E00000`.
    pub code: String,
    /// `status/text`.
    pub text: String,
    /// `status/type`: success ⇔ `success` (§4).
    pub kind: String,
    /// Every `msg`, nested ones included.
    pub messages: Vec<Message>,
    /// Server transaction id, for support requests.
    pub stid: String,
    /// `result/data`, if present.
    pub data: Option<Element>,
}

impl Reply {
    /// Reads a reply document.
    pub fn parse(text: &str) -> Result<Reply, String> {
        let root = xml::parse(text).map_err(|e| match e {
            xml::XmlError::TooDeep { .. } | xml::XmlError::TooMany { .. } => {
                format!("answer is malformed ({e}; no gateway answer is shaped like that)")
            }
            xml::XmlError::Syntax(_) => format!("answer is not XML ({e})"),
        })?;
        if root.name != "response" {
            return Err(format!(
                "answer is <{}>, not a gateway <response>",
                root.name
            ));
        }
        let result = root.child("result").ok_or("answer has no <result>")?;
        let status = result
            .child("status")
            .ok_or("answer has no <result><status>")?;
        let mut messages = Vec::new();
        collect_messages(result, &mut messages);
        Ok(Reply {
            code: status.child_text("code").unwrap_or_default(),
            text: status.child_text("text").unwrap_or_default(),
            kind: status.child_text("type").unwrap_or_default(),
            messages,
            stid: root.child_text("stid").unwrap_or_default(),
            data: result.child("data").cloned(),
        })
    }

    /// Whether the task was done.
    pub fn is_success(&self) -> bool {
        self.kind == "success"
    }

    /// Whether any message carries this code.
    pub fn has_message(&self, code: &str) -> bool {
        self.messages.iter().any(|m| m.code == code)
    }

    /// Everything the admin needs to read or quote to support, in one line: each text of
    /// the gateway's scrubbed of our secrets and made printable. The object of a parser
    /// error is left out, as it quotes our request, where a password may be cut anywhere.
    pub fn describe(&self, scrub: &Scrub) -> String {
        let mut out = format!("{} \"{}\"", scrub.show(&self.code), scrub.show(&self.text));
        for m in self.messages.iter().take(MESSAGES_SHOWN) {
            out.push_str(&format!(
                "; {} \"{}\"",
                scrub.show(&m.code),
                scrub.show(&m.text)
            ));
            if let Some(object) = m.object.as_ref().filter(|_| m.code != PARSER_ERROR) {
                out.push_str(&format!(" ({})", scrub.show(object)));
            }
        }
        if self.messages.len() > MESSAGES_SHOWN {
            out.push_str(&format!(
                "; and {} more messages",
                self.messages.len() - MESSAGES_SHOWN
            ));
        }
        if !self.stid.is_empty() {
            out.push_str(&format!(" [stid {}]", scrub.show(&self.stid)));
        }
        out
    }
}

/// Every `msg` below `parent`, each before the ones nested in it, in document order. A
/// work list rather than recursion, so the walk needs no stack however the answer nests.
fn collect_messages(parent: &Element, out: &mut Vec<Message>) {
    let mut pending: Vec<&Element> = msgs_of(parent).rev().collect();
    while let Some(msg) = pending.pop() {
        out.push(Message {
            code: msg.child_text("code").unwrap_or_default(),
            text: msg.child_text("text").unwrap_or_default(),
            object: msg.child("object").map(|o| {
                format!(
                    "{}: {}",
                    o.child_text("type").unwrap_or_default(),
                    o.child_text("value").unwrap_or_default()
                )
            }),
        });
        pending.extend(msgs_of(msg).rev());
    }
}

fn msgs_of(parent: &Element) -> impl DoubleEndedIterator<Item = &Element> {
    parent.children.iter().filter_map(|n| match n {
        xml::Node::Element(e) if e.name == "msg" => Some(e),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_escapes_the_password_and_carries_the_token() {
        let password = Secret::new("s3cret&pass<");
        let auth = Auth {
            user: "1234567",
            password: &password,
            context: "10",
            token: Some("049213".into()),
        };
        let task = Element::new("task").child_el(Element::with_text("code", "0205"));
        let doc = String::from_utf8(request_document(&auth, task)).unwrap();
        assert!(doc.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(
            doc.contains("<password>s3cret&amp;pass&lt;</password>"),
            "{doc}"
        );
        assert!(doc.contains("<token>049213</token>"));
        let parsed = xml::parse(&doc).unwrap();
        assert_eq!(
            parsed
                .child("auth")
                .unwrap()
                .child_text("password")
                .unwrap(),
            "s3cret&pass<"
        );
    }

    #[test]
    fn reads_an_error_reply() {
        let text = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><response><result><data/><msg><text>No such zone exists.</text><code>EF02020</code><type>error</type><object><type>zone</type><value>example.org</value></object></msg><status><code>E0205</code><text>Zone information could not be inquired.</text><type>error</type><object><type>zone</type><value>example.org</value></object></status></result><stid>20240517-app3-123458</stid></response>"#;
        let reply = Reply::parse(text).unwrap();
        assert!(!reply.is_success());
        assert!(reply.has_message("EF02020"));
        assert_eq!(
            reply.describe(&Scrub::default()),
            "E0205 \"Zone information could not be inquired.\"; EF02020 \"No such zone exists.\" (zone: example.org) [stid 20240517-app3-123458]"
        );
    }

    #[test]
    fn nested_messages_are_read_in_document_order() {
        let msg = |code: &str, inner: &str| {
            format!("<msg><code>{code}</code><text>t{code}</text>{inner}</msg>")
        };
        let text = format!(
            "<response><result>{}{}<status><code>E0205</code><text>x</text><type>error</type></status></result></response>",
            msg("A", &format!("{}{}", msg("B", &msg("C", "")), msg("D", ""))),
            msg("E", "")
        );
        let reply = Reply::parse(&text).unwrap();
        let codes: Vec<&str> = reply.messages.iter().map(|m| m.code.as_str()).collect();
        assert_eq!(codes, ["A", "B", "C", "D", "E"]);
    }

    #[test]
    fn a_deeply_nested_answer_is_malformed_not_a_crash() {
        let depth = 200_000;
        for (open, close) in [("<a>", "</a>"), ("<msg>", "</msg>")] {
            let text = format!(
                "<response><result><data>{}{}</data><status><code>S0205</code><text>x</text><type>success</type></status></result></response>",
                open.repeat(depth),
                close.repeat(depth)
            );
            let error = Reply::parse(&text).unwrap_err();
            assert!(
                error.starts_with(
                    "answer is malformed (elements nested deeper than 64 levels, at byte "
                ),
                "{error}"
            );
        }
    }

    #[test]
    fn describe_leaves_out_parser_quotes_and_secrets() {
        let scrub = Scrub::default();
        scrub.add("s3cret&pass<");
        scrub.add("049213");
        let msg = |code: &str, text: &str, value: &str| {
            format!(
                "<msg><code>{code}</code><text>{text}</text><type>error</type><object><type>t</type><value>{value}</value></object></msg>"
            )
        };
        let text = format!(
            "<response><result>{}{}{}<status><code>E00000</code><text>x</text><type>error</type></status></result><stid>s-049213</stid></response>",
            msg(
                "EF00000",
                "Parser error.",
                "The reference to entity \"s3cretpart\" must end with the ';' delimiter."
            ),
            msg(
                "EF01000",
                "Bad &lt;password&gt;s3cret&amp;amp;pass&amp;lt;&lt;/password&gt;",
                "&lt;token&gt;049213&lt;/token&gt; \u{1b}[2J"
            ),
            msg("EF01001", "more", "v").repeat(8),
        );
        let reply = Reply::parse(&text).unwrap();
        assert_eq!(
            reply.describe(&scrub),
            format!(
                "E00000 \"x\"; EF00000 \"Parser error.\"; EF01000 \"Bad <password>***</password>\" (t: <token>***</token> \\u{{1b}}[2J){}; and 2 more messages [stid s-***]",
                "; EF01001 \"more\" (t: v)".repeat(6)
            )
        );
    }
}

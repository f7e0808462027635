//! Answer documents of the faults that replace what the gateway would say, built as text so
//! that even a document no tree could hold is written in one pass.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::Nesting;
use super::xml::{Element, document};

/// The answer with elements nested `depth` deep at `place`.
pub(crate) fn nest(answer: &str, place: Nesting, depth: usize) -> String {
    let (tag, anchor) = match place {
        Nesting::Response => ("a", "<response>"),
        Nesting::Data => ("a", "<data>"),
        Nesting::Msg => ("msg", "<result>"),
    };
    let nested = format!(
        "{}{}",
        format!("<{tag}>").repeat(depth),
        format!("</{tag}>").repeat(depth)
    );
    let answer = if place == Nesting::Data && !answer.contains("<data>") {
        match answer.contains("<data/>") {
            true => answer.replacen("<data/>", "<data></data>", 1),
            false => answer.replacen("<result>", "<result><data></data>", 1),
        }
    } else {
        answer.to_string()
    };
    answer.replacen(anchor, &format!("{anchor}{nested}"), 1)
}

/// The answer with `count` empty `<a/>` side by side first in `<result><data>`.
pub(crate) fn widen(answer: &str, count: usize) -> String {
    let wide = format!("<data>{}", "<a/>".repeat(count));
    if answer.contains("<data>") {
        answer.replacen("<data>", &wide, 1)
    } else if answer.contains("<data/>") {
        answer.replacen("<data/>", &format!("{wide}</data>"), 1)
    } else {
        answer.replacen("<result>", &format!("<result>{wide}</data>"), 1)
    }
}

/// A refusal (`E00000`) whose messages quote the request as it arrived: whole in an object
/// value, percent-encoded, and as a JSON string, as a gateway echoing what it could not
/// handle might write it.
pub(crate) fn echo(request: &str, stid: &str) -> String {
    let percent = utf8_percent_encode(request, NON_ALPHANUMERIC).to_string();
    let json = serde_json::json!({ "request": request }).to_string();
    refusal(
        vec![
            message("Missing or wrong value.", Some(("request", request))),
            message(&format!("Request as received: {percent}"), None),
            message(&format!("Request log: {json}"), None),
        ],
        stid,
    )
}

/// A refusal (`E00000`) with one message of exactly this text.
pub(crate) fn refusal_saying(text: &str, stid: &str) -> String {
    refusal(vec![message(text, None)], stid)
}

fn message(text: &str, object: Option<(&str, &str)>) -> Element {
    let mut children = vec![
        Element::leaf("text", text),
        Element::leaf("code", "EF01000"),
        Element::leaf("type", "error"),
    ];
    children.extend(object.map(|(kind, value)| {
        Element::parent(
            "object",
            vec![Element::leaf("type", kind), Element::leaf("value", value)],
        )
    }));
    Element::parent("msg", children)
}

fn refusal(mut result: Vec<Element>, stid: &str) -> String {
    result.push(Element::parent(
        "status",
        vec![
            Element::leaf("code", "E00000"),
            Element::leaf("text", "Errors occurred during processing."),
            Element::leaf("type", "error"),
        ],
    ));
    document(&Element::parent(
        "response",
        vec![
            Element::parent("result", result),
            Element::leaf("stid", stid),
        ],
    ))
}

/// The `stid` of an answer document, or "".
pub(crate) fn stid_of(answer: &str) -> &str {
    answer
        .split_once("<stid>")
        .and_then(|(_, rest)| rest.split_once("</stid>"))
        .map_or("", |(stid, _)| stid)
}

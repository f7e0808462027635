//! Answer documents of the faults that replace what the gateway would say, built as text so
//! that even a document no tree could hold is written in one pass.

use super::Nesting;

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

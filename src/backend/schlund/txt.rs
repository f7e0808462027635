//! Challenge TXT values in a SchlundTech zone: each value is one `<rr>` of type TXT at the
//! name, written unquoted as clients send TXT data (schlund-xml-gateway.md §10.2). Pure: the
//! inquired zone in, the same zone with only those `rr`s added or removed out.

use super::xml::{Element, Node};
use crate::backend::{PerFamily, RecordChange, RecordOutcome};
use crate::core::txt;

/// The TTL of a challenge record ddns-cgi creates: the gateway's shortest (§11 item 5), so
/// a resolver does not keep a value past its challenge.
pub const CREATED_TTL: u32 = 60;

/// Whether an `rr` is a TXT record of `name` holding `value`.
fn holds(rr: &Element, name: &str, value: &str) -> bool {
    rr.name == "rr"
        && rr
            .child_text("name")
            .unwrap_or_default()
            .eq_ignore_ascii_case(name)
        && rr
            .child_text("type")
            .unwrap_or_default()
            .eq_ignore_ascii_case("TXT")
        && rr.child_text("value").unwrap_or_default().trim() == value
}

/// Adds and removes the challenge values of one name; every other record, TXT records of
/// the name holding other text included, stays exactly as inquired.
pub fn apply(zone: &mut Element, change: &RecordChange) -> RecordOutcome {
    let (add, remove) = txt::edits(&change.operations);
    let name = change.name.as_str();
    let before = zone.children.len();
    zone.children.retain(|node| match node {
        Node::Element(rr) => !remove.iter().any(|v| holds(rr, name, v.as_str())),
        _ => true,
    });
    let mut changed = zone.children.len() != before;
    for value in add {
        if zone.elements().any(|rr| holds(rr, name, value.as_str())) {
            continue;
        }
        let rr = Element::new("rr")
            .child_el(Element::with_text("name", name))
            .child_el(Element::with_text("ttl", &CREATED_TTL.to_string()))
            .child_el(Element::with_text("type", "TXT"))
            .child_el(Element::with_text("value", value.as_str()));
        let at = zone
            .children
            .iter()
            .rposition(|n| matches!(n, Node::Element(e) if e.name == "rr"))
            .map_or(zone.children.len(), |i| i + 1);
        zone.children.insert(at, Node::Element(rr));
        changed = true;
    }
    if changed {
        RecordOutcome::Changed {
            previous: PerFamily::default(),
            written_ttl: PerFamily::default(),
        }
    } else {
        RecordOutcome::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::schlund::xml;
    use crate::core::operation::Operation;
    use crate::core::txt::TxtValue;

    const A: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    const B: &str = "B0RrbJLfu0c2ugkBmYaSQxsYhpLeIKuNLTsQ5FmGDvg";
    const ZONE: &str = "<zone><name>example.co.uk</name><main><value>203.0.113.10</value><ttl>600</ttl></main><rr><name>_acme-challenge.home</name><ttl>3600</ttl><type>TXT</type><value>by hand</value></rr><rr><name>home</name><ttl>300</ttl><type>A</type><value>198.51.100.7</value></rr><comment/></zone>";

    fn change(ops: Vec<Operation>) -> RecordChange {
        RecordChange {
            host: "_acme-challenge.home.example.co.uk".parse().unwrap(),
            name: "_acme-challenge.home".into(),
            operations: ops,
            ttl: None,
            known: PerFamily::default(),
        }
    }

    fn values(zone: &Element) -> Vec<String> {
        zone.elements()
            .filter(|e| e.name == "rr" && e.child_text("type").as_deref() == Some("TXT"))
            .map(|e| e.child_text("value").unwrap())
            .collect()
    }

    #[test]
    fn values_are_added_and_removed_one_by_one() {
        let original = xml::parse(ZONE).unwrap();
        let mut zone = original.clone();
        let add = |v: &str| Operation::TxtAdd(TxtValue::parse(v).unwrap());
        let remove = |v: &str| Operation::TxtRemove(TxtValue::parse(v).unwrap());
        assert!(matches!(
            apply(&mut zone, &change(vec![add(A), add(B)])),
            RecordOutcome::Changed { .. }
        ));
        assert_eq!(values(&zone), ["by hand", A, B]);
        let created = zone
            .elements()
            .find(|e| e.child_text("value").as_deref() == Some(A));
        assert_eq!(created.unwrap().child_text("ttl").unwrap(), "60");
        assert_eq!(
            apply(&mut zone, &change(vec![add(A)])),
            RecordOutcome::Unchanged
        );
        apply(&mut zone, &change(vec![remove(A)]));
        assert_eq!(values(&zone), ["by hand", B]);
        apply(&mut zone, &change(vec![remove(B)]));
        assert_eq!(zone, original, "the rest of the zone is as inquired");
        assert_eq!(
            apply(&mut zone, &change(vec![remove(B)])),
            RecordOutcome::Unchanged
        );
    }
}

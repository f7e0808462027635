//! Editing an inquired zone for the write-back (schlund-xml-gateway.md §8, §11).
//!
//! Pure: a zone tree in, the same tree with only the wanted values changed out. The apex
//! IPv4 lives in `<main>` (and sometimes also in an apex `rr` of type A); every other
//! record is an `<rr>` matched by exact relative name and type.

use std::net::IpAddr;

use super::xml::{Element, Node};
use crate::backend::{EditPolicy, PerFamily, RecordChange, RecordOutcome};
use crate::core::operation::Operation;

/// Read-only fields every working client removes before 0202 (§7.1); sending them back
/// makes the gateway refuse the update.
pub const READ_ONLY: [&str; 6] = [
    "created",
    "changed",
    "domainsafe",
    "owner",
    "updated_by",
    "updated",
];

/// The zone as it must be sent back: everything but the read-only fields.
pub fn for_update(zone: &Element) -> Element {
    let mut out = zone.clone();
    out.remove_children(&READ_ONLY);
    out
}

/// Where one type's value lives, and what the operation does to it.
enum Plan {
    /// Already as asked (holds the address; nothing to delete).
    Same,
    /// These places get the new value (`main` and/or `rr` indexes; extras to remove).
    Set {
        main: bool,
        rrs: Vec<usize>,
        remove: Vec<usize>,
        old: Vec<String>,
    },
    /// No record: add one.
    Create,
    /// These `rr` indexes go (a delete).
    Remove { rrs: Vec<usize>, old: Vec<String> },
    /// No record and creating is off.
    Missing,
    /// No record, and the name is a CNAME: nothing may be added beside it.
    Alias,
    /// Several records, collapsing is off.
    RoundRobin(usize),
    /// The apex IPv4 address is `<main>`, which a zone cannot be without.
    Main,
}

/// The edits of one host, gathered before any is made: values set at `rr` indexes, indexes
/// removed, records created.
#[derive(Default)]
struct Edits {
    changed: bool,
    previous: PerFamily<Vec<String>>,
    main: Option<String>,
    set_at: Vec<(usize, String)>,
    remove_at: Vec<usize>,
    create: Vec<(&'static str, String)>,
    /// The TTL the records set get, when the request asks for one.
    ttl: Option<u32>,
    /// That TTL per family set, to be remembered.
    written_ttl: PerFamily<u32>,
}

/// What a set asks of one type: the address, and the TTL if the request names one.
#[derive(Clone, Copy)]
struct Wanted {
    addr: IpAddr,
    ttl: Option<u32>,
}

/// Applies one host's change to the zone. Nothing is changed for the host unless every
/// operation it asks for can be done, so a host is never half-updated. A record created
/// gets the request's TTL, else `created_ttl`; a record set keeps its TTL unless the
/// request asks for one.
pub fn apply(
    zone: &mut Element,
    change: &RecordChange,
    policy: EditPolicy,
    created_ttl: u32,
) -> RecordOutcome {
    if change.operations.iter().any(Operation::is_txt) {
        return super::txt::apply(zone, change);
    }
    let mut plans: Vec<(&'static str, String, Plan)> = Vec::new();
    for op in &change.operations {
        let rr_type = op.rr_type().name();
        let planned = match op {
            Operation::Set(addr) => {
                let wanted = Wanted {
                    addr: *addr,
                    ttl: change.ttl,
                };
                plan(zone, &change.name, rr_type, wanted, policy)
            }
            Operation::Delete(_) => plan_delete(zone, &change.name, rr_type),
            // A dialect sends challenge values alone, handled above.
            Operation::TxtAdd(_) | Operation::TxtRemove(_) | Operation::TxtClear => continue,
            Operation::SetPrefix(_) => return RecordOutcome::unresolved(op),
        };
        let value = op.address().map(|a| a.to_string()).unwrap_or_default();
        plans.push((rr_type, value, planned));
    }
    let edits = match gather(plans, change.ttl) {
        Ok(edits) => edits,
        Err(refused) => return refused,
    };
    edit(
        zone,
        &change.name,
        &edits,
        change.ttl.unwrap_or(created_ttl),
    );
    if edits.changed {
        // Whole-zone writes read the zone anyway; a TTL is remembered only when the
        // request asked for one, so that its repeat can be answered from state.
        RecordOutcome::Changed {
            previous: edits.previous,
            written_ttl: edits.written_ttl,
        }
    } else {
        RecordOutcome::Unchanged
    }
}

/// The edits every type's plan asks for, or the outcome refusing the host.
fn gather(
    plans: Vec<(&'static str, String, Plan)>,
    ttl: Option<u32>,
) -> Result<Edits, RecordOutcome> {
    let mut edits = Edits {
        ttl,
        ..Edits::default()
    };
    for (rr_type, value, p) in plans {
        if let (Some(ttl), Plan::Same | Plan::Set { .. } | Plan::Create) = (ttl, &p) {
            edits.written_ttl.set(rr_type, ttl);
        }
        match p {
            Plan::Same => {}
            Plan::Set {
                main,
                rrs,
                remove,
                old,
            } => {
                edits.changed = true;
                edits.previous.set(rr_type, old);
                if main {
                    edits.main = Some(value.clone());
                }
                edits
                    .set_at
                    .extend(rrs.into_iter().map(|i| (i, value.clone())));
                edits.remove_at.extend(remove);
            }
            Plan::Create => {
                edits.changed = true;
                edits.previous.set(rr_type, Vec::new());
                edits.create.push((rr_type, value));
            }
            Plan::Remove { rrs, old } => {
                edits.changed = true;
                edits.previous.set(rr_type, old);
                edits.remove_at.extend(rrs);
            }
            Plan::Missing => return Err(RecordOutcome::Missing { rr_type }),
            Plan::Alias => return Err(RecordOutcome::Alias { rr_type }),
            Plan::RoundRobin(count) => return Err(RecordOutcome::RoundRobin { rr_type, count }),
            Plan::Main => {
                return Err(RecordOutcome::NotPlain {
                    rr_type,
                    why: "the zone apex's IPv4 address is the zone's <main> address, not a plain record, and a SchlundTech zone cannot be without it; set another address instead".into(),
                });
            }
        }
    }
    Ok(edits)
}

/// Makes the edits. Every plan indexes the records as inquired, so all sets and removals
/// happen in one pass over the original order; new records are added after it.
fn edit(zone: &mut Element, name: &str, edits: &Edits, ttl: u32) {
    if let Some(value) = &edits.main
        && let Some(main) = zone.child_mut("main")
    {
        set_child(main, "value", value);
        if let Some(ttl) = edits.ttl {
            set_child(main, "ttl", &ttl.to_string());
        }
    }
    if !edits.set_at.is_empty() || !edits.remove_at.is_empty() {
        let mut index = 0;
        let mut kept = Vec::with_capacity(zone.children.len());
        for mut node in std::mem::take(&mut zone.children) {
            if let Node::Element(e) = &mut node
                && e.name == "rr"
            {
                let this = index;
                index += 1;
                if edits.remove_at.contains(&this) {
                    continue;
                }
                if let Some((_, value)) = edits.set_at.iter().find(|(i, _)| *i == this) {
                    set_child(e, "value", value);
                    if let Some(ttl) = edits.ttl {
                        set_child(e, "ttl", &ttl.to_string());
                    }
                }
            }
            kept.push(node);
        }
        zone.children = kept;
    }
    for (rr_type, value) in &edits.create {
        let rr = Element::new("rr")
            .child_el(Element::with_text("name", name))
            .child_el(Element::with_text("ttl", &ttl.to_string()))
            .child_el(Element::with_text("type", rr_type))
            .child_el(Element::with_text("value", value));
        // Next to the other records, so the zone reads naturally.
        let at = zone
            .children
            .iter()
            .rposition(|n| matches!(n, Node::Element(e) if e.name == "rr"))
            .map_or(zone.children.len(), |i| i + 1);
        zone.children.insert(at, Node::Element(rr));
    }
}

/// Sets a child's text, adding the child when the element has none.
fn set_child(parent: &mut Element, name: &str, text: &str) {
    match parent.child_mut(name) {
        Some(child) => child.set_text(text),
        None => parent
            .children
            .push(Node::Element(Element::with_text(name, text))),
    }
}

/// The values of this name and type (for the apex IPv4 also `<main>`'s), as the zone
/// holds them.
pub fn values(zone: &Element, name: &str, rr_type: &str) -> Vec<String> {
    let main = (name.is_empty() && rr_type.eq_ignore_ascii_case("A"))
        .then(|| zone.child("main").and_then(|m| m.child_text("value")))
        .flatten();
    let mut values: Vec<String> = main.into_iter().collect();
    for (_, value) in records(zone, name, rr_type) {
        if !values.contains(&value) {
            values.push(value);
        }
    }
    values
}

/// The `rr` indexes and values of this name and type.
fn records(zone: &Element, name: &str, rr_type: &str) -> Vec<(usize, String)> {
    zone.elements()
        .filter(|e| e.name == "rr")
        .enumerate()
        .filter(|(_, rr)| is_record(rr, name, rr_type))
        .map(|(i, rr)| (i, rr.child_text("value").unwrap_or_default()))
        .collect()
}

/// A delete: every `rr` of the name and type goes; nothing there is `Same`. The apex IPv4
/// address in `<main>` cannot go.
fn plan_delete(zone: &Element, name: &str, rr_type: &str) -> Plan {
    let main = zone.child("main").and_then(|m| m.child_text("value"));
    if name.is_empty() && rr_type == "A" && main.is_some_and(|v| !v.trim().is_empty()) {
        return Plan::Main;
    }
    let rrs = records(zone, name, rr_type);
    if rrs.is_empty() {
        return Plan::Same;
    }
    let (rrs, old) = rrs.into_iter().unzip();
    Plan::Remove { rrs, old }
}

/// Every record of the name and type (and `<main>` for the apex IPv4) has this TTL.
fn ttls_are(zone: &Element, name: &str, rr_type: &str, apex_v4: bool, ttl: u32) -> bool {
    let is = |e: &Element| {
        e.child_text("ttl")
            .and_then(|t| t.trim().parse::<u32>().ok())
            == Some(ttl)
    };
    let main_ok = !apex_v4 || zone.child("main").is_none_or(is);
    main_ok
        && zone
            .elements()
            .filter(|e| e.name == "rr" && is_record(e, name, rr_type))
            .all(is)
}

/// An `rr` of this name and type; names and types match without regard to case.
fn is_record(rr: &Element, name: &str, rr_type: &str) -> bool {
    rr.child_text("name")
        .unwrap_or_default()
        .eq_ignore_ascii_case(name)
        && rr
            .child_text("type")
            .unwrap_or_default()
            .eq_ignore_ascii_case(rr_type)
}

fn plan(zone: &Element, name: &str, rr_type: &str, wanted: Wanted, policy: EditPolicy) -> Plan {
    let addr = wanted.addr;
    let apex_v4 = name.is_empty() && rr_type == "A";
    let main_value = if apex_v4 {
        zone.child("main").and_then(|m| m.child_text("value"))
    } else {
        None
    };
    let rrs = records(zone, name, rr_type);
    if main_value.is_none() && rrs.is_empty() {
        let is_alias = zone
            .elements()
            .filter(|e| e.name == "rr")
            .any(|rr| is_record(rr, name, "CNAME"));
        return if !policy.create_missing {
            Plan::Missing
        } else if is_alias {
            Plan::Alias
        } else {
            Plan::Create
        };
    }
    // At the apex, `main` and one `rr` of type A are the same record written twice
    // (spec §7.1 notes); only further values make a round robin.
    let (keep, remove): (Vec<usize>, Vec<usize>) = if rrs.len() > 1 {
        if !policy.collapse_round_robin {
            return Plan::RoundRobin(rrs.len() + usize::from(main_value.is_some()));
        }
        (vec![rrs[0].0], rrs[1..].iter().map(|(i, _)| *i).collect())
    } else {
        (rrs.iter().map(|(i, _)| *i).collect(), Vec::new())
    };
    let holds = |text: &str| text.trim().parse::<IpAddr>().ok() == Some(addr);
    let all_same = main_value.as_deref().is_none_or(holds)
        && rrs
            .iter()
            .filter(|(i, _)| keep.contains(i))
            .all(|(_, v)| holds(v))
        && remove.is_empty()
        && wanted
            .ttl
            .is_none_or(|ttl| ttls_are(zone, name, rr_type, apex_v4, ttl));
    if all_same && !policy.rewrite {
        Plan::Same
    } else {
        let has_main = main_value.is_some();
        let mut old: Vec<String> = main_value.into_iter().collect();
        old.extend(rrs.iter().map(|(_, v)| v.clone()));
        old.dedup();
        Plan::Set {
            main: has_main,
            rrs: keep,
            remove,
            old,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::schlund::xml;

    const ZONE: &str = "<zone><changed>2024-05-17 09:12:44</changed><created>2019-03-02 14:05:10</created><name>example.co.uk</name><main><value>203.0.113.10</value><ttl>600</ttl></main><www_include>0</www_include><rr><name/><ttl>3600</ttl><type>AAAA</type><value>2001:db8::10</value></rr><rr><name>home</name><ttl>300</ttl><type>A</type><value>198.51.100.7</value></rr><rr><name>home</name><ttl>300</ttl><type>AAAA</type><value>2001:db8:85a3::8a2e:370:7334</value></rr><rr><name>rr</name><ttl>300</ttl><type>A</type><value>198.51.100.20</value></rr><rr><name>rr</name><ttl>300</ttl><type>A</type><value>198.51.100.21</value></rr><rr><name>note</name><ttl>3600</ttl><type>TXT</type><value>a &amp; b</value></rr><owner><user>1</user><context>10</context></owner><updated_by><user>1</user><context>10</context></updated_by><domainsafe>0</domainsafe><comment/></zone>";

    fn change(name: &str, v4: Option<&str>, v6: Option<&str>) -> RecordChange {
        RecordChange {
            host: format!(
                "{}example.co.uk",
                if name.is_empty() {
                    String::new()
                } else {
                    format!("{name}.")
                }
            )
            .parse()
            .unwrap(),
            name: name.into(),
            ttl: None,
            operations: v4
                .into_iter()
                .chain(v6)
                .map(|s| Operation::Set(s.parse().unwrap()))
                .collect(),
            known: PerFamily::default(),
        }
    }

    const STRICT: EditPolicy = EditPolicy {
        create_missing: false,
        collapse_round_robin: false,
        rewrite: false,
    };

    fn rr_values(zone: &Element, name: &str, rr_type: &str) -> Vec<String> {
        zone.elements()
            .filter(|e| {
                e.name == "rr"
                    && e.child_text("name").unwrap() == name
                    && e.child_text("type").unwrap() == rr_type
            })
            .map(|e| e.child_text("value").unwrap())
            .collect()
    }

    #[test]
    fn changes_only_the_wanted_value() {
        let original = xml::parse(ZONE).unwrap();
        let mut zone = original.clone();
        let outcome = apply(
            &mut zone,
            &change("home", Some("84.17.5.9"), None),
            STRICT,
            300,
        );
        assert!(matches!(outcome, RecordOutcome::Changed { .. }));
        assert_eq!(rr_values(&zone, "home", "A"), ["84.17.5.9"]);
        let mut expected = original.clone();
        let mut again = zone.clone();
        // Undo the one change: the rest must be identical.
        apply(
            &mut again,
            &change("home", Some("198.51.100.7"), None),
            STRICT,
            300,
        );
        assert_eq!(again, expected);
        expected.remove_children(&READ_ONLY);
        assert_eq!(for_update(&original), expected);
    }

    fn ttl_of(zone: &Element, name: &str, rr_type: &str) -> Vec<String> {
        zone.elements()
            .filter(|e| e.name == "rr" && is_record(e, name, rr_type))
            .map(|e| e.child_text("ttl").unwrap())
            .collect()
    }

    #[test]
    fn a_ttl_asked_for_is_written_even_for_the_same_address() {
        let original = xml::parse(ZONE).unwrap();
        let mut zone = original.clone();
        let mut same = change("home", Some("198.51.100.7"), None);
        same.ttl = Some(300);
        assert_eq!(
            apply(&mut zone, &same, STRICT, 300),
            RecordOutcome::Unchanged
        );
        same.ttl = Some(900);
        let outcome = apply(&mut zone, &same, STRICT, 300);
        assert_eq!(
            outcome,
            RecordOutcome::Changed {
                previous: PerFamily {
                    v4: Some(vec!["198.51.100.7".into()]),
                    v6: None
                },
                written_ttl: PerFamily {
                    v4: Some(900),
                    v6: None
                },
            }
        );
        assert_eq!(ttl_of(&zone, "home", "A"), ["900"]);
        assert_eq!(
            ttl_of(&zone, "home", "AAAA"),
            ["300"],
            "the other family keeps its TTL"
        );
        let mut apex = change("", Some("203.0.113.10"), None);
        apex.ttl = Some(120);
        apply(&mut zone, &apex, STRICT, 300);
        assert_eq!(
            zone.child("main").unwrap().child_text("ttl").unwrap(),
            "120"
        );
        let mut created = change("new", Some("84.17.5.9"), None);
        created.ttl = Some(3600);
        let create = EditPolicy {
            create_missing: true,
            ..STRICT
        };
        apply(&mut zone, &created, create, 300);
        assert_eq!(ttl_of(&zone, "new", "A"), ["3600"]);
    }

    #[test]
    fn apex_ipv4_goes_to_main() {
        let mut zone = xml::parse(ZONE).unwrap();
        let outcome = apply(
            &mut zone,
            &change("", Some("84.17.5.9"), Some("2a01:4f8::1")),
            STRICT,
            300,
        );
        assert!(matches!(outcome, RecordOutcome::Changed { .. }));
        assert_eq!(
            zone.child("main").unwrap().child_text("value").unwrap(),
            "84.17.5.9"
        );
        assert_eq!(rr_values(&zone, "", "AAAA"), ["2a01:4f8::1"]);
    }

    #[test]
    fn apex_ipv4_in_main_and_in_rrs() {
        let apex_a =
            |v: &str| format!("<rr><name/><ttl>600</ttl><type>A</type><value>{v}</value></rr>");
        let with_rrs = |values: &[&str]| {
            let rrs: String = values.iter().map(|v| apex_a(v)).collect();
            ZONE.replacen("<www_include>", &format!("{rrs}<www_include>"), 1)
        };
        let collapse = EditPolicy {
            create_missing: false,
            collapse_round_robin: true,
            rewrite: false,
        };
        // `main` plus one apex rr (the real gateway's shape): one record, both copies set.
        let mut zone = xml::parse(&with_rrs(&["203.0.113.10"])).unwrap();
        let outcome = apply(&mut zone, &change("", Some("84.17.5.9"), None), STRICT, 300);
        assert!(matches!(outcome, RecordOutcome::Changed { .. }));
        assert_eq!(
            zone.child("main").unwrap().child_text("value").unwrap(),
            "84.17.5.9"
        );
        assert_eq!(rr_values(&zone, "", "A"), ["84.17.5.9"]);

        // `main` plus two apex rrs: a round robin of three values.
        let text = with_rrs(&["203.0.113.10", "203.0.113.11"]);
        let mut zone = xml::parse(&text).unwrap();
        let before = zone.clone();
        let outcome = apply(&mut zone, &change("", Some("84.17.5.9"), None), STRICT, 300);
        assert_eq!(
            outcome,
            RecordOutcome::RoundRobin {
                rr_type: "A",
                count: 3
            }
        );
        assert_eq!(zone, before);

        // Collapsed: `main` and a single apex rr hold the address, the extra one is gone.
        let outcome = apply(
            &mut zone,
            &change("", Some("84.17.5.9"), None),
            collapse,
            300,
        );
        assert!(matches!(outcome, RecordOutcome::Changed { .. }));
        assert_eq!(
            zone.child("main").unwrap().child_text("value").unwrap(),
            "84.17.5.9"
        );
        assert_eq!(rr_values(&zone, "", "A"), ["84.17.5.9"]);
        assert_eq!(rr_values(&zone, "", "AAAA"), ["2001:db8::10"]);
    }

    #[test]
    fn nothing_is_created_beside_a_cname() {
        let text = ZONE.replacen(
            "<www_include>",
            "<rr><name>alias</name><ttl>300</ttl><type>CNAME</type><value>home</value></rr><www_include>",
            1,
        );
        let mut zone = xml::parse(&text).unwrap();
        let before = zone.clone();
        let create = EditPolicy {
            create_missing: true,
            collapse_round_robin: false,
            rewrite: false,
        };
        let outcome = apply(
            &mut zone,
            &change("Alias", Some("84.17.5.9"), None),
            create,
            300,
        );
        assert_eq!(outcome, RecordOutcome::Alias { rr_type: "A" });
        assert_eq!(zone, before);
        let outcome = apply(
            &mut zone,
            &change("fresh", Some("84.17.5.9"), None),
            create,
            300,
        );
        assert!(matches!(outcome, RecordOutcome::Changed { .. }));
    }

    #[test]
    fn same_address_is_unchanged_even_written_differently() {
        let mut zone = xml::parse(ZONE).unwrap();
        let before = zone.clone();
        let outcome = apply(
            &mut zone,
            &change("home", None, Some("2001:DB8:85A3:0:0:8A2E:370:7334")),
            STRICT,
            300,
        );
        assert_eq!(outcome, RecordOutcome::Unchanged);
        assert_eq!(zone, before);
    }

    #[test]
    fn missing_and_round_robin_change_nothing() {
        let mut zone = xml::parse(ZONE).unwrap();
        let before = zone.clone();
        assert!(matches!(
            apply(
                &mut zone,
                &change("home", Some("84.1.1.1"), None),
                STRICT,
                300
            ),
            RecordOutcome::Changed { .. }
        ));
        let mut zone = before.clone();
        assert_eq!(
            apply(
                &mut zone,
                &change("nothere", Some("84.1.1.1"), None),
                STRICT,
                300
            ),
            RecordOutcome::Missing { rr_type: "A" }
        );
        assert!(matches!(
            apply(
                &mut zone,
                &change("home", Some("84.1.1.1"), Some("2a01::1")),
                STRICT,
                300
            ),
            RecordOutcome::Changed { .. }
        ));
        let mut zone = before.clone();
        assert_eq!(
            apply(
                &mut zone,
                &change("note", Some("84.1.1.1"), Some("2a01::1")),
                STRICT,
                300
            ),
            RecordOutcome::Missing { rr_type: "A" }
        );
        assert_eq!(zone, before);
        assert_eq!(
            apply(
                &mut zone,
                &change("rr", Some("84.1.1.1"), None),
                STRICT,
                300
            ),
            RecordOutcome::RoundRobin {
                rr_type: "A",
                count: 2
            }
        );
        assert_eq!(zone, before);
    }

    #[test]
    fn policy_allows_creating_and_collapsing() {
        let open = EditPolicy {
            create_missing: true,
            collapse_round_robin: true,
            rewrite: false,
        };
        let mut zone = xml::parse(ZONE).unwrap();
        assert!(matches!(
            apply(&mut zone, &change("new", Some("84.1.1.1"), None), open, 120),
            RecordOutcome::Changed { .. }
        ));
        assert_eq!(rr_values(&zone, "new", "A"), ["84.1.1.1"]);
        assert!(matches!(
            apply(&mut zone, &change("rr", Some("84.1.1.2"), None), open, 120),
            RecordOutcome::Changed { .. }
        ));
        assert_eq!(rr_values(&zone, "rr", "A"), ["84.1.1.2"]);
    }
}

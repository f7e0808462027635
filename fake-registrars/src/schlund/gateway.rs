//! What the gateway does with one request body: envelope (spec §3), authentication and 2FA
//! (§5, §6), tasks 0205 (§7), 0202 (§8) and 0202001 (§9), and the answer document (§4).
//!
//! Everything here is pure apart from the [`Store`] it is handed, so the HTTP layer only adds
//! latency, transport faults and recording.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use totp_rs::{Builder, Secret, Totp};

use super::xml::{Element, document, parse_document};
use super::zone::{Rr, StoredZone};
use super::{GatewayRequest, SchlundFault, SchlundUser};

/// The gateway's mutable state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    pub(crate) zones: Vec<StoredZone>,
    /// TOTP steps already accepted, per (user, context), for strict single use.
    pub(crate) used_steps: HashSet<(String, String, u64)>,
    pub(crate) stid_counter: u32,
}

impl Store {
    fn next_stid(&mut self, now: u64) -> String {
        self.stid_counter = self.stid_counter.wrapping_add(1);
        let (y, m, d) = civil_date(now);
        format!(
            "{y:04}{m:02}{d:02}-app3-{:06}",
            100_000 + self.stid_counter % 900_000
        )
    }
}

/// The settings one request is handled under.
pub(crate) struct Options<'a> {
    pub(crate) users: &'a [SchlundUser],
    pub(crate) fault: &'a SchlundFault,
    pub(crate) strict_single_use: bool,
    /// Unix seconds the TOTP check uses (the clock offset already applied).
    pub(crate) totp_now: u64,
    /// Unix seconds for `changed` and the stid.
    pub(crate) now: u64,
}

/// Handles one request body: returns the answer document and the record of the request.
pub(crate) fn process(
    store: &mut Store,
    options: &Options<'_>,
    body: &str,
) -> (String, GatewayRequest) {
    let mut record = GatewayRequest {
        task_code: String::new(),
        zone_name: None,
        is_list_query: false,
        user: String::new(),
        had_token: false,
        language: None,
        status_code: String::new(),
        body_redacted: redact(body),
    };
    let (answer, lang) = match parse_document(body) {
        // The parser error is the fixture of spec §10.5, in English: no language is known.
        Err(message) => (
            Answer::failure("E00000", Text::Processing).msg(
                "EF00000",
                Text::ParserError,
                Some(("XML parser", &message)),
            ),
            Lang::En,
        ),
        Ok(root) => {
            describe_request(&root, &mut record);
            let lang = match root.child_text("language") {
                Some("en") => Lang::En,
                _ => Lang::De,
            };
            (handle(store, options, &root), lang)
        }
    };
    record.status_code = answer.code.clone();
    let stid = store.next_stid(options.now);
    (answer.render(lang, &stid), record)
}

fn describe_request(root: &Element, record: &mut GatewayRequest) {
    let auth = root.child("auth");
    record.user = auth
        .and_then(|a| a.child_text("user"))
        .unwrap_or("")
        .to_string();
    record.had_token = auth.is_some_and(|a| a.child("token").is_some());
    record.language = root.child_text("language").map(str::to_string);
    if let Some(task) = root.child("task") {
        record.task_code = task.child_text("code").unwrap_or("").to_string();
        let list_value = task.at("where/value");
        record.is_list_query = record.task_code == "0205" && task.child("where").is_some();
        record.zone_name = if record.is_list_query {
            list_value.map(|v| v.text.clone())
        } else {
            task.at("zone/name").map(|v| v.text.clone())
        };
    }
}

/// Envelope and authentication checks, then the task.
fn handle(store: &mut Store, options: &Options<'_>, root: &Element) -> Answer {
    if root.name != "request" {
        return missing_value("request", &root.name);
    }
    let Some(auth) = root.child("auth") else {
        return missing_value("request.auth", "");
    };
    let fields = ["user", "password", "context"].map(|f| (f, auth.child_text(f)));
    if let Some((field, _)) = fields.iter().find(|(_, v)| v.is_none()) {
        return missing_value(&format!("request.auth.{field}"), "");
    }
    let [user, password, context] = fields.map(|(_, v)| v.unwrap_or_default());
    let Ok(context_number) = context.parse::<i32>() else {
        return missing_value("request.auth.context", context);
    };
    let Some(caller) = options.users.iter().find(|u| {
        u.user == user && u.password == password && u.context.parse::<i32>() == Ok(context_number)
    }) else {
        return Answer::failure("E00000", Text::Processing).msg("EF09901", Text::BadLogin, None);
    };
    if let Some(failure) = check_token(store, options, caller, auth.child_text("token")) {
        return failure;
    }

    let tasks: Vec<&Element> = root.children_named("task").collect();
    let [task] = tasks.as_slice() else {
        return missing_value("request.task", "");
    };
    let code = task.child_text("code").unwrap_or("");
    let allowed = match code {
        "0205" => caller.can_inquire,
        "0202" => caller.can_update,
        "0202001" => caller.can_bulk_update,
        _ => return missing_value("request.task.code", code),
    };
    if !allowed {
        return task_failure(code).msg("EF00505", Text::NotAuthorized, None);
    }
    match code {
        "0205" => inquire(store, task),
        "0202" => update(store, options, caller, task),
        _ => bulk_update(store, options, caller, task),
    }
}

fn missing_value(object_type: &str, value: &str) -> Answer {
    Answer::failure("E00000", Text::Processing).msg(
        "EF01000",
        Text::MissingValue,
        Some((object_type, value)),
    )
}

/// Spec §5: a 2FA user must send a current code, anyone else must send none.
fn check_token(
    store: &mut Store,
    options: &Options<'_>,
    caller: &SchlundUser,
    token: Option<&str>,
) -> Option<Answer> {
    let failure =
        |code, text| Some(Answer::failure("E00000", Text::Processing).msg(code, text, None));
    match (&caller.totp_secret, token) {
        (None, None) => None,
        (None, Some(_)) => failure("EF09903", Text::TokenInvalid),
        (Some(_), None) => failure("EF09902", Text::TokenMissing),
        (Some(secret), Some(token)) => {
            let Some(step) = matching_step(secret, token, options.totp_now) else {
                return failure("EF09903", Text::TokenInvalid);
            };
            let key = (caller.user.clone(), caller.context.clone(), step);
            let fresh = store.used_steps.insert(key);
            if options.strict_single_use && !fresh {
                return failure("EF09903", Text::TokenInvalid);
            }
            None
        }
    }
}

/// A TOTP for a base32 secret: HMAC-SHA1, 6 digits, 30-second steps (spec §5).
pub(crate) fn totp(base32_secret: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(base32_secret).ok()?;
    Some(Builder::new().with_secret(secret).build_noncompliant())
}

/// The step (t-1, t or t+1) whose code equals `token`.
fn matching_step(secret: &str, token: &str, now: u64) -> Option<u64> {
    let totp = totp(secret)?;
    let current = now / 30;
    [
        current.checked_sub(1),
        Some(current),
        current.checked_add(1),
    ]
    .into_iter()
    .flatten()
    .find(|step| totp.generate(step * 30).to_string() == token)
}

fn task_failure(code: &str) -> Answer {
    if code == "0205" {
        Answer::failure("E0205", Text::InquireFailed)
    } else {
        // 0202001 succeeds as S0202 (spec §6), so it fails as E0202 too.
        Answer::failure("E0202", Text::UpdateFailed)
    }
}

enum Lookup {
    Found(usize),
    NotFound,
    Ambiguous,
}

/// Zones are identified by name plus `system_ns`; the name alone only when unambiguous (§7.1).
fn find_zone(store: &Store, name: &str, system_ns: Option<&str>) -> Lookup {
    let matches: Vec<usize> = store
        .zones
        .iter()
        .enumerate()
        .filter(|(_, z)| z.name().eq_ignore_ascii_case(name))
        .filter(|(_, z)| system_ns.is_none_or(|ns| z.system_ns().as_deref() == Some(ns)))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [] => Lookup::NotFound,
        [one] => Lookup::Found(*one),
        _ => Lookup::Ambiguous,
    }
}

/// The zone a task names, or the answer explaining why there is none.
fn target_zone(store: &Store, task: &Element, code: &str) -> Result<(usize, String), Answer> {
    let Some(zone) = task.child("zone") else {
        return Err(task_failure(code).msg("EF01000", Text::MissingValue, Some(("zone", ""))));
    };
    let name = zone.child_text("name").unwrap_or("");
    if name.is_empty() {
        return Err(task_failure(code).msg("EF01000", Text::MissingValue, Some(("zone.name", ""))));
    }
    match find_zone(store, name, zone.child_text("system_ns")) {
        Lookup::Found(i) => Ok((i, store.zones[i].name())),
        Lookup::NotFound => Err(task_failure(code)
            .data(Element::leaf("data", ""))
            .msg("EF02020", Text::NoSuchZone, Some(("zone", name)))
            .object("zone", name)),
        Lookup::Ambiguous => {
            Err(task_failure(code).msg("EF01000", Text::MissingValue, Some(("zone.system_ns", ""))))
        }
    }
}

/// Task 0205: one zone in full (§7.1) or a list by name (§7.2).
fn inquire(store: &Store, task: &Element) -> Answer {
    if let Some(filter) = task.child("where") {
        return list(store, task, filter);
    }
    match target_zone(store, task, "0205") {
        Err(failure) => failure,
        Ok((i, name)) => Answer::success("S0205", Text::InquireOk)
            .data(Element::parent("data", vec![store.zones[i].root.clone()]))
            .object("zone", &name),
    }
}

fn list(store: &Store, task: &Element, filter: &Element) -> Answer {
    let fail = |object: &str, value: &str| {
        task_failure("0205").msg("EF01000", Text::MissingValue, Some((object, value)))
    };
    let key = filter.child_text("key").unwrap_or("");
    if key != "name" {
        return fail("where.key", key);
    }
    let operator = filter.child_text("operator").unwrap_or("");
    let like = match operator.to_ascii_lowercase().as_str() {
        "eq" => false,
        "like" => true,
        _ => return fail("where.operator", operator),
    };
    let Some(value) = filter.child_text("value") else {
        return fail("where.value", "");
    };
    let mut window = [("offset", 0usize), ("limit", usize::MAX)];
    for (field, number) in &mut window {
        if let Some(raw) = task.at(&format!("view/{field}")).map(|e| e.text.as_str()) {
            match raw.parse::<usize>() {
                Ok(n) => *number = n,
                Err(_) => return fail(&format!("view.{field}"), raw),
            }
        }
    }
    let [(_, offset), (_, limit)] = window;
    let matches: Vec<&StoredZone> = store
        .zones
        .iter()
        .filter(|z| {
            let name = z.name().to_ascii_lowercase();
            let wanted = value.to_ascii_lowercase();
            if like {
                glob(&wanted, &name)
            } else {
                name == wanted
            }
        })
        .collect();
    let mut data = vec![Element::leaf("summary", &matches.len().to_string())];
    data.extend(
        matches
            .iter()
            .skip(offset)
            .take(limit)
            .map(|z| short_form(z)),
    );
    Answer::success("S0205", Text::InquireOk).data(Element::parent("data", data))
}

/// `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

/// The columns of a list entry, in the order of the real answer (§7.2).
fn short_form(zone: &StoredZone) -> Element {
    const COLUMNS: [&str; 9] = [
        "changed",
        "created",
        "name",
        "comment",
        "domainsafe",
        "owner",
        "updated_by",
        "system_ns",
        "ns_action",
    ];
    let children = COLUMNS
        .iter()
        .filter_map(|c| zone.root.child(c).cloned())
        .collect();
    Element::parent("zone", children)
}

/// Elements only the gateway writes; a 0202 that sends one back is rejected (§8, §12.3).
const SERVER_ELEMENTS: [&str; 6] = [
    "created",
    "changed",
    "domainsafe",
    "owner",
    "updated_by",
    "updated",
];

/// Task 0202: replace the whole zone with the one sent (§8).
fn update(
    store: &mut Store,
    options: &Options<'_>,
    caller: &SchlundUser,
    task: &Element,
) -> Answer {
    if let Some(zone) = task.child("zone") {
        if let Some(el) = zone
            .children
            .iter()
            .find(|c| SERVER_ELEMENTS.contains(&c.name.as_str()))
        {
            return task_failure("0202").msg(
                "EF09904",
                Text::ElementForbidden,
                Some(("element", &el.name)),
            );
        }
        for el in &zone.children {
            let checked = match el.name.as_str() {
                "rr" => check_rr(el, "rr"),
                "main" => check_main(el),
                _ => Ok(()),
            };
            if let Err(reason) = checked {
                return reason.answer();
            }
        }
        if let Err(reason) = check_zone_shape(zone) {
            return reason.answer();
        }
    }
    let (index, name) = match target_zone(store, task, "0202") {
        Ok(found) => found,
        Err(failure) => return failure,
    };
    if let Some(failure) = update_fault(options.fault, &name) {
        return failure;
    }
    let sent = task.child("zone").expect("target_zone found it");
    let stored = &mut store.zones[index].root;
    *stored = replace_zone(stored, sent, caller, &timestamp(options.now));
    updated(&name)
}

/// Task 0202001: remove, then add single records, set `main` or SOA fields (§9).
fn bulk_update(
    store: &mut Store,
    options: &Options<'_>,
    caller: &SchlundUser,
    task: &Element,
) -> Answer {
    let empty = Element::parent("default", Vec::new());
    let changes = task.child("default").unwrap_or(&empty);
    for el in &changes.children {
        let checked = match el.name.as_str() {
            "rr_add" => check_rr(el, "rr_add"),
            "rr_rem" => check_complete(el, "rr_rem"),
            "main" => check_main(el),
            "search_and_replace" => Err(Reject {
                text: Text::Unsupported,
                object: ("default.search_and_replace".to_string(), String::new()),
            }),
            _ => Ok(()),
        };
        if let Err(reason) = checked {
            return reason.answer();
        }
    }
    let (index, name) = match target_zone(store, task, "0202001") {
        Ok(found) => found,
        Err(failure) => return failure,
    };
    if let Some(failure) = update_fault(options.fault, &name) {
        return failure;
    }
    let zone = &mut store.zones[index].root;
    for rem in changes.children_named("rr_rem") {
        let rem = Rr::from_element(rem);
        zone.children.retain(|c| {
            if c.name != "rr" {
                return true;
            }
            let rr = Rr::from_element(c);
            let pref_matches = rem.pref.is_none() || rem.pref == rr.pref;
            !(rr.name == rem.name
                && rr.rr_type.eq_ignore_ascii_case(&rem.rr_type)
                && rr.value == rem.value
                && pref_matches)
        });
    }
    for add in changes.children_named("rr_add") {
        let new = Rr::from_element(add);
        let exists = zone.children_named("rr").map(Rr::from_element).any(|rr| {
            rr.name == new.name
                && rr.rr_type.eq_ignore_ascii_case(&new.rr_type)
                && rr.value == new.value
                && rr.pref == new.pref
        });
        if !exists {
            let at = last_position(zone, &["rr", "nserver", "soa", "name"]);
            zone.children.insert(at, record_element(add));
        }
    }
    if let Some(main) = changes.child("main") {
        set_main(zone, main);
    }
    if let Some(soa) = changes.child("soa") {
        set_soa(zone, soa);
    }
    touch(zone, caller, &timestamp(options.now));
    updated(&name)
}

fn updated(name: &str) -> Answer {
    Answer::success("S0202", Text::UpdateOk)
        .data(Element::leaf("data", ""))
        .object("zone", name)
}

fn update_fault(fault: &SchlundFault, name: &str) -> Option<Answer> {
    match fault {
        SchlundFault::UpdateFailsE0202002 => {
            Some(Answer::failure("E0202002", Text::NameServerFailed).object("zone", name))
        }
        SchlundFault::UpdateRejectedEF09904 => Some(
            task_failure("0202")
                .msg("EF09904", Text::Rejected, Some(("zone", name)))
                .object("zone", name),
        ),
        _ => None,
    }
}

/// Why a record or `main` is refused (`EF09904`).
struct Reject {
    text: Text,
    object: (String, String),
}

impl Reject {
    fn new(text: Text, object_type: &str, value: &str) -> Reject {
        Reject {
            text,
            object: (object_type.to_string(), value.to_string()),
        }
    }

    fn answer(self) -> Answer {
        let (object_type, value) = self.object;
        task_failure("0202").msg("EF09904", self.text, Some((&object_type, &value)))
    }
}

fn check_complete(rr: &Element, element: &str) -> Result<(), Reject> {
    let record = Rr::from_element(rr);
    for (field, value) in [("type", &record.rr_type), ("value", &record.value)] {
        if value.is_empty() {
            return Err(Reject::new(
                Text::RecordIncomplete,
                &format!("{element}.{field}"),
                &record.name,
            ));
        }
    }
    Ok(())
}

fn check_ttl(ttl: Option<&str>, object: &str) -> Result<(), Reject> {
    match ttl {
        None => Ok(()),
        Some(raw) => match raw.parse::<u32>() {
            Ok(seconds) if seconds >= 60 => Ok(()),
            _ => Err(Reject::new(Text::TtlTooLow, object, raw)),
        },
    }
}

/// The record rules of §13: type and value present, MX with a preference, TTL ≥ 60, and
/// addresses that parse as the record type says.
fn check_rr(rr: &Element, element: &str) -> Result<(), Reject> {
    check_complete(rr, element)?;
    check_ttl(rr.child_text("ttl"), &format!("{element}.ttl"))?;
    let record = Rr::from_element(rr);
    let kind = record.rr_type.to_ascii_uppercase();
    let pref_ok = record
        .pref
        .as_deref()
        .is_some_and(|p| p.parse::<u16>().is_ok());
    if kind == "MX" && !pref_ok {
        let pref = record.pref.as_deref().unwrap_or("");
        return Err(Reject::new(Text::MxPref, &format!("{element}.pref"), pref));
    }
    let value_object = format!("{element}.value");
    if kind == "A" && record.value.parse::<Ipv4Addr>().is_err() {
        return Err(Reject::new(Text::BadIpv4, &value_object, &record.value));
    }
    if kind == "AAAA" && record.value.parse::<Ipv6Addr>().is_err() {
        return Err(Reject::new(Text::BadIpv6, &value_object, &record.value));
    }
    Ok(())
}

/// A 0202 replaces the whole zone, so it must be a whole zone (§7.1): one `soa`, one to
/// seven `nserver`, and `main` once when the zone is served by the gateway's name servers
/// (`ns_action` `primary` or `complete`), at most once otherwise; and a valid one: no
/// record beside a CNAME.
fn check_zone_shape(zone: &Element) -> Result<(), Reject> {
    let needs_main = matches!(zone.child_text("ns_action"), Some("primary" | "complete"));
    for (element, min, max) in [
        ("soa", 1, 1),
        ("nserver", 1, 7),
        ("main", usize::from(needs_main), 1),
    ] {
        let count = zone.children.iter().filter(|c| c.name == element).count();
        if !(min..=max).contains(&count) {
            return Err(Reject::new(
                Text::MissingValue,
                &format!("zone.{element}"),
                &count.to_string(),
            ));
        }
    }
    // DNS allows no other record beside a CNAME (RFC 1034 §3.6.2); a name server refuses
    // such a zone.
    let records: Vec<Rr> = zone.children_named("rr").map(Rr::from_element).collect();
    for alias in records
        .iter()
        .filter(|r| r.rr_type.eq_ignore_ascii_case("CNAME"))
    {
        let beside = records
            .iter()
            .filter(|r| r.name.eq_ignore_ascii_case(&alias.name))
            .count();
        if beside > 1 {
            return Err(Reject::new(Text::Rejected, "rr.name", &alias.name));
        }
    }
    Ok(())
}

fn check_main(main: &Element) -> Result<(), Reject> {
    let value = main.child_text("value").unwrap_or("");
    if value.parse::<Ipv4Addr>().is_err() {
        return Err(Reject::new(Text::BadIpv4, "main.value", value));
    }
    check_ttl(main.child_text("ttl"), "main.ttl")
}

/// The zone after a 0202: the sent children in sent order, plus what only the gateway
/// writes, each put back after the element it followed before (so the stored order stays the
/// fixture's). `system_ns` identifies the zone and is kept when the request left it out.
fn replace_zone(old: &Element, sent: &Element, caller: &SchlundUser, now: &str) -> Element {
    let mut kept: Vec<&str> = SERVER_ELEMENTS.to_vec();
    if sent.child("system_ns").is_none() {
        kept.push("system_ns");
    }
    let mut placed: Vec<(Option<String>, Element)> = Vec::new();
    let mut anchor: Option<String> = None;
    for child in &old.children {
        if !kept.contains(&child.name.as_str()) {
            anchor = Some(child.name.clone());
            continue;
        }
        let fresh = match child.name.as_str() {
            "changed" | "updated" => Element::leaf(&child.name, now),
            "updated_by" => updated_by(caller),
            _ => child.clone(),
        };
        placed.push((anchor.clone(), fresh));
    }
    if old.child("changed").is_none() {
        placed.insert(0, (None, Element::leaf("changed", now)));
    }
    if old.child("updated_by").is_none() {
        placed.push((Some(String::new()), updated_by(caller)));
    }

    let mut children: Vec<Element> = placed
        .iter()
        .filter(|(a, _)| a.is_none())
        .map(|(_, e)| e.clone())
        .collect();
    for (i, child) in sent.children.iter().enumerate() {
        children.push(child.clone());
        let last_of_its_name = !sent.children[i + 1..].iter().any(|c| c.name == child.name);
        if last_of_its_name {
            children.extend(
                placed
                    .iter()
                    .filter(|(a, _)| a.as_deref() == Some(child.name.as_str()))
                    .map(|(_, e)| e.clone()),
            );
        }
    }
    children.extend(
        placed
            .iter()
            .filter(|(a, _)| a.as_deref().is_some_and(|a| sent.child(a).is_none()))
            .map(|(_, e)| e.clone()),
    );
    Element::parent("zone", children)
}

fn updated_by(caller: &SchlundUser) -> Element {
    Element::parent(
        "updated_by",
        vec![
            Element::leaf("user", &caller.user),
            Element::leaf("context", &caller.context),
        ],
    )
}

/// After a 0202001: `changed` (and `updated`) = now, `updated_by` = the caller.
fn touch(zone: &mut Element, caller: &SchlundUser, now: &str) {
    match zone.child_mut("changed") {
        Some(el) => el.text = now.to_string(),
        None => zone.children.insert(0, Element::leaf("changed", now)),
    }
    if let Some(el) = zone.child_mut("updated") {
        el.text = now.to_string();
    }
    match zone.child_mut("updated_by") {
        Some(el) => *el = updated_by(caller),
        None => zone.children.push(updated_by(caller)),
    }
}

/// Index just after the last child named like the first of `names` that exists.
fn last_position(zone: &Element, names: &[&str]) -> usize {
    names
        .iter()
        .find_map(|n| zone.children.iter().rposition(|c| c.name == *n))
        .map_or(zone.children.len(), |i| i + 1)
}

/// An `rr_add` stored as an `rr` with the children in the gateway's order.
fn record_element(add: &Element) -> Element {
    let mut children = vec![Element::leaf("name", add.child_text("name").unwrap_or(""))];
    for field in ["ttl", "type", "pref", "value"] {
        if let Some(text) = add.child_text(field) {
            children.push(Element::leaf(field, text));
        }
    }
    Element::parent("rr", children)
}

fn set_main(zone: &mut Element, main: &Element) {
    let value = main.child_text("value").unwrap_or("");
    let ttl = main
        .child_text("ttl")
        .map(str::to_string)
        .or_else(|| zone.at("main/ttl").map(|t| t.text.clone()));
    let mut children = vec![Element::leaf("value", value)];
    if let Some(ttl) = ttl {
        children.push(Element::leaf("ttl", &ttl));
    }
    let new = Element::parent("main", children);
    match zone.child_mut("main") {
        Some(el) => *el = new,
        None => {
            let at = last_position(zone, &["name"]);
            zone.children.insert(at, new);
        }
    }
}

fn set_soa(zone: &mut Element, fields: &Element) {
    if zone.child("soa").is_none() {
        let at = last_position(zone, &["www_include", "ns_action", "main", "name"]);
        zone.children.insert(at, Element::parent("soa", Vec::new()));
    }
    let soa = zone.child_mut("soa").expect("inserted above");
    for field in &fields.children {
        match soa.child_mut(&field.name) {
            Some(el) => *el = field.clone(),
            None => soa.children.push(field.clone()),
        }
    }
}

/// The request text with the contents of every `<password>` and `<token>` replaced by `***`,
/// also when the document is not well-formed.
pub(crate) fn redact(body: &str) -> String {
    ["password", "token"]
        .iter()
        .fold(body.to_string(), |text, tag| redact_element(&text, tag))
}

fn redact_element(text: &str, tag: &str) -> String {
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        let name_end = i + open.len();
        let after = &rest[name_end..];
        let is_this_tag = after
            .chars()
            .next()
            .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace());
        if !is_this_tag {
            out.push_str(&rest[..name_end]);
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else {
            out.push_str(&rest[..name_end]);
            out.push_str("***");
            return out;
        };
        let content_start = name_end + gt + 1;
        out.push_str(&rest[..content_start]);
        if after[..gt].ends_with('/') {
            rest = &rest[content_start..];
            continue;
        }
        out.push_str("***");
        match rest[content_start..].find(&close) {
            Some(j) => rest = &rest[content_start + j..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, the gateway's date format.
pub(crate) fn timestamp(unix: u64) -> String {
    let (y, m, d) = civil_date(unix);
    let secs = unix % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Year, month, day of a Unix time (the days-from-civil inverse).
fn civil_date(unix: u64) -> (i64, u32, u32) {
    let days = i64::try_from(unix / 86_400).unwrap_or(0);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    De,
}

/// Every human text the fake sends, in both languages (§6; the `EF099xx` ones are ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    Processing,
    ParserError,
    MissingValue,
    BadLogin,
    TokenMissing,
    TokenInvalid,
    NotAuthorized,
    InquireOk,
    InquireFailed,
    NoSuchZone,
    UpdateOk,
    UpdateFailed,
    NameServerFailed,
    Rejected,
    ElementForbidden,
    RecordIncomplete,
    MxPref,
    TtlTooLow,
    BadIpv4,
    BadIpv6,
    Unsupported,
}

impl Text {
    fn in_language(self, lang: Lang) -> &'static str {
        let (en, de) = match self {
            Text::Processing => (
                "Errors occurred during processing.",
                "Bei der Verarbeitung sind Fehler aufgetreten.",
            ),
            Text::ParserError => ("Parser error.", "Parser-Fehler."),
            Text::MissingValue => ("Missing or wrong value.", "Fehlender oder falscher Wert."),
            Text::BadLogin => (
                "User does not exist or password incorrect.",
                "Benutzer existiert nicht oder Passwort falsch.",
            ),
            Text::TokenMissing => ("2FA token missing.", "2FA-Token fehlt."),
            Text::TokenInvalid => ("2FA token invalid.", "2FA-Token ungültig."),
            Text::NotAuthorized => (
                "User is not authorized for this function",
                "Benutzer ist für diese Funktion nicht berechtigt",
            ),
            Text::InquireOk => (
                "Zone information was inquired successfully.",
                "Zoneninformationen wurden erfolgreich ermittelt.",
            ),
            Text::InquireFailed => (
                "Zone information could not be inquired.",
                "Zoneninformationen konnten nicht ermittelt werden.",
            ),
            Text::NoSuchZone => (
                "No such zone exists.",
                "Diese Zone ist bisher nicht eingetragen.",
            ),
            Text::UpdateOk => (
                "Zone has been updated successfully.",
                "Zone wurde erfolgreich aktualisiert.",
            ),
            Text::UpdateFailed => (
                "Zone could not be updated.",
                "Zone konnte nicht aktualisiert werden.",
            ),
            Text::NameServerFailed => (
                "Zone could not be updated on the name server.",
                "Zone konnte auf dem Nameserver nicht aktualisiert werden.",
            ),
            Text::Rejected => ("Zone data rejected.", "Zonendaten wurden abgelehnt."),
            Text::ElementForbidden => (
                "Element is not allowed in a zone update.",
                "Element ist in einer Zonenaktualisierung nicht erlaubt.",
            ),
            Text::RecordIncomplete => (
                "Resource record needs a type and a value.",
                "Resource Record benötigt Typ und Wert.",
            ),
            Text::MxPref => (
                "MX record needs a numeric preference.",
                "MX-Record benötigt eine numerische Präferenz.",
            ),
            Text::TtlTooLow => (
                "TTL must be a number of at least 60 seconds.",
                "TTL muss eine Zahl von mindestens 60 Sekunden sein.",
            ),
            Text::BadIpv4 => ("Invalid IPv4 address.", "Ungültige IPv4-Adresse."),
            Text::BadIpv6 => ("Invalid IPv6 address.", "Ungültige IPv6-Adresse."),
            Text::Unsupported => (
                "Function not supported.",
                "Funktion wird nicht unterstützt.",
            ),
        };
        match lang {
            Lang::En => en,
            Lang::De => de,
        }
    }
}

struct Msg {
    code: &'static str,
    text: Text,
    object: Option<(String, String)>,
}

/// An answer before rendering (§4): `result` holds `data`, `msg`s and `status`.
struct Answer {
    code: String,
    text: Text,
    success: bool,
    object: Option<(String, String)>,
    /// Boxed to keep `Result<_, Answer>` small.
    data: Option<Box<Element>>,
    msgs: Vec<Msg>,
}

impl Answer {
    fn success(code: &str, text: Text) -> Answer {
        Answer {
            code: code.to_string(),
            text,
            success: true,
            object: None,
            data: None,
            msgs: Vec::new(),
        }
    }

    fn failure(code: &str, text: Text) -> Answer {
        Answer {
            success: false,
            ..Answer::success(code, text)
        }
    }

    fn data(mut self, data: Element) -> Answer {
        self.data = Some(Box::new(data));
        self
    }

    fn object(mut self, object_type: &str, value: &str) -> Answer {
        self.object = Some((object_type.to_string(), value.to_string()));
        self
    }

    fn msg(mut self, code: &'static str, text: Text, object: Option<(&str, &str)>) -> Answer {
        self.msgs.push(Msg {
            code,
            text,
            object: object.map(|(t, v)| (t.to_string(), v.to_string())),
        });
        self
    }

    fn render(&self, lang: Lang, stid: &str) -> String {
        let object = |(object_type, value): &(String, String)| {
            Element::parent(
                "object",
                vec![
                    Element::leaf("type", object_type),
                    Element::leaf("value", value),
                ],
            )
        };
        let mut result: Vec<Element> = self.data.iter().map(|d| (**d).clone()).collect();
        for msg in &self.msgs {
            let mut children = vec![
                Element::leaf("text", msg.text.in_language(lang)),
                Element::leaf("code", msg.code),
                Element::leaf("type", "error"),
            ];
            children.extend(msg.object.as_ref().map(object));
            result.push(Element::parent("msg", children));
        }
        let mut status = vec![
            Element::leaf("code", &self.code),
            Element::leaf("text", self.text.in_language(lang)),
            Element::leaf("type", if self.success { "success" } else { "error" }),
        ];
        status.extend(self.object.as_ref().map(object));
        result.push(Element::parent("status", status));
        document(&Element::parent(
            "response",
            vec![
                Element::parent("result", result),
                Element::leaf("stid", stid),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_gateway_format() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(timestamp(1_715_937_164), "2024-05-17 09:12:44");
        assert_eq!(timestamp(951_782_400), "2000-02-29 00:00:00");
        let mut store = Store::default();
        assert_eq!(store.next_stid(1_715_937_164), "20240517-app3-100001");
    }

    #[test]
    fn redaction_hides_secrets_even_in_broken_xml() {
        assert_eq!(
            redact(
                "<auth><user>u</user><password>s3cret&pass</password><token>049213</token></auth>"
            ),
            "<auth><user>u</user><password>***</password><token>***</token></auth>"
        );
        assert_eq!(
            redact("<password/><tokens>x</tokens>"),
            "<password/><tokens>x</tokens>"
        );
        assert_eq!(redact("<password >abc"), "<password >***");
        assert_eq!(redact("<password>abc</pass"), "<password>***");
        assert_eq!(redact("<password"), "<password");
    }

    #[test]
    fn totp_is_rfc6238_sha1_six_digits() {
        // RFC 6238 appendix B, secret "12345678901234567890", last six of the SHA1 codes.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(crate::schlund::totp_code(secret, 59), "287082");
        assert_eq!(crate::schlund::totp_code(secret, 1_111_111_109), "081804");
        assert_eq!(
            matching_step(secret, "081804", 1_111_111_109 + 30),
            Some(37_037_036)
        );
        assert_eq!(matching_step(secret, "081804", 1_111_111_109 + 60), None);
    }

    #[test]
    fn glob_matches_like_patterns() {
        assert!(glob("*.co.uk", "example.co.uk"));
        assert!(glob("ex*le.*", "example.org"));
        assert!(!glob("*.org", "example.co.uk"));
    }
}

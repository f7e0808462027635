//! Authentication, routing and the endpoints of §5, answering with the bodies, statuses and
//! headers of the real API (§5, §6).
//!
//! Order of checks, as a layered web application applies them: path prefix (404), credential
//! (401/403), route (404), method (405), zone scope (403), zone existence (404),
//! `Content-Type` (400), body (400), then the operation itself (404/409/201/204).

use std::collections::BTreeSet;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::validate::{self, FieldError};
use super::{DEFAULT_PER_PAGE, DEFAULT_TTL, Rrset, Shared, State, key};
use crate::server::{Incoming, Reply};

/// `Content-Type` of successful answers (§3).
pub(super) const SUCCESS_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// `Content-Type` of error answers, spelled as the real API spells it (§3).
pub(super) const ERROR_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// The API's root; everything else on the host is 404.
const PREFIX: &str = "/v5/livedns";

/// Characters encoded when a name goes back into a link: the API writes `@` as `%40` (§4).
const NAME_IN_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'@');

/// What every endpoint needs to know about the request.
struct Ctx<'a> {
    req: &'a Incoming,
    /// See [`super::FakeGandi::set_max_per_page`].
    max_per_page: Option<usize>,
    /// Base URL for links in answers.
    base: String,
    /// The zones a restricted PAT may see; `None` for an unrestricted credential.
    scope: Option<BTreeSet<String>>,
}

/// Answers one request against the stored state (faults and latency are applied by the
/// caller).
pub(super) fn handle(shared: &Shared, req: &Incoming) -> Reply {
    let path = req.path();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return not_found();
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        return not_found();
    }
    let mut state = shared.state();
    let scope = match authenticate(&state, req) {
        Ok(scope) => scope,
        Err(reply) => return reply,
    };
    let Some(segments) = decode_segments(rest) else {
        return not_found();
    };
    let ctx = Ctx {
        req,
        max_per_page: state.max_per_page,
        base: shared.base(req),
        scope,
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    route(&mut state, &ctx, &segments)
}

/// §2: exactly one `Authorization` header, `Bearer <PAT>` or `Apikey <key>`, scheme spelled
/// as documented. Returns the PAT's zone scope, if it has one.
fn authenticate(state: &State, req: &Incoming) -> Result<Option<BTreeSet<String>>, Reply> {
    let mut headers = req
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authorization"))
        .map(|(_, value)| value.as_str());
    let (Some(value), None) = (headers.next(), headers.next()) else {
        return Err(unauthorized());
    };
    let Some((scheme, secret)) = value.split_once(' ') else {
        return Err(unauthorized());
    };
    if secret.is_empty() || secret.chars().any(char::is_whitespace) {
        return Err(unauthorized());
    }
    match scheme {
        "Bearer" if state.expired_tokens.contains(secret) => Err(forbidden()),
        "Bearer" if state.tokens.contains(secret) => Ok(state.scopes.get(secret).cloned()),
        "Apikey" if state.api_keys.contains(secret) => Ok(None),
        _ => Err(unauthorized()),
    }
}

/// Splits what follows `/v5/livedns` into percent-decoded segments (§4 rule 4: `%40` is
/// `@`). `None` for an empty segment or one that is not UTF-8: no such resource exists.
fn decode_segments(rest: &str) -> Option<Vec<String>> {
    if rest.is_empty() {
        return Some(Vec::new());
    }
    rest[1..]
        .split('/')
        .map(|segment| {
            let decoded = percent_decode_str(segment).decode_utf8().ok()?;
            (!decoded.is_empty()).then(|| decoded.into_owned())
        })
        .collect()
}

fn route(state: &mut State, ctx: &Ctx, segments: &[&str]) -> Reply {
    let method = ctx.req.method.as_str();
    match *segments {
        ["domains"] => match method {
            "GET" => list_domains(state, ctx),
            _ => method_not_allowed(),
        },
        ["domains", fqdn] => match method {
            "GET" => with_zone(state, ctx, fqdn, |_, zone| domain(ctx, zone)),
            _ => method_not_allowed(),
        },
        ["domains", fqdn, "records"] => match method {
            "GET" => with_zone(state, ctx, fqdn, |state, zone| {
                list_records(state, ctx, zone)
            }),
            "POST" => with_zone(state, ctx, fqdn, |state, zone| {
                create_from_body(state, ctx, zone)
            }),
            "DELETE" => with_zone(state, ctx, fqdn, |state, zone| {
                zone_records(state, zone).clear();
                no_content()
            }),
            _ => method_not_allowed(),
        },
        ["domains", fqdn, "records", name] => match method {
            "GET" => with_zone(state, ctx, fqdn, |state, zone| {
                records_of_name(state, ctx, zone, name)
            }),
            "DELETE" => with_zone(state, ctx, fqdn, |state, zone| {
                delete_name(state, zone, name)
            }),
            _ => method_not_allowed(),
        },
        ["domains", fqdn, "records", name, rr_type] => match method {
            "GET" => with_zone(state, ctx, fqdn, |state, zone| {
                get_rrset(state, ctx, zone, name, rr_type)
            }),
            "PUT" => with_zone(state, ctx, fqdn, |state, zone| {
                write_at_path(state, ctx, zone, name, rr_type, false)
            }),
            "POST" => with_zone(state, ctx, fqdn, |state, zone| {
                write_at_path(state, ctx, zone, name, rr_type, true)
            }),
            "DELETE" => with_zone(state, ctx, fqdn, |state, zone| {
                match zone_records(state, zone).remove(&key(name, rr_type)) {
                    Some(_) => no_content(),
                    None => record_not_found(&format!("{name}/{rr_type}")),
                }
            }),
            // PATCH exists since 2025 but its semantics are not known (§5.10): the header
            // rule still applies, then it is refused so no client comes to rely on a guess.
            "PATCH" => with_zone(state, ctx, fqdn, |_, _| {
                match validate::content_type(ctx.req.header("Content-Type")) {
                    Ok(()) => method_not_allowed(),
                    Err(e) => validation(vec![e]),
                }
            }),
            _ => method_not_allowed(),
        },
        _ => not_found(),
    }
}

/// Runs `f` on a zone the credential may see: 403 outside a restricted PAT's scope (whether
/// the zone exists or not), generic 404 for an unknown zone (§5.2).
fn with_zone(
    state: &mut State,
    ctx: &Ctx,
    fqdn: &str,
    f: impl FnOnce(&mut State, &str) -> Reply,
) -> Reply {
    let zone = fqdn.to_ascii_lowercase();
    if ctx
        .scope
        .as_ref()
        .is_some_and(|scope| !scope.contains(&zone))
    {
        return forbidden();
    }
    if !state.zones.contains_key(&zone) {
        return not_found();
    }
    f(state, &zone)
}

fn zone_records<'s>(state: &'s mut State, zone: &str) -> &'s mut super::Zone {
    state.zones.entry(zone.to_string()).or_default()
}

/// §5.1: the zones this credential can see.
fn list_domains(state: &State, ctx: &Ctx) -> Reply {
    let items = state
        .zones
        .keys()
        .filter(|zone| ctx.scope.as_ref().is_none_or(|scope| scope.contains(*zone)))
        .map(|zone| {
            json!({
                "fqdn": zone,
                "domain_href": format!("{}/domains/{zone}", ctx.base),
                "domain_records_href": format!("{}/domains/{zone}/records", ctx.base),
            })
        })
        .collect();
    paginate(ctx, &format!("{}/domains", ctx.base), items)
}

/// §5.2: one zone.
fn domain(ctx: &Ctx, zone: &str) -> Reply {
    let href = format!("{}/domains/{zone}", ctx.base);
    ok_json(
        200,
        &json!({
            "fqdn": zone,
            "automatic_snapshots": true,
            "domain_href": href,
            "domain_keys_href": format!("{href}/keys"),
            "domain_records_href": format!("{href}/records"),
        }),
    )
}

/// §5.3: every rrset of a zone, paginated.
fn list_records(state: &mut State, ctx: &Ctx, zone: &str) -> Reply {
    let items = zone_records(state, zone)
        .values()
        .map(|r| rrset_json(&ctx.base, zone, r))
        .collect();
    paginate(ctx, &format!("{}/domains/{zone}/records", ctx.base), items)
}

/// §5.4: every type of one name; 404 dns-record when there is none.
fn records_of_name(state: &mut State, ctx: &Ctx, zone: &str, name: &str) -> Reply {
    let lower = name.to_ascii_lowercase();
    let items: Vec<Value> = zone_records(state, zone)
        .values()
        .filter(|r| r.name == lower)
        .map(|r| rrset_json(&ctx.base, zone, r))
        .collect();
    if items.is_empty() {
        record_not_found(name)
    } else {
        ok_json(200, &Value::Array(items))
    }
}

/// `DELETE .../records/{name}`: every type of one name.
fn delete_name(state: &mut State, zone: &str, name: &str) -> Reply {
    let lower = name.to_ascii_lowercase();
    let records = zone_records(state, zone);
    let before = records.len();
    records.retain(|(n, _), _| *n != lower);
    if records.len() == before {
        record_not_found(name)
    } else {
        no_content()
    }
}

/// §5.5: one rrset; the 404 message names it exactly as requested.
fn get_rrset(state: &mut State, ctx: &Ctx, zone: &str, name: &str, rr_type: &str) -> Reply {
    match zone_records(state, zone).get(&key(name, rr_type)) {
        Some(rrset) => ok_json(200, &rrset_json(&ctx.base, zone, rrset)),
        None => record_not_found(&format!("{name}/{rr_type}")),
    }
}

/// §5.6 (PUT, upsert) and §5.8 (POST, create only): name and type from the path.
fn write_at_path(
    state: &mut State,
    ctx: &Ctx,
    zone: &str,
    name: &str,
    rr_type: &str,
    create_only: bool,
) -> Reply {
    let (name, rr_type) = key(name, rr_type);
    let body = match json_body(ctx) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    match checked_write(&body, Ok(name), Ok(rr_type), "path") {
        Ok(rrset) => store(state, ctx, zone, rrset, create_only),
        Err(errors) => validation(errors),
    }
}

/// §5.7: `POST .../records` with name and type in the body; 409 when the rrset exists.
fn create_from_body(state: &mut State, ctx: &Ctx, zone: &str) -> Reply {
    let body = match json_body(ctx) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let field = |field: &str| match body.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(FieldError::new(
            "body",
            field,
            format!("{other} is not of type 'string'"),
        )),
        None => Err(FieldError::new("body", field, "Required")),
    };
    let name = field("rrset_name").map(|n| n.to_ascii_lowercase());
    let rr_type = field("rrset_type").map(|t| t.to_ascii_uppercase());
    match checked_write(&body, name, rr_type, "body") {
        Ok(rrset) => store(state, ctx, zone, rrset, true),
        Err(errors) => validation(errors),
    }
}

/// The header and body checks every write starts with.
fn json_body(ctx: &Ctx) -> Result<Map<String, Value>, Reply> {
    validate::content_type(ctx.req.header("Content-Type"))
        .and_then(|()| validate::json_object(&ctx.req.body))
        .map_err(|e| validation(vec![e]))
}

/// Checks every field, reporting all problems at once as the real API does.
fn checked_write(
    body: &Map<String, Value>,
    name: Result<String, FieldError>,
    rr_type: Result<String, FieldError>,
    location: &'static str,
) -> Result<Rrset, Vec<FieldError>> {
    let mut errors = Vec::new();
    let rr_type = rr_type
        .and_then(|t| validate::rrset_type(&t, location).map(|()| t))
        .map_err(|e| errors.push(e))
        .ok();
    let name = name
        .and_then(|n| {
            let t = rr_type.as_deref().unwrap_or("");
            validate::rrset_name(&n, t, location).map(|()| n)
        })
        .map_err(|e| errors.push(e))
        .ok();
    let ttl = validate::ttl(body, DEFAULT_TTL)
        .map_err(|e| errors.push(e))
        .ok();
    // Without a valid type the values can only be checked for their JSON shape.
    let values = validate::values(body, rr_type.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e))
        .ok();
    match (name, rr_type, ttl, values) {
        (Some(name), Some(rr_type), Some(ttl), Some(values)) if errors.is_empty() => Ok(Rrset {
            name,
            rr_type,
            ttl,
            values,
        }),
        _ => Err(errors),
    }
}

/// Stores a checked write: 201 with `location` (§5.6), or 409 for a create over an existing
/// rrset (§5.7).
fn store(state: &mut State, ctx: &Ctx, zone: &str, rrset: Rrset, create_only: bool) -> Reply {
    let records = zone_records(state, zone);
    let slot = (rrset.name.clone(), rrset.rr_type.clone());
    if create_only && records.contains_key(&slot) {
        return error(
            409,
            &format!(
                "A DNS record already exists for {}/{}",
                rrset.name, rrset.rr_type
            ),
            "dns-record",
            "Conflict",
        );
    }
    let location = rrset_href(&ctx.base, zone, &rrset);
    records.insert(slot, rrset);
    ok_json(201, &json!({"message": "DNS Record Created"})).with_header("location", &location)
}

/// Applies `page`/`per_page` (§5.1): `Total-Count` always, `Link` with `rel="next"` and
/// `rel="last"` while more pages follow. Other query parameters are ignored (§3).
fn paginate(ctx: &Ctx, url: &str, items: Vec<Value>) -> Reply {
    let mut page = 1;
    let mut per_page = DEFAULT_PER_PAGE;
    let mut errors = Vec::new();
    for pair in ctx.req.query().split('&').filter(|p| !p.is_empty()) {
        let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let raw = percent_decode_str(raw).decode_utf8_lossy();
        let target = match name {
            "page" => &mut page,
            "per_page" => &mut per_page,
            _ => continue,
        };
        match validate::positive(name, &raw) {
            Ok(n) => *target = n,
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return validation(errors);
    }
    if let Some(max) = ctx.max_per_page {
        per_page = per_page.min(max);
    }
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let mut reply =
        ok_json(200, &Value::Array(shown)).with_header("Total-Count", &total.to_string());
    if page < last {
        let link = format!(
            "<{url}?page={}&per_page={per_page}>; rel=\"next\", \
             <{url}?page={last}&per_page={per_page}>; rel=\"last\"",
            page + 1
        );
        reply = reply.with_header("Link", &link);
    }
    reply
}

/// The self link of an rrset, `@` written `%40` (§4).
fn rrset_href(base: &str, zone: &str, rrset: &Rrset) -> String {
    format!(
        "{base}/domains/{zone}/records/{}/{}",
        utf8_percent_encode(&rrset.name, NAME_IN_PATH),
        rrset.rr_type
    )
}

/// An rrset object as the API returns it (§4).
fn rrset_json(base: &str, zone: &str, rrset: &Rrset) -> Value {
    json!({
        "rrset_name": rrset.name,
        "rrset_type": rrset.rr_type,
        "rrset_ttl": rrset.ttl,
        "rrset_values": rrset.values,
        "rrset_href": rrset_href(base, zone, rrset),
    })
}

fn ok_json(status: u16, body: &Value) -> Reply {
    Reply::new(status, SUCCESS_CONTENT_TYPE, body.to_string())
}

fn no_content() -> Reply {
    Reply {
        status: 204,
        headers: Vec::new(),
        body: String::new(),
    }
}

/// The generic error shape of §6.1.
fn error(status: u16, message: &str, object: &str, cause: &str) -> Reply {
    let body = json!({"code": status, "message": message, "object": object, "cause": cause});
    Reply::new(status, ERROR_CONTENT_TYPE, body.to_string())
}

/// The §6.1 body for any status, as the application framework words it.
pub(super) fn generic_error(status: u16) -> Reply {
    let (message, object, cause) = match status {
        400 => (
            "The browser (or proxy) sent a request that this server could not understand.",
            "HTTPBadRequest",
            "Bad Request",
        ),
        401 => (UNAUTHORIZED_MESSAGE, "HTTPUnauthorized", "Unauthorized"),
        403 => (
            "Access was denied to this resource.",
            "HTTPForbidden",
            "Forbidden",
        ),
        404 => (
            "The resource could not be found.",
            "HTTPNotFound",
            "Not Found",
        ),
        405 => (
            "The method is not allowed for the requested URL.",
            "HTTPMethodNotAllowed",
            "Method Not Allowed",
        ),
        409 => (
            "The request conflicts with the current state of the resource.",
            "HTTPConflict",
            "Conflict",
        ),
        429 => (
            "Too many requests, slow down.",
            "HTTPTooManyRequests",
            "Too Many Requests",
        ),
        500 => (
            "The server encountered an internal error and was unable to complete your request.",
            "HTTPInternalServerError",
            "Internal Server Error",
        ),
        502 => (
            "The proxy server received an invalid response from an upstream server.",
            "HTTPBadGateway",
            "Bad Gateway",
        ),
        503 => (
            "The server is temporarily unable to service your request.",
            "HTTPServiceUnavailable",
            "Service Unavailable",
        ),
        504 => (
            "The gateway did not receive a timely response from the upstream server.",
            "HTTPGatewayTimeout",
            "Gateway Timeout",
        ),
        _ => ("The request failed.", "HTTPError", "Error"),
    };
    error(status, message, object, cause)
}

/// The §6.1 body for this status with another `message`.
pub(super) fn error_saying(status: u16, message: &str) -> Reply {
    let mut reply = generic_error(status);
    if let Ok(mut body) = serde_json::from_str::<Value>(&reply.body) {
        body["message"] = Value::from(message);
        reply.body = body.to_string();
    }
    reply
}

/// The octodns-gandi fixture text (§6.1); the live text is shorter [U], so never match it.
const UNAUTHORIZED_MESSAGE: &str = "The server could not verify that you authorized to access \
     the document you requested. Either you supplied the wrong credentials (e.g., bad api key), \
     or your access token has expired";

fn unauthorized() -> Reply {
    generic_error(401)
}

fn forbidden() -> Reply {
    generic_error(403)
}

fn not_found() -> Reply {
    generic_error(404)
}

fn method_not_allowed() -> Reply {
    generic_error(405)
}

/// The real 404 of an absent rrset (§5.5); `what` is `name/type` or `name` as requested.
fn record_not_found(what: &str) -> Reply {
    error(
        404,
        &format!("Can't find the DNS record {what} in the zone"),
        "dns-record",
        "Not Found",
    )
}

/// The validation shape of §6.2.
fn validation(errors: Vec<FieldError>) -> Reply {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|e| json!({"location": e.location, "name": e.name, "description": e.description}))
        .collect();
    let body = json!({"status": "error", "errors": errors});
    Reply::new(400, ERROR_CONTENT_TYPE, body.to_string())
}

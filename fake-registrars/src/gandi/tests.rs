//! Tests over real HTTP on loopback, with ureq as the client.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

const PAT: &str = "pat_0123456789abcdef0123456789abcdef01234567";
const API_KEY: &str = "abcdefghijklmnopqrstuvwx";
const JSON: &str = "application/json";

fn fake() -> FakeGandi {
    FakeGandi::start(
        &[PAT],
        vec![
            fixture_zone(),
            (
                "example.co.uk",
                vec![Rrset::new("@", "A", 300, &["203.0.113.1"])],
            ),
            ("example.net", vec![]),
        ],
    )
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build(),
    )
}

/// A response, fully read.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[track_caller]
    fn json(&self) -> Value {
        match serde_json::from_str(&self.body) {
            Ok(v) => v,
            Err(e) => panic!("not JSON ({e}): {:?}", self.body),
        }
    }

    /// Asserts the generic §6.1 body.
    #[track_caller]
    fn assert_generic(&self, status: u16, object: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("Content-Type"), Some(api::ERROR_CONTENT_TYPE));
        let body = self.json();
        assert_eq!(body["code"], status);
        assert_eq!(body["object"], object);
        assert!(body["message"].is_string() && body["cause"].is_string());
    }

    /// Asserts the §6.2 body with exactly these (location, name, description) entries.
    #[track_caller]
    fn assert_invalid(&self, expected: &[(&str, &str, &str)]) {
        assert_eq!(self.status, 400, "{}", self.body);
        assert_eq!(self.header("Content-Type"), Some(api::ERROR_CONTENT_TYPE));
        let body = self.json();
        assert_eq!(body["status"], "error");
        let errors: Vec<(String, String, String)> = body["errors"]
            .as_array()
            .expect("errors array")
            .iter()
            .map(|e| {
                let field = |k: &str| e[k].as_str().expect(k).to_string();
                (field("location"), field("name"), field("description"))
            })
            .collect();
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|(l, n, d)| (l.to_string(), n.to_string(), d.to_string()))
            .collect();
        assert_eq!(errors, expected);
    }
}

fn try_send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Answer, ureq::Error> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut response = match body {
        Some(body) => agent.run(builder.body(body).expect("request"))?,
        None => agent.run(builder.body(()).expect("request"))?,
    };
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Ok(Answer {
        status: response.status().as_u16(),
        headers,
        body: response.body_mut().read_to_string()?,
    })
}

#[track_caller]
fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Answer {
    match try_send(&agent(Duration::from_secs(5)), method, url, headers, body) {
        Ok(answer) => answer,
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

fn bearer() -> String {
    format!("Bearer {PAT}")
}

#[track_caller]
fn get(fake: &FakeGandi, path: &str) -> Answer {
    let auth = bearer();
    send(
        "GET",
        &format!("{}{path}", fake.base_url()),
        &[("Authorization", &auth)],
        None,
    )
}

#[track_caller]
fn write(fake: &FakeGandi, method: &str, path: &str, body: &Value) -> Answer {
    let auth = bearer();
    send(
        method,
        &format!("{}{path}", fake.base_url()),
        &[("Authorization", &auth), ("Content-Type", JSON)],
        Some(&body.to_string()),
    )
}

#[track_caller]
fn put(fake: &FakeGandi, path: &str, body: &Value) -> Answer {
    write(fake, "PUT", path, body)
}

// ---- authentication (§2) ----

#[test]
fn missing_unknown_and_malformed_credentials_are_401() {
    let fake = fake();
    fake.add_api_key(API_KEY);
    let url = format!("{}/domains", fake.base_url());
    let unknown = "Bearer pat_unknown".to_string();
    let key_as_bearer = format!("Bearer {API_KEY}");
    let pat_as_apikey = format!("Apikey {PAT}");
    let lower_scheme = format!("bearer {PAT}");
    let two_spaces = format!("Bearer  {PAT}");
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("Authorization", &unknown)],
        vec![("Authorization", "Bearer")],
        vec![("Authorization", PAT)],
        vec![("Authorization", &key_as_bearer)],
        vec![("Authorization", &pat_as_apikey)],
        vec![("Authorization", &lower_scheme)],
        vec![("Authorization", &two_spaces)],
        vec![("Authorization", "Basic dXNlcjpwYXNz")],
        vec![("X-Api-Key", API_KEY)],
        vec![("X-Api-Key", PAT)],
    ];
    for headers in &cases {
        let answer = send("GET", &url, headers, None);
        answer.assert_generic(401, "HTTPUnauthorized");
        assert_eq!(answer.json()["cause"], "Unauthorized");
    }
    // Two Authorization headers, even both valid, are not "exactly one".
    let auth = bearer();
    send(
        "GET",
        &url,
        &[("Authorization", &auth), ("Authorization", &auth)],
        None,
    )
    .assert_generic(401, "HTTPUnauthorized");
    // Writes are refused before anything is looked at.
    let put = send(
        "PUT",
        &format!("{}/domains/example.com/records/home/A", fake.base_url()),
        &[("Content-Type", JSON)],
        Some(r#"{"rrset_values":["198.51.100.99"],"rrset_ttl":300}"#),
    );
    put.assert_generic(401, "HTTPUnauthorized");
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().values,
        ["198.51.100.7"]
    );
}

#[test]
fn bearer_pat_and_enabled_apikey_are_accepted() {
    let fake = fake();
    let url = format!("{}/domains/example.com", fake.base_url());
    let apikey = format!("Apikey {API_KEY}");
    // Not enabled yet.
    send("GET", &url, &[("Authorization", &apikey)], None).assert_generic(401, "HTTPUnauthorized");
    fake.add_api_key(API_KEY);
    assert_eq!(
        send("GET", &url, &[("Authorization", &apikey)], None).status,
        200
    );
    let auth = bearer();
    // X-Api-Key next to a valid Authorization does not matter.
    let answer = send(
        "GET",
        &url,
        &[("Authorization", &auth), ("X-Api-Key", "whatever")],
        None,
    );
    assert_eq!(answer.status, 200);
    fake.add_token("pat_second");
    let second = send("GET", &url, &[("Authorization", "Bearer pat_second")], None);
    assert_eq!(second.status, 200);
}

#[test]
fn expired_token_is_403_forbidden() {
    let fake = fake();
    fake.add_expired_token("pat_expired");
    fake.add_expired_token(PAT);
    for token in ["pat_expired", PAT] {
        let answer = send(
            "GET",
            &format!("{}/domains", fake.base_url()),
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        );
        answer.assert_generic(403, "HTTPForbidden");
        assert_eq!(
            answer.json()["message"],
            "Access was denied to this resource."
        );
        assert_eq!(answer.json()["cause"], "Forbidden");
    }
}

#[test]
fn restricted_token_sees_only_its_zones() {
    let fake = fake();
    fake.restrict_token("pat_scoped", &["Example.CO.UK", "gone.example"]);
    let auth = [("Authorization", "Bearer pat_scoped")];
    let base = fake.base_url();
    let listed = send("GET", &format!("{base}/domains"), &auth, None);
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.json(),
        json!([{
            "fqdn": "example.co.uk",
            "domain_href": format!("{base}/domains/example.co.uk"),
            "domain_records_href": format!("{base}/domains/example.co.uk/records"),
        }])
    );
    assert_eq!(listed.header("Total-Count"), Some("1"));
    assert_eq!(
        send("GET", &format!("{base}/domains/example.co.uk"), &auth, None).status,
        200
    );
    // Outside the scope: 403 whether the zone exists or not, reads and writes alike.
    for path in ["/domains/example.com", "/domains/nowhere.example"] {
        send("GET", &format!("{base}{path}"), &auth, None).assert_generic(403, "HTTPForbidden");
    }
    send(
        "PUT",
        &format!("{base}/domains/example.com/records/home/A"),
        &[auth[0], ("Content-Type", JSON)],
        Some(r#"{"rrset_values":["198.51.100.99"],"rrset_ttl":300}"#),
    )
    .assert_generic(403, "HTTPForbidden");
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().values,
        ["198.51.100.7"]
    );
    // In scope but absent: the ordinary 404.
    send("GET", &format!("{base}/domains/gone.example"), &auth, None)
        .assert_generic(404, "HTTPNotFound");
    // The unrestricted PAT still sees everything.
    assert_eq!(get(&fake, "/domains").json().as_array().unwrap().len(), 3);
}

// ---- paths and routing ----

#[test]
fn only_the_livedns_tree_exists() {
    let fake = fake();
    let root = format!("http://127.0.0.1:{}", fake.port());
    let auth = bearer();
    for path in [
        "/",
        "/v5/domain/domains",
        "/v5/livednsx/domains",
        "/api/v5/domains",
        "/v4/livedns/domains",
    ] {
        send(
            "GET",
            &format!("{root}{path}"),
            &[("Authorization", &auth)],
            None,
        )
        .assert_generic(404, "HTTPNotFound");
        // Even without credentials: the path is checked first.
        send("GET", &format!("{root}{path}"), &[], None).assert_generic(404, "HTTPNotFound");
    }
    for path in [
        "",
        "/",
        "/domains/",
        "/domains//records",
        "/zones",
        "/domains/example.com/keys",
        "/domains/example.com/records/home/A/extra",
    ] {
        get(&fake, path).assert_generic(404, "HTTPNotFound");
    }
}

#[test]
fn unknown_zone_is_generic_404() {
    let fake = fake();
    for path in [
        "/domains/nowhere.example",
        "/domains/nowhere.example/records",
        "/domains/nowhere.example/records/home",
        "/domains/nowhere.example/records/home/A",
    ] {
        let answer = get(&fake, path);
        answer.assert_generic(404, "HTTPNotFound");
        assert_eq!(answer.json()["message"], "The resource could not be found.");
    }
    put(
        &fake,
        "/domains/nowhere.example/records/home/A",
        &json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": 300}),
    )
    .assert_generic(404, "HTTPNotFound");
    assert!(fake.rrsets("nowhere.example").is_empty());
}

#[test]
fn unsupported_methods_are_405() {
    let fake = fake();
    let auth = bearer();
    for (method, path) in [
        ("DELETE", "/domains"),
        ("POST", "/domains/example.com"),
        ("PUT", "/domains/example.com/records/home"),
    ] {
        send(
            method,
            &format!("{}{path}", fake.base_url()),
            &[("Authorization", &auth), ("Content-Type", JSON)],
            Some("{}"),
        )
        .assert_generic(405, "HTTPMethodNotAllowed");
    }
    // PATCH: the header rule applies, the semantics are not modelled.
    write(
        &fake,
        "PATCH",
        "/domains/example.com/records/home/A",
        &json!({"rrset_ttl": 600}),
    )
    .assert_generic(405, "HTTPMethodNotAllowed");
    let patch = send(
        "PATCH",
        &format!("{}/domains/example.com/records/home/A", fake.base_url()),
        &[("Authorization", &auth)],
        Some(r#"{"rrset_ttl":600}"#),
    );
    patch.assert_invalid(&[(
        "header",
        "Content-Type",
        "'' is not a supported content type, use 'application/json'",
    )]);
    assert_eq!(fake.rrset("example.com", "home", "A").unwrap().ttl, 300);
}

// ---- reads (§5.1–§5.5) ----

#[test]
fn domain_object_and_success_content_type() {
    let fake = fake();
    let base = fake.base_url();
    let answer = get(&fake, "/domains/Example.COM");
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        answer.json(),
        json!({
            "fqdn": "example.com",
            "automatic_snapshots": true,
            "domain_href": format!("{base}/domains/example.com"),
            "domain_keys_href": format!("{base}/domains/example.com/keys"),
            "domain_records_href": format!("{base}/domains/example.com/records"),
        })
    );
}

#[test]
fn domains_are_paginated_with_total_count_and_link() {
    let fake = fake();
    let base = fake.base_url();
    let all = get(&fake, "/domains?sharing_id=org-1");
    assert_eq!(all.status, 200);
    assert_eq!(all.header("Total-Count"), Some("3"));
    assert_eq!(all.header("Link"), None);
    let fqdns = |a: &Answer| -> Vec<String> {
        a.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["fqdn"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(fqdns(&all), ["example.co.uk", "example.com", "example.net"]);

    let first = get(&fake, "/domains?per_page=2&sharing_id=x");
    assert_eq!(fqdns(&first), ["example.co.uk", "example.com"]);
    assert_eq!(first.header("Total-Count"), Some("3"));
    assert_eq!(
        first.header("Link").unwrap(),
        format!(
            "<{base}/domains?page=2&per_page=2>; rel=\"next\", \
             <{base}/domains?page=2&per_page=2>; rel=\"last\""
        )
    );
    let second = get(&fake, "/domains?page=2&per_page=2");
    assert_eq!(fqdns(&second), ["example.net"]);
    assert_eq!(second.header("Total-Count"), Some("3"));
    assert_eq!(second.header("Link"), None);
    let beyond = get(&fake, "/domains?page=9&per_page=2");
    assert_eq!(beyond.json(), json!([]));

    get(&fake, "/domains?page=0").assert_invalid(&[(
        "querystring",
        "page",
        "0 is less than minimum value 1",
    )]);
    get(&fake, "/domains?per_page=lots").assert_invalid(&[(
        "querystring",
        "per_page",
        "'lots' is not a valid integer",
    )]);
}

#[test]
fn records_list_is_paginated() {
    let fake = fake();
    let base = fake.base_url();
    let all = get(&fake, "/domains/example.com/records");
    assert_eq!(all.status, 200);
    assert_eq!(all.header("Total-Count"), Some("8"));
    let items = all.json();
    assert_eq!(items.as_array().unwrap().len(), 8);
    assert!(items.as_array().unwrap().contains(&json!({
        "rrset_name": "@",
        "rrset_type": "MX",
        "rrset_ttl": 10800,
        "rrset_values": ["10 spool.mail.gandi.net.", "50 fb.mail.gandi.net."],
        "rrset_href": format!("{base}/domains/example.com/records/%40/MX"),
    })));
    let page = get(&fake, "/domains/example.com/records?page=2&per_page=3");
    assert_eq!(page.json().as_array().unwrap().len(), 3);
    assert_eq!(page.header("Total-Count"), Some("8"));
    assert_eq!(
        page.header("Link").unwrap(),
        format!(
            "<{base}/domains/example.com/records?page=3&per_page=3>; rel=\"next\", \
             <{base}/domains/example.com/records?page=3&per_page=3>; rel=\"last\""
        )
    );
    let empty = get(&fake, "/domains/example.net/records");
    assert_eq!(empty.json(), json!([]));
    assert_eq!(empty.header("Total-Count"), Some("0"));
}

#[test]
fn records_of_one_name() {
    let fake = fake();
    let answer = get(&fake, "/domains/example.com/records/home");
    assert_eq!(answer.status, 200);
    let types: Vec<String> = answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rrset_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["A", "AAAA"]);
    assert_eq!(
        get(&fake, "/domains/example.com/records/%40")
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let none = get(&fake, "/domains/example.com/records/nothere");
    none.assert_generic(404, "dns-record");
    assert_eq!(
        none.json()["message"],
        "Can't find the DNS record nothere in the zone"
    );
}

#[test]
fn single_rrset_object_with_encoded_href() {
    let fake = fake();
    let base = fake.base_url();
    let home = get(&fake, "/domains/example.com/records/home/A");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.json(),
        json!({
            "rrset_name": "home",
            "rrset_type": "A",
            "rrset_ttl": 300,
            "rrset_values": ["198.51.100.7"],
            "rrset_href": format!("{base}/domains/example.com/records/home/A"),
        })
    );
    // %40 and @ are the same name; names and types are case-insensitive.
    let apex = get(&fake, "/domains/example.com/records/%40/A");
    assert_eq!(apex.json()["rrset_name"], "@");
    assert_eq!(
        apex.json()["rrset_href"],
        format!("{base}/domains/example.com/records/%40/A")
    );
    assert_eq!(
        get(&fake, "/domains/example.com/records/@/A").json(),
        apex.json()
    );
    assert_eq!(
        get(&fake, "/domains/example.com/records/HOME/a").json(),
        home.json()
    );
    let multi = get(&fake, "/domains/example.com/records/a.b/A");
    assert_eq!(multi.json()["rrset_values"], json!(["198.51.100.8"]));
    let rr = get(&fake, "/domains/example.com/records/rr/A");
    assert_eq!(
        rr.json()["rrset_values"],
        json!(["198.51.100.20", "198.51.100.21"])
    );
}

#[test]
fn absent_rrset_is_dns_record_404_naming_it_as_requested() {
    let fake = fake();
    let answer = get(&fake, "/domains/example.com/records/Nothere/aaaa");
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.header("Content-Type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(
        answer.json(),
        json!({
            "code": 404,
            "message": "Can't find the DNS record Nothere/aaaa in the zone",
            "object": "dns-record",
            "cause": "Not Found",
        })
    );
    assert_eq!(
        get(&fake, "/domains/example.com/records/www/A").json()["message"],
        "Can't find the DNS record www/A in the zone"
    );
}

// ---- writes (§5.6–§5.9) ----

#[test]
fn put_round_trip_keeps_the_ttl_sent() {
    let fake = fake();
    let base = fake.base_url();
    let answer = put(
        &fake,
        "/domains/example.com/records/home/A",
        &json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": 900}),
    );
    assert_eq!(answer.status, 201);
    assert_eq!(
        answer.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(answer.json(), json!({"message": "DNS Record Created"}));
    assert_eq!(
        answer.header("location"),
        Some(format!("{base}/domains/example.com/records/home/A").as_str())
    );
    assert_eq!(
        fake.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 900, &["198.51.100.99"]))
    );
    let read = get(&fake, "/domains/example.com/records/home/A").json();
    assert_eq!(read["rrset_ttl"], 900);
    assert_eq!(read["rrset_values"], json!(["198.51.100.99"]));
    // Other rrsets untouched.
    assert_eq!(
        fake.rrset("example.com", "home", "AAAA").unwrap().values,
        ["2001:db8:85a3::8a2e:370:7334"]
    );
    assert_eq!(fake.rrsets("example.com").len(), 8);
}

#[test]
fn put_without_ttl_resets_it_to_10800() {
    let fake = fake();
    let answer = put(
        &fake,
        "/domains/example.com/records/home/A",
        &json!({"rrset_values": ["198.51.100.99"]}),
    );
    assert_eq!(answer.status, 201);
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().ttl,
        DEFAULT_TTL
    );
}

#[test]
fn put_replaces_all_values_creates_and_ignores_extra_fields() {
    let fake = fake();
    // One PUT replaces the round-robin pair (§4 rule 3).
    put(
        &fake,
        "/domains/example.com/records/rr/A",
        &json!({"rrset_values": ["198.51.100.22"], "rrset_ttl": 300}),
    );
    assert_eq!(
        fake.rrset("example.com", "rr", "A").unwrap().values,
        ["198.51.100.22"]
    );
    // Upsert of a new rrset; the body's name and type do not count, the path's do.
    let answer = put(
        &fake,
        "/domains/example.com/records/New/aaaa",
        &json!({
            "rrset_values": ["2001:DB8:0:0::1"],
            "rrset_ttl": 300,
            "rrset_name": "other",
            "rrset_type": "A",
            "comment": "ignored",
        }),
    );
    assert_eq!(answer.status, 201);
    assert!(
        answer
            .header("location")
            .unwrap()
            .ends_with("/domains/example.com/records/new/AAAA")
    );
    // Stored in the compressed lower-case form the API returns.
    assert_eq!(
        fake.rrset("example.com", "new", "AAAA"),
        Some(Rrset::new("new", "AAAA", 300, &["2001:db8::1"]))
    );
    assert_eq!(fake.rrset("example.com", "other", "A"), None);
    // Identical PUT is still 201.
    let again = put(
        &fake,
        "/domains/example.com/records/new/AAAA",
        &json!({"rrset_values": ["2001:db8::1"], "rrset_ttl": 300}),
    );
    assert_eq!(again.status, 201);
}

#[test]
fn apex_written_through_percent_40() {
    let fake = fake();
    let answer = put(
        &fake,
        "/domains/example.com/records/%40/A",
        &json!({"rrset_values": ["203.0.113.11"], "rrset_ttl": 600}),
    );
    assert_eq!(answer.status, 201);
    assert!(
        answer
            .header("location")
            .unwrap()
            .ends_with("/records/%40/A")
    );
    assert_eq!(
        fake.rrset("example.com", "@", "A").unwrap().values,
        ["203.0.113.11"]
    );
    assert_eq!(fake.rrset("example.com", "%40", "A"), None);
}

#[test]
fn txt_values_are_quoted_unless_already_quoted() {
    let fake = fake();
    put(
        &fake,
        "/domains/example.com/records/_acme-challenge.www/TXT",
        &json!({"rrset_values": ["challengetoken", "\"kept as is\""], "rrset_ttl": 300}),
    );
    assert_eq!(
        fake.rrset("example.com", "_acme-challenge.www", "TXT")
            .unwrap()
            .values,
        ["\"challengetoken\"", "\"kept as is\""]
    );
}

#[test]
fn ttl_bounds_are_validated() {
    let fake = fake();
    let path = "/domains/example.com/records/home/A";
    let body = |ttl: Value| json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": ttl});
    put(&fake, path, &body(json!(60))).assert_invalid(&[(
        "body",
        "rrset_ttl",
        "60 is less than minimum value 300",
    )]);
    put(&fake, path, &body(json!(2_629_800))).assert_invalid(&[(
        "body",
        "rrset_ttl",
        "2629800 is greater than maximum value 2592000",
    )]);
    put(&fake, path, &body(json!(-1))).assert_invalid(&[(
        "body",
        "rrset_ttl",
        "-1 is less than minimum value 300",
    )]);
    put(&fake, path, &body(json!(u64::MAX))).assert_invalid(&[(
        "body",
        "rrset_ttl",
        "18446744073709551615 is greater than maximum value 2592000",
    )]);
    put(&fake, path, &body(json!("300"))).assert_invalid(&[(
        "body",
        "rrset_ttl",
        "\"300\" is not of type 'integer'",
    )]);
    put(&fake, path, &body(json!(300.5))).assert_invalid(&[(
        "body",
        "rrset_ttl",
        "300.5 is not of type 'integer'",
    )]);
    put(&fake, path, &body(Value::Null)).assert_invalid(&[(
        "body",
        "rrset_ttl",
        "null is not of type 'integer'",
    )]);
    // The bounds themselves are fine.
    assert_eq!(put(&fake, path, &body(json!(300))).status, 201);
    assert_eq!(put(&fake, path, &body(json!(2_592_000))).status, 201);
    assert_eq!(fake.rrset("example.com", "home", "A").unwrap().ttl, MAX_TTL);
}

#[test]
fn values_are_validated() {
    let fake = fake();
    let a = "/domains/example.com/records/home/A";
    let aaaa = "/domains/example.com/records/home/AAAA";
    let values = |v: Value| json!({"rrset_values": v, "rrset_ttl": 300});
    put(&fake, a, &json!({"rrset_ttl": 300})).assert_invalid(&[(
        "body",
        "rrset_values",
        "Required",
    )]);
    put(&fake, a, &values(json!([]))).assert_invalid(&[(
        "body",
        "rrset_values",
        "[] is too short: at least 1 value is required",
    )]);
    put(&fake, a, &values(json!("198.51.100.99"))).assert_invalid(&[(
        "body",
        "rrset_values",
        "\"198.51.100.99\" is not of type 'array'",
    )]);
    put(&fake, a, &values(json!([5]))).assert_invalid(&[(
        "body",
        "rrset_values",
        "5 is not of type 'string'",
    )]);
    for bad in [
        "1.2.3",
        "198.51.100.256",
        "2001:db8::1",
        " 198.51.100.9",
        "010.1.1.1",
        "",
    ] {
        let answer = put(&fake, a, &values(json!([bad])));
        assert_eq!(answer.status, 400, "{bad:?}");
        assert_eq!(answer.json()["errors"][0]["name"], "rrset_values");
    }
    put(&fake, a, &values(json!(["198.51.100.9", "1.2.3"]))).assert_invalid(&[(
        "body",
        "rrset_values",
        "'1.2.3' is not a valid IPv4 address",
    )]);
    put(&fake, aaaa, &values(json!(["198.51.100.9"]))).assert_invalid(&[(
        "body",
        "rrset_values",
        "'198.51.100.9' is not a valid IPv6 address",
    )]);
    put(&fake, aaaa, &values(json!(["2001:db8::g"]))).assert_invalid(&[(
        "body",
        "rrset_values",
        "'2001:db8::g' is not a valid IPv6 address",
    )]);
    // All problems are reported together.
    put(&fake, a, &json!({"rrset_values": ["x"], "rrset_ttl": 60})).assert_invalid(&[
        ("body", "rrset_ttl", "60 is less than minimum value 300"),
        ("body", "rrset_values", "'x' is not a valid IPv4 address"),
    ]);
    // Nothing was stored by any of them.
    assert_eq!(
        fake.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["198.51.100.7"]))
    );
    assert_eq!(
        fake.rrset("example.com", "home", "AAAA").unwrap().values,
        ["2001:db8:85a3::8a2e:370:7334"]
    );
}

#[test]
fn body_must_be_a_json_object() {
    let fake = fake();
    let auth = bearer();
    let url = format!("{}/domains/example.com/records/home/A", fake.base_url());
    for body in ["", "{\"rrset_values\": [", "not json"] {
        let answer = send(
            "PUT",
            &url,
            &[("Authorization", &auth), ("Content-Type", JSON)],
            Some(body),
        );
        assert_eq!(answer.status, 400, "{body:?}");
        assert_eq!(answer.json()["errors"][0]["location"], "body");
        assert_eq!(answer.json()["errors"][0]["name"], "body");
    }
    put(
        &fake,
        "/domains/example.com/records/home/A",
        &json!(["198.51.100.99"]),
    )
    .assert_invalid(&[(
        "body",
        "body",
        "[\"198.51.100.99\"] is not of type 'object'",
    )]);
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().values,
        ["198.51.100.7"]
    );
}

#[test]
fn names_and_types_are_validated_on_write() {
    let fake = fake();
    let body = json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": 300});
    put(&fake, "/domains/example.com/records/bad%20name/A", &body).assert_invalid(&[(
        "path",
        "rrset_name",
        "'bad name': invalid hostname",
    )]);
    put(&fake, "/domains/example.com/records/a..b/A", &body).assert_invalid(&[(
        "path",
        "rrset_name",
        "'a..b': invalid hostname",
    )]);
    put(&fake, "/domains/example.com/records/home/FOO", &body).assert_invalid(&[(
        "path",
        "rrset_type",
        "'FOO' is not a supported record type",
    )]);
    put(
        &fake,
        "/domains/example.com/records/www/ALIAS",
        &json!({"rrset_values": ["target.example.net."], "rrset_ttl": 300}),
    )
    .assert_invalid(&[(
        "path",
        "rrset_name",
        "only '@' is allowed for ALIAS records (param: www)",
    )]);
    // Wildcards and underscores are names like any other.
    for name in ["*", "*.sub", "_dmarc", "a-b.c_d"] {
        let path = format!("/domains/example.com/records/{name}/A");
        assert_eq!(put(&fake, &path, &body).status, 201, "{name}");
    }
}

#[test]
fn content_type_json_is_required_on_writes() {
    let fake = fake();
    let auth = bearer();
    let url = format!("{}/domains/example.com/records/home/A", fake.base_url());
    let body = r#"{"rrset_values":["198.51.100.99"],"rrset_ttl":300}"#;
    // ureq sends no Content-Type for a &str body unless told to.
    send("PUT", &url, &[("Authorization", &auth)], Some(body)).assert_invalid(&[(
        "header",
        "Content-Type",
        "'' is not a supported content type, use 'application/json'",
    )]);
    for wrong in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
    ] {
        let answer = send(
            "PUT",
            &url,
            &[("Authorization", &auth), ("Content-Type", wrong)],
            Some(body),
        );
        assert_eq!(answer.status, 400, "{wrong}");
        assert_eq!(answer.json()["errors"][0]["name"], "Content-Type");
    }
    for post in [
        "/domains/example.com/records",
        "/domains/example.com/records/x/A",
    ] {
        let answer = send(
            "POST",
            &format!("{}{post}", fake.base_url()),
            &[("Authorization", &auth), ("Content-Type", "text/plain")],
            Some(body),
        );
        assert_eq!(answer.status, 400, "{post}");
    }
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().values,
        ["198.51.100.7"]
    );
    // Parameters and case do not matter.
    let ok = send(
        "PUT",
        &url,
        &[
            ("Authorization", &auth),
            ("Content-Type", "Application/JSON; charset=UTF-8"),
        ],
        Some(body),
    );
    assert_eq!(ok.status, 201);
}

#[test]
fn post_creates_and_conflicts_when_present() {
    let fake = fake();
    let base = fake.base_url();
    // §5.7: name and type in the body.
    let new = json!({"rrset_name": "Office", "rrset_type": "a", "rrset_ttl": 600,
                     "rrset_values": ["198.51.100.30"]});
    let created = write(&fake, "POST", "/domains/example.com/records", &new);
    assert_eq!(created.status, 201);
    assert_eq!(created.json(), json!({"message": "DNS Record Created"}));
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/domains/example.com/records/office/A").as_str())
    );
    assert_eq!(
        fake.rrset("example.com", "office", "A"),
        Some(Rrset::new("office", "A", 600, &["198.51.100.30"]))
    );
    let conflict = write(&fake, "POST", "/domains/example.com/records", &new);
    conflict.assert_generic(409, "dns-record");
    assert_eq!(conflict.json()["cause"], "Conflict");
    write(
        &fake,
        "POST",
        "/domains/example.com/records",
        &json!({"rrset_values": ["198.51.100.30"]}),
    )
    .assert_invalid(&[
        ("body", "rrset_type", "Required"),
        ("body", "rrset_name", "Required"),
    ]);
    // §5.8: name and type in the path; no TTL means 10800 here too.
    let path = "/domains/example.com/records/lab/AAAA";
    let body = json!({"rrset_values": ["2001:db8::30"]});
    assert_eq!(write(&fake, "POST", path, &body).status, 201);
    assert_eq!(
        fake.rrset("example.com", "lab", "AAAA").unwrap().ttl,
        10_800
    );
    write(&fake, "POST", path, &body).assert_generic(409, "dns-record");
    write(
        &fake,
        "POST",
        "/domains/example.com/records/home/A",
        &json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": 300}),
    )
    .assert_generic(409, "dns-record");
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().values,
        ["198.51.100.7"]
    );
}

#[test]
fn delete_single_rrset_is_204_then_404() {
    let fake = fake();
    let auth = bearer();
    let url = format!("{}/domains/example.com/records/home/AAAA", fake.base_url());
    let answer = send("DELETE", &url, &[("Authorization", &auth)], None);
    assert_eq!(answer.status, 204);
    assert_eq!(answer.body, "");
    assert_eq!(fake.rrset("example.com", "home", "AAAA"), None);
    assert!(fake.rrset("example.com", "home", "A").is_some());
    send("DELETE", &url, &[("Authorization", &auth)], None).assert_generic(404, "dns-record");
    // The broad forms really are broad.
    let name = format!("{}/domains/example.com/records/%40", fake.base_url());
    assert_eq!(
        send("DELETE", &name, &[("Authorization", &auth)], None).status,
        204
    );
    assert!(fake.rrsets("example.com").iter().all(|r| r.name != "@"));
    let zone = format!("{}/domains/example.com/records", fake.base_url());
    assert_eq!(
        send("DELETE", &zone, &[("Authorization", &auth)], None).status,
        204
    );
    assert!(fake.rrsets("example.com").is_empty());
    assert_eq!(get(&fake, "/domains/example.com").status, 200);
}

// ---- request log ----

#[test]
fn requests_are_recorded_without_secrets() {
    let fake = fake();
    fake.add_api_key(API_KEY);
    let base = fake.base_url();
    let auth = bearer();
    send(
        "GET",
        &format!("{base}/domains?per_page=500"),
        &[
            ("Authorization", &auth),
            ("Accept", JSON),
            ("User-Agent", "ddns-cgi/0.1.0"),
        ],
        None,
    );
    put(
        &fake,
        "/domains/example.com/records/%40/A",
        &json!({"rrset_values": ["203.0.113.11"], "rrset_ttl": 600}),
    );
    send(
        "GET",
        &format!("{base}/domains/example.com"),
        &[("Authorization", &format!("Apikey {API_KEY}"))],
        None,
    );
    send(
        "GET",
        &format!("{base}/domains/example.com"),
        &[("X-Api-Key", API_KEY)],
        None,
    );
    send(
        "GET",
        &format!("{base}/domains/example.com"),
        &[("Authorization", PAT)],
        None,
    );
    let log = fake.requests();
    assert_eq!(log.len(), 5);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/v5/livedns/domains?per_page=500");
    assert_eq!(log[0].auth_scheme.as_deref(), Some("Bearer"));
    assert_eq!(log[0].status, 200);
    let header = |r: &ApiRequest, name: &str| {
        r.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header(&log[0], "Accept").as_deref(), Some(JSON));
    assert_eq!(
        header(&log[0], "User-Agent").as_deref(),
        Some("ddns-cgi/0.1.0")
    );
    assert_eq!(
        header(&log[0], "Authorization").as_deref(),
        Some("Bearer ***")
    );
    assert_eq!(log[1].method, "PUT");
    assert_eq!(log[1].path, "/v5/livedns/domains/example.com/records/%40/A");
    assert_eq!(log[1].content_type.as_deref(), Some(JSON));
    assert_eq!(
        serde_json::from_str::<Value>(&log[1].body).unwrap(),
        json!({"rrset_values": ["203.0.113.11"], "rrset_ttl": 600})
    );
    assert_eq!(log[1].status, 201);
    assert_eq!(log[2].auth_scheme.as_deref(), Some("Apikey"));
    assert_eq!(log[3].auth_scheme, None);
    assert_eq!(log[3].status, 401);
    assert_eq!(header(&log[3], "X-Api-Key").as_deref(), Some("***"));
    assert_eq!(log[4].auth_scheme.as_deref(), Some("(malformed)"));
    let dump = format!("{log:?}");
    assert!(!dump.contains(PAT) && !dump.contains(API_KEY), "{dump}");
    assert_eq!(fake.writes().len(), 1);

    fake.clear_requests();
    assert!(fake.requests().is_empty());
    get(&fake, "/domains/nowhere.example");
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(fake.requests()[0].status, 404);
    assert!(fake.writes().is_empty());
}

// ---- faults and latency ----

#[test]
fn fault_429_and_html_500() {
    let fake = fake();
    fake.set_fault(GandiFault::Status429);
    let limited = get(&fake, "/domains/example.com/records/home/A");
    limited.assert_generic(429, "HTTPTooManyRequests");
    assert_eq!(limited.json()["cause"], "Too Many Requests");

    fake.set_fault(GandiFault::Status500Html);
    let html = put(
        &fake,
        "/domains/example.com/records/home/A",
        &json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": 300}),
    );
    assert_eq!(html.status, 500);
    assert_eq!(html.header("Content-Type"), Some("text/html"));
    assert!(html.body.starts_with('<'));
    assert!(serde_json::from_str::<Value>(&html.body).is_err());

    fake.set_fault(GandiFault::None);
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().values,
        ["198.51.100.7"]
    );
    assert_eq!(get(&fake, "/domains/example.com").status, 200);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 500, 200]);
}

#[test]
fn fault_not_json_and_truncated_json() {
    let fake = fake();
    fake.set_fault(GandiFault::NotJson);
    let garbage = get(&fake, "/domains/example.com/records/home/A");
    assert_eq!(garbage.status, 200);
    assert!(serde_json::from_str::<Value>(&garbage.body).is_err());
    let body = json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": 300});
    put(&fake, "/domains/example.com/records/home/A", &body);
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().values,
        ["198.51.100.7"]
    );

    fake.set_fault(GandiFault::TruncatedJson);
    let cut = get(&fake, "/domains/example.com/records/home/A");
    assert_eq!(cut.status, 200);
    assert!(!cut.body.is_empty());
    assert!(cut.body.starts_with('{'));
    assert!(serde_json::from_str::<Value>(&cut.body).is_err());
    // The write behind a truncated answer did happen.
    let written = put(&fake, "/domains/example.com/records/home/A", &body);
    assert_eq!(written.status, 201);
    assert!(serde_json::from_str::<Value>(&written.body).is_err());
    assert_eq!(
        fake.rrset("example.com", "home", "A").unwrap().values,
        ["198.51.100.99"]
    );
}

#[test]
fn fault_fail_writes_keeps_reads_working() {
    let fake = fake();
    fake.set_fault(GandiFault::FailWrites(503));
    let body = json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": 300});
    put(&fake, "/domains/example.com/records/home/A", &body)
        .assert_generic(503, "HTTPServiceUnavailable");
    write(&fake, "POST", "/domains/example.com/records/new/A", &body)
        .assert_generic(503, "HTTPServiceUnavailable");
    let auth = bearer();
    send(
        "DELETE",
        &format!("{}/domains/example.com/records/home/A", fake.base_url()),
        &[("Authorization", &auth)],
        None,
    )
    .assert_generic(503, "HTTPServiceUnavailable");
    assert_eq!(
        fake.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["198.51.100.7"]))
    );
    assert_eq!(fake.rrset("example.com", "new", "A"), None);
    assert_eq!(
        get(&fake, "/domains/example.com/records/home/A").status,
        200
    );

    fake.set_fault(GandiFault::FailWrites(500));
    put(&fake, "/domains/example.com/records/home/A", &body)
        .assert_generic(500, "HTTPInternalServerError");
    assert_eq!(
        fake.writes().iter().map(|r| r.status).collect::<Vec<_>>(),
        [503, 503, 503, 500]
    );
}

#[test]
fn fault_echo_and_saying_answer_the_generic_body_and_store_nothing() {
    let fake = fake();
    fake.set_fault(GandiFault::EchoCredential(401));
    let body = json!({"rrset_values": ["198.51.100.99"], "rrset_ttl": 300});
    let answer = put(&fake, "/domains/example.com/records/home/A", &body);
    answer.assert_generic(401, "HTTPUnauthorized");
    assert_eq!(
        answer.json()["message"],
        format!(
            "Authorization header Bearer {PAT} (as received: Bearer%20pat%5F{}) refused",
            &PAT[4..]
        )
    );
    fake.set_fault(GandiFault::Saying(400, "bad\u{1b}[31m\u{8}".into()));
    let answer = get(&fake, "/domains/example.com/records/home/A");
    answer.assert_generic(400, "HTTPBadRequest");
    assert_eq!(answer.json()["message"], "bad\u{1b}[31m\u{8}");
    assert!(answer.body.contains("bad\\u001b[31m\\b"), "{}", answer.body);
    assert_eq!(
        fake.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["198.51.100.7"]))
    );
    assert_eq!(
        fake.requests().iter().map(|r| r.status).collect::<Vec<_>>(),
        [401, 400]
    );
}

#[test]
fn fault_redirect_points_elsewhere_and_stores_nothing() {
    let fake = fake();
    fake.set_fault(GandiFault::Redirect(
        308,
        "http://127.0.0.1:9/v5/livedns".into(),
    ));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let auth = bearer();
    let answer = try_send(
        &agent,
        "PUT",
        &format!("{}/domains/example.com/records/home/A", fake.base_url()),
        &[("Authorization", &auth), ("Content-Type", JSON)],
        Some(r#"{"rrset_values":["198.51.100.99"],"rrset_ttl":300}"#),
    )
    .unwrap();
    assert_eq!(answer.status, 308);
    assert_eq!(
        answer.header("Location"),
        Some("http://127.0.0.1:9/v5/livedns")
    );
    assert_eq!(
        fake.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["198.51.100.7"]))
    );
    assert_eq!(fake.writes()[0].status, 308);
}

#[test]
fn fault_hang_outlasts_a_client_timeout_then_answers() {
    let fake = fake();
    fake.set_fault(GandiFault::Hang(Duration::from_millis(400)));
    let impatient = agent(Duration::from_millis(80));
    let auth = bearer();
    let started = Instant::now();
    let result = try_send(
        &impatient,
        "PUT",
        &format!("{}/domains/example.com/records/home/A", fake.base_url()),
        &[("Authorization", &auth), ("Content-Type", JSON)],
        Some(r#"{"rrset_values":["198.51.100.99"],"rrset_ttl":300}"#),
    );
    assert!(result.is_err(), "{result:?}");
    assert!(started.elapsed() < Duration::from_millis(300));
    // In flight: recorded, not yet answered.
    assert_eq!(fake.requests()[0].status, 0);
    // A patient client gets the normal answer.
    let answer = get(&fake, "/domains/example.com");
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    // The abandoned write landed anyway.
    let deadline = Instant::now() + Duration::from_secs(2);
    while fake.rrset("example.com", "home", "A").unwrap().values != ["198.51.100.99"] {
        assert!(Instant::now() < deadline, "the hung write never landed");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn latency_delays_without_serialising() {
    let fake = fake();
    fake.set_latency(Duration::from_millis(100));
    let base = fake.base_url();
    let started = Instant::now();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let url = format!("{base}/domains/example.com/records/home/A");
            std::thread::spawn(move || {
                send("GET", &url, &[("Authorization", &bearer())], None).status
            })
        })
        .collect();
    for worker in workers {
        assert_eq!(worker.join().unwrap(), 200);
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
    // One after the other would take 800 ms.
    assert!(
        elapsed < Duration::from_millis(600),
        "serialised: {elapsed:?}"
    );
    assert_eq!(fake.requests().len(), 8);
}

// ---- fixture and setup helpers ----

#[test]
fn fixture_zone_matches_the_spec() {
    let (zone, rrsets) = fixture_zone();
    assert_eq!(zone, "example.com");
    assert_eq!(rrsets.len(), 8);
    assert!(rrsets.contains(&Rrset::new("@", "A", 600, &["203.0.113.10"])));
    assert!(rrsets.contains(&Rrset::new(
        "@",
        "TXT",
        10_800,
        &["\"v=spf1 include:_mailcust.gandi.net ?all\""]
    )));
    assert!(rrsets.contains(&Rrset::new(
        "rr",
        "A",
        300,
        &["198.51.100.20", "198.51.100.21"]
    )));
    let fake = fake();
    let stored = fake.rrsets("example.com");
    let keys: Vec<(&str, &str)> = stored
        .iter()
        .map(|r| (r.name.as_str(), r.rr_type.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("@", "A"),
            ("@", "MX"),
            ("@", "TXT"),
            ("a.b", "A"),
            ("home", "A"),
            ("home", "AAAA"),
            ("rr", "A"),
            ("www", "CNAME"),
        ]
    );
    assert!(fake.rrsets("nowhere.example").is_empty());
}

#[test]
fn setup_helpers_edit_state_behind_the_api() {
    let fake = FakeGandi::start(&[PAT], vec![]);
    assert_eq!(
        fake.base_url(),
        format!("http://127.0.0.1:{}/v5/livedns", fake.port())
    );
    get(&fake, "/domains/example.org").assert_generic(404, "HTTPNotFound");
    fake.add_zone(
        "Example.ORG",
        vec![Rrset::new("Home", "a", 300, &["192.0.2.1"])],
    );
    assert_eq!(
        get(&fake, "/domains/example.org/records/home/A").json()["rrset_values"],
        json!(["192.0.2.1"])
    );
    assert!(fake.put_rrset("example.org", Rrset::new("home", "A", 300, &["192.0.2.2"])));
    assert!(!fake.put_rrset(
        "nowhere.example",
        Rrset::new("home", "A", 300, &["192.0.2.2"])
    ));
    assert_eq!(
        fake.rrset("EXAMPLE.org", "HOME", "a").unwrap().values,
        ["192.0.2.2"]
    );
    assert!(fake.remove_rrset("example.org", "home", "A").is_some());
    get(&fake, "/domains/example.org/records/home/A").assert_generic(404, "dns-record");
}

#[test]
fn start_on_a_chosen_port() {
    let first = FakeGandi::start(&[PAT], vec![fixture_zone()]);
    // The port is taken: binding it again fails instead of panicking.
    assert!(FakeGandi::start_on(first.port(), &[PAT], vec![]).is_err());
    let port = first.port();
    drop(first);
    let again = match FakeGandi::start_on(port, &[PAT], vec![fixture_zone()]) {
        Ok(fake) => fake,
        // Another test may have grabbed the freed port meanwhile; nothing to check then.
        Err(_) => return,
    };
    assert_eq!(again.port(), port);
    assert_eq!(get(&again, "/domains/example.com").status, 200);
}

//! The fake gateway over real HTTP: each test starts one on a free port and talks to it with
//! ureq, checking answers against the documents of the spec byte for byte where it has them.

use std::time::{Duration, Instant};

use super::xml::{Element, parse_document};
use super::*;

const USER: &str = "1234567";
const PASSWORD: &str = "s3cret&pass";
const CONTEXT: &str = "10";
const SECRET: &str = "JBSWY3DPEHPK3PXP";
const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>";

fn user() -> SchlundUser {
    SchlundUser::new(USER, PASSWORD, CONTEXT)
}

fn fake() -> FakeSchlund {
    FakeSchlund::start(vec![user()], &[FIXTURE_ZONE])
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Sends a raw request; returns status, Content-Type and body.
fn send(fake: &FakeSchlund, method: &str, path: &str, body: &str) -> (u16, String, String) {
    let url = format!("http://127.0.0.1:{}{path}", fake.port());
    let agent = agent();
    let response = match method {
        "POST" => agent
            .post(&url)
            .content_type("text/xml; charset=utf-8")
            .send(body),
        "GET" => agent.get(&url).call(),
        "PUT" => agent.put(&url).send(body),
        other => panic!("unsupported method {other}"),
    }
    .expect("the fake answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response.into_body().read_to_string().expect("a text body");
    (status, content_type, body)
}

/// POSTs an XML document and returns the answer, which must come with HTTP 200.
fn post(fake: &FakeSchlund, body: &str) -> String {
    let (status, _, answer) = send(fake, "POST", "/", body);
    assert_eq!(status, 200, "{answer}");
    answer
}

fn auth(token: Option<&str>) -> Element {
    auth_as(USER, PASSWORD, CONTEXT, token)
}

fn auth_as(user: &str, password: &str, context: &str, token: Option<&str>) -> Element {
    let mut children = vec![
        Element::leaf("user", user),
        Element::leaf("password", password),
        Element::leaf("context", context),
    ];
    children.extend(token.map(|t| Element::leaf("token", t)));
    Element::parent("auth", children)
}

/// A request document, built (and escaped) with the element tree rather than by formatting.
fn request(auth: Element, language: Option<&str>, task: Element) -> String {
    let mut children = vec![auth];
    children.extend(language.map(|l| Element::leaf("language", l)));
    children.push(task);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
        Element::parent("request", children).to_xml()
    )
}

fn task(code: &str, mut children: Vec<Element>) -> Element {
    children.insert(0, Element::leaf("code", code));
    Element::parent("task", children)
}

fn zone_ref(name: &str, system_ns: Option<&str>) -> Element {
    let mut children = vec![Element::leaf("name", name)];
    children.extend(system_ns.map(|ns| Element::leaf("system_ns", ns)));
    Element::parent("zone", children)
}

fn inquire(name: &str) -> String {
    request(
        auth(None),
        Some("en"),
        task("0205", vec![zone_ref(name, None)]),
    )
}

fn record(element: &str, name: &str, ttl: Option<&str>, kind: &str, value: &str) -> Element {
    let mut children = vec![Element::leaf("name", name)];
    children.extend(ttl.map(|t| Element::leaf("ttl", t)));
    children.push(Element::leaf("type", kind));
    children.push(Element::leaf("value", value));
    Element::parent(element, children)
}

/// Replaces the stid by `STID` after checking its format `YYYYMMDD-app3-NNNNNN`.
fn without_stid(answer: &str) -> String {
    let start = answer.find("<stid>").expect("an stid") + "<stid>".len();
    let end = answer.find("</stid>").expect("an stid");
    let stid = &answer[start..end];
    let (date, rest) = stid.split_at(8);
    assert!(date.bytes().all(|b| b.is_ascii_digit()), "{stid}");
    let number = rest.strip_prefix("-app3-").expect("app3");
    assert!(
        number.len() == 6 && number.bytes().all(|b| b.is_ascii_digit()),
        "{stid}"
    );
    format!("{}STID{}", &answer[..start], &answer[end..])
}

fn parsed(answer: &str) -> Element {
    parse_document(answer).unwrap_or_else(|e| panic!("answer is not XML ({e}): {answer}"))
}

fn status(answer: &str) -> (String, String, String) {
    let root = parsed(answer);
    let text = |p: &str| root.at(p).map(|e| e.text.clone()).unwrap_or_default();
    (
        text("result/status/code"),
        text("result/status/type"),
        text("result/status/text"),
    )
}

/// `(code, object type, object value)` of the first `msg`.
fn first_msg(answer: &str) -> (String, String, String) {
    let root = parsed(answer);
    let text = |p: &str| root.at(p).map(|e| e.text.clone()).unwrap_or_default();
    (
        text("result/msg/code"),
        text("result/msg/object/type"),
        text("result/msg/object/value"),
    )
}

fn assert_error(answer: &str, status_code: &str, msg_code: &str) {
    let (code, kind, _) = status(answer);
    assert_eq!(
        (code.as_str(), kind.as_str()),
        (status_code, "error"),
        "{answer}"
    );
    assert_eq!(first_msg(answer).0, msg_code, "{answer}");
}

/// Runs `attempt` with the fake's TOTP time until the step did not change during the call,
/// so a test never straddles a 30-second boundary.
fn within_one_step(fake: &FakeSchlund, mut attempt: impl FnMut(u64) -> String) -> String {
    for _ in 0..3 {
        let before = fake.totp_time();
        let answer = attempt(before);
        if before / 30 == fake.totp_time() / 30 {
            return answer;
        }
    }
    panic!("the clock kept crossing TOTP steps");
}

#[test]
fn inquire_answers_the_fixture_document() {
    let fake = fake();
    let answer = post(&fake, &inquire("example.co.uk"));
    let expected = format!(
        "{DECL}<response><result><data>{FIXTURE_ZONE}</data><status><code>S0205</code>\
         <text>Zone information was inquired successfully.</text><type>success</type>\
         <object><type>zone</type><value>example.co.uk</value></object></status></result>\
         <stid>STID</stid></response>"
    );
    assert_eq!(without_stid(&answer), expected);
    assert!(
        answer
            .contains("<value>\"say \\\"hi\\\"\" &amp; &lt;b&gt;bold&lt;/b&gt; 'x' Grüße</value>")
    );
}

#[test]
fn round_trip_update_changes_exactly_one_leaf() {
    let fake = fake();
    let answer = post(&fake, &inquire("example.co.uk"));
    let inquired = parsed(&answer).at("result/data/zone").unwrap().clone();

    // What every working client does (spec §8): strip five elements, change one value.
    let mut sent = inquired.clone();
    sent.children.retain(|c| {
        !["created", "changed", "domainsafe", "owner", "updated_by"].contains(&c.name.as_str())
    });
    let home_a = sent
        .children
        .iter_mut()
        .find(|c| {
            c.name == "rr"
                && c.child_text("name") == Some("home")
                && c.child_text("type") == Some("A")
        })
        .unwrap();
    home_a.child_mut("value").unwrap().text = "198.51.100.99".to_string();
    let answer = post(
        &fake,
        &request(auth(None), Some("en"), task("0202", vec![sent])),
    );
    let expected = format!(
        "{DECL}<response><result><data/><status><code>S0202</code>\
         <text>Zone has been updated successfully.</text><type>success</type>\
         <object><type>zone</type><value>example.co.uk</value></object></status></result>\
         <stid>STID</stid></response>"
    );
    assert_eq!(without_stid(&answer), expected);

    let stored = fake.zone("example.co.uk").unwrap();
    assert_eq!(stored.root.children.len(), inquired.children.len());
    for (after, before) in stored.root.children.iter().zip(&inquired.children) {
        assert_eq!(after.name, before.name, "element order kept");
        match after.name.as_str() {
            "changed" => assert_ne!(after.text, before.text),
            "updated_by" => assert_eq!(
                after.to_xml(),
                "<updated_by><user>1234567</user><context>10</context></updated_by>"
            ),
            "rr" if after.child_text("name") == Some("home")
                && after.child_text("type") == Some("A") =>
            {
                assert_eq!(after.child_text("value"), Some("198.51.100.99"));
                assert_eq!(after.child_text("ttl"), Some("300"));
            }
            _ => assert_eq!(after, before),
        }
    }
    let changed = stored.text("changed").unwrap();
    assert_eq!(changed.len(), 19);
    assert!(changed.as_str() > "2024-05-17 09:12:44");
    assert_eq!(
        stored.text("created").as_deref(),
        Some("2019-03-02 14:05:10")
    );
    assert_eq!(stored.text("owner/user").as_deref(), Some("1234567"));
    assert_eq!(stored.text("domainsafe").as_deref(), Some("0"));
    assert_eq!(
        stored.rr("note", "TXT")[0].value,
        "\"say \\\"hi\\\"\" & <b>bold</b> 'x' Grüße"
    );
    assert_eq!(
        stored.rr("home", "AAAA")[0].value,
        "2001:db8:85a3::8a2e:370:7334"
    );
    assert_eq!(stored.rr("a.b", "A")[0].value, "198.51.100.8");
    assert_eq!(
        stored.free(),
        ["_sip._tcp 3600 IN SRV 10 60 5060 sip.example.co.uk."]
    );
    assert_eq!(stored.main(), Some(("203.0.113.10".into(), "600".into())));
}

/// The 0202 of spec §10.3 as printed there: indented, with a token, and a raw `"` in text.
const SPEC_0202: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<request>
  <auth>
    <user>1234567</user>
    <password>s3cret&amp;pass</password>
    <context>10</context>
    <token>TOKEN</token>
  </auth>
  <language>en</language>
  <task>
    <code>0202</code>
    <zone>
      <name>example.co.uk</name>
      <main><value>203.0.113.10</value><ttl>600</ttl></main>
      <ns_action>complete</ns_action>
      <www_include>0</www_include>
      <soa><refresh>43200</refresh><retry>7200</retry><expire>1209600</expire><ttl>86400</ttl><email>hostmaster@example.co.uk</email><default>86400</default></soa>
      <nserver><name>nsa5.schlundtech.de</name></nserver>
      <nserver><name>nsb5.schlundtech.de</name></nserver>
      <nserver><name>nsc5.schlundtech.de</name></nserver>
      <nserver><name>nsd5.schlundtech.de</name></nserver>
      <rr><name/><ttl>3600</ttl><type>AAAA</type><value>2001:db8::10</value></rr>
      <rr><name/><ttl>86400</ttl><type>MX</type><pref>10</pref><value>mx1.example.co.uk.</value></rr>
      <rr><name/><ttl>86400</ttl><type>MX</type><pref>20</pref><value>mx.backup-provider.example.net.</value></rr>
      <rr><name/><ttl>3600</ttl><type>TXT</type><value>v=spf1 mx a:mail.example.co.uk ~all</value></rr>
      <rr><name>home</name><ttl>300</ttl><type>A</type><value>198.51.100.99</value></rr>
      <rr><name>home</name><ttl>300</ttl><type>AAAA</type><value>2001:db8:85a3::8a2e:370:7334</value></rr>
      <rr><name>a.b</name><ttl>300</ttl><type>A</type><value>198.51.100.8</value></rr>
      <rr><name>www</name><ttl>3600</ttl><type>CNAME</type><value>example.co.uk.</value></rr>
      <rr><name>mx1</name><ttl>3600</ttl><type>A</type><value>203.0.113.25</value></rr>
      <rr><name>lab</name><ttl>86400</ttl><type>NS</type><value>ns1.lab-hoster.example.net.</value></rr>
      <rr><name>_dmarc</name><ttl>3600</ttl><type>TXT</type><value>v=DMARC1; p=quarantine; rua=mailto:dmarc@example.co.uk</value></rr>
      <rr><name>note</name><ttl>3600</ttl><type>TXT</type><value>"say \"hi\"" &amp; &lt;b&gt;bold&lt;/b&gt; 'x' Grüße</value></rr>
      <free>_sip._tcp 3600 IN SRV 10 60 5060 sip.example.co.uk.</free>
      <system_ns>nsa5.schlundtech.de</system_ns>
      <dnssec>0</dnssec>
      <comment/>
    </zone>
  </task>
</request>
"#;

#[test]
fn spec_update_request_with_token_is_accepted_as_printed() {
    let fake = FakeSchlund::start(vec![user().with_totp(SECRET)], &[FIXTURE_ZONE]);
    let answer = within_one_step(&fake, |now| {
        post(&fake, &SPEC_0202.replace("TOKEN", &totp_code(SECRET, now)))
    });
    assert_eq!(status(&answer).0, "S0202", "{answer}");
    let stored = fake.zone("example.co.uk").unwrap();
    let expected = FIXTURE_ZONE.replace("198.51.100.7<", "198.51.100.99<");
    let mut expected = StoredZone::parse(&expected).unwrap();
    expected.root.child_mut("changed").unwrap().text = stored.text("changed").unwrap();
    assert_eq!(stored, expected);
    assert_eq!(stored.to_xml(), expected.to_xml());

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let seen = &requests[0];
    assert_eq!(seen.task_code, "0202");
    assert_eq!(seen.zone_name.as_deref(), Some("example.co.uk"));
    assert!(seen.had_token && !seen.is_list_query);
    assert_eq!(seen.user, USER);
    assert_eq!(seen.language.as_deref(), Some("en"));
    assert_eq!(seen.status_code, "S0202");
    assert!(seen.body_redacted.contains("<password>***</password>"));
    assert!(seen.body_redacted.contains("<token>***</token>"));
    assert!(!seen.body_redacted.contains("s3cret"));
}

#[test]
fn order_whitespace_comments_content_type_and_declarations_do_not_matter() {
    let fake = fake();
    let bodies = [
        // language first, auth children reordered, comments inside task, no declaration
        "<request><language>en</language><task><!-- inquire --><zone>\n <system_ns>nsa5.schlundtech.de</system_ns>\n <name>example.co.uk</name></zone><code>0205</code></task>\
         <auth><context>10</context><password>s3cret&amp;pass</password><user>1234567</user></auth></request>",
        // single quotes, lower-case encoding
        "<?xml version='1.0' encoding='utf-8'?>\n<request>\n  <auth><user>1234567</user><password>s3cret&#38;pass</password><context>10</context></auth>\n  <task><code>0205</code><zone><name>example.co.uk</name></zone></task>\n</request>\n",
        // what lxml writes: ASCII with character references
        "<?xml version='1.0' encoding='ASCII'?>\n<request><auth><user>1234567</user><password>s3cret&#x26;pass</password><context>10</context></auth><task><code>0205</code><zone><name>example.co.uk</name></zone></task></request>",
    ];
    for body in bodies {
        assert_eq!(status(&post(&fake, body)).0, "S0205", "{body}");
    }
    for content_type in ["application/x-www-form-urlencoded", "application/xml", ""] {
        let url = fake.url();
        let request = agent().post(&url);
        let request = if content_type.is_empty() {
            request
        } else {
            request.content_type(content_type)
        };
        let mut response = request.send(bodies[0]).unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let answer = response.body_mut().read_to_string().unwrap();
        assert_eq!(status(&answer).0, "S0205", "{content_type}");
    }
}

#[test]
fn ascii_request_with_character_references_stores_decoded_text() {
    let fake = fake();
    let body = "<?xml version='1.0' encoding='ASCII'?>\n<request><auth><user>1234567</user>\
        <password>s3cret&amp;pass</password><context>10</context></auth><task><code>0202001</code>\
        <zone><name>example.co.uk</name></zone><default><rr_add><value>Gr&#252;&#223;e &amp; &lt;&#x22;&#39;&gt;</value>\
        <type>TXT</type><ttl>300</ttl><name>greet</name></rr_add></default></task></request>";
    assert_eq!(status(&post(&fake, body)).0, "S0202");
    let stored = fake.zone("example.co.uk").unwrap();
    let rr = &stored.rr("greet", "TXT")[0];
    assert_eq!(rr.value, "Grüße & <\"'>");
    assert!(stored.to_xml().contains(
        "<rr><name>greet</name><ttl>300</ttl><type>TXT</type><value>Grüße &amp; &lt;\"'&gt;</value></rr><free>"
    ));
}

#[test]
fn malformed_xml_gets_the_parser_error_document() {
    let fake = fake();
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><request><auth><user>1234567</user>\
        <password>s3cret&pass</password><context>10</context></auth>\
        <task><code>0205</code><zone><name>example.co.uk</name></zone></task></request>";
    let answer = post(&fake, body);
    let expected = format!(
        "{DECL}<response><result><msg><text>Parser error.</text><code>EF00000</code><type>error</type>\
         <object><type>XML parser</type><value>The reference to entity \"pass\" must end with the ';' delimiter.</value>\
         </object></msg><status><code>E00000</code><text>Errors occurred during processing.</text>\
         <type>error</type></status></result><stid>STID</stid></response>"
    );
    assert_eq!(without_stid(&answer), expected);
    for body in ["", "user=1&pass=2", "<request><auth>", "\u{feff}<request/>"] {
        assert_error(&post(&fake, body), "E00000", "EF00000");
    }
    let seen = fake.requests();
    assert_eq!(seen[0].task_code, "");
    assert_eq!(seen[0].status_code, "E00000");
    assert!(
        !seen[0].body_redacted.contains("s3cret"),
        "{}",
        seen[0].body_redacted
    );
}

#[test]
fn context_that_is_not_an_integer_gets_ef01000() {
    let fake = fake();
    let answer = post(
        &fake,
        &request(
            auth_as(USER, PASSWORD, "\"10\"", None),
            Some("en"),
            task("0205", vec![zone_ref("example.co.uk", None)]),
        ),
    );
    let expected = format!(
        "{DECL}<response><result><msg><text>Missing or wrong value.</text><code>EF01000</code>\
         <type>error</type><object><type>request.auth.context</type><value>\"10\"</value></object>\
         </msg><status><code>E00000</code><text>Errors occurred during processing.</text>\
         <type>error</type></status></result><stid>STID</stid></response>"
    );
    assert_eq!(without_stid(&answer), expected);
}

#[test]
fn wrong_credentials_get_ef09901() {
    let fake = fake();
    for (u, p, c) in [
        ("7654321", PASSWORD, CONTEXT),
        (USER, "s3cret", CONTEXT),
        (USER, PASSWORD, "4"),
    ] {
        let answer = post(
            &fake,
            &request(
                auth_as(u, p, c, None),
                Some("en"),
                task("0205", vec![zone_ref("example.co.uk", None)]),
            ),
        );
        assert_error(&answer, "E00000", "EF09901");
        assert_eq!(status(&answer).2, "Errors occurred during processing.");
    }
    let missing = "<request><auth><user>1234567</user><context>10</context></auth><task><code>0205</code></task></request>";
    let answer = post(&fake, missing);
    assert_error(&answer, "E00000", "EF01000");
    assert_eq!(first_msg(&answer).1, "request.auth.password");
}

#[test]
fn language_selects_english_or_german_texts() {
    let fake = fake();
    for (language, text) in [
        (Some("en"), "No such zone exists."),
        (Some("de"), "Diese Zone ist bisher nicht eingetragen."),
        (None, "Diese Zone ist bisher nicht eingetragen."),
        (Some("fr"), "Diese Zone ist bisher nicht eingetragen."),
    ] {
        let answer = post(
            &fake,
            &request(
                auth(None),
                language,
                task("0205", vec![zone_ref("example.org", None)]),
            ),
        );
        let root = parsed(&answer);
        assert_eq!(root.at("result/msg/text").unwrap().text, text);
    }
    let answer = post(
        &fake,
        &request(
            auth(None),
            None,
            task("0205", vec![zone_ref("example.co.uk", None)]),
        ),
    );
    assert_eq!(
        status(&answer).2,
        "Zoneninformationen wurden erfolgreich ermittelt."
    );
}

#[test]
fn unknown_zone_gets_ef02020_document() {
    let fake = fake();
    let answer = post(&fake, &inquire("example.org"));
    let expected = format!(
        "{DECL}<response><result><data/><msg><text>No such zone exists.</text><code>EF02020</code>\
         <type>error</type><object><type>zone</type><value>example.org</value></object></msg>\
         <status><code>E0205</code><text>Zone information could not be inquired.</text>\
         <type>error</type><object><type>zone</type><value>example.org</value></object></status>\
         </result><stid>STID</stid></response>"
    );
    assert_eq!(without_stid(&answer), expected);
    // A name server that does not match is a different zone.
    let body = request(
        auth(None),
        Some("en"),
        task(
            "0205",
            vec![zone_ref("example.co.uk", Some("nsa1.schlundtech.de"))],
        ),
    );
    assert_error(&post(&fake, &body), "E0205", "EF02020");
    let body = request(
        auth(None),
        Some("en"),
        task(
            "0205",
            vec![zone_ref("example.co.uk", Some("nsa5.schlundtech.de"))],
        ),
    );
    assert_eq!(status(&post(&fake, &body)).0, "S0205");
}

#[test]
fn same_zone_name_on_two_name_servers_needs_system_ns() {
    let other = FIXTURE_ZONE.replace(
        "<system_ns>nsa5.schlundtech.de</system_ns>",
        "<system_ns>ns1.old-hoster.example</system_ns>",
    );
    let fake = FakeSchlund::start(vec![user()], &[FIXTURE_ZONE, &other]);
    let answer = post(&fake, &inquire("example.co.uk"));
    assert_error(&answer, "E0205", "EF01000");
    assert_eq!(first_msg(&answer).1, "zone.system_ns");
    let body = request(
        auth(None),
        Some("en"),
        task(
            "0205",
            vec![zone_ref("example.co.uk", Some("ns1.old-hoster.example"))],
        ),
    );
    let answer = post(&fake, &body);
    assert_eq!(
        parsed(&answer)
            .at("result/data/zone/system_ns")
            .unwrap()
            .text,
        "ns1.old-hoster.example"
    );
    assert!(
        fake.zone_on("example.co.uk", "ns1.old-hoster.example")
            .is_some()
    );
}

fn list_query(value: &str, operator: &str, limit: Option<&str>) -> String {
    let mut view = vec![Element::leaf("children", "1")];
    view.extend(limit.map(|l| Element::leaf("limit", l)));
    let filter = Element::parent(
        "where",
        vec![
            Element::leaf("key", "name"),
            Element::leaf("operator", operator),
            Element::leaf("value", value),
        ],
    );
    request(
        auth(None),
        Some("en"),
        task("0205", vec![Element::parent("view", view), filter]),
    )
}

#[test]
fn list_query_reports_summary_and_short_entries() {
    let org = fixture_zone_named("example.org");
    let net = fixture_zone_named("example.net");
    let fake = FakeSchlund::start(vec![user()], &[FIXTURE_ZONE, &org, &net]);
    let answer = post(&fake, &list_query("example.co.uk", "eq", Some("1")));
    let expected = format!(
        "{DECL}<response><result><data><summary>1</summary><zone><changed>2024-05-17 09:12:44</changed>\
         <created>2019-03-02 14:05:10</created><name>example.co.uk</name><comment/><domainsafe>0</domainsafe>\
         <owner><user>1234567</user><context>10</context></owner><updated_by><user>1234567</user>\
         <context>10</context></updated_by><system_ns>nsa5.schlundtech.de</system_ns>\
         <ns_action>complete</ns_action></zone></data><status><code>S0205</code>\
         <text>Zone information was inquired successfully.</text><type>success</type></status>\
         </result><stid>STID</stid></response>"
    );
    assert_eq!(without_stid(&answer), expected);

    let answer = post(&fake, &list_query("co.uk", "eq", Some("1")));
    assert!(
        without_stid(&answer)
            .contains("<result><data><summary>0</summary></data><status><code>S0205</code>")
    );

    let answer = post(&fake, &list_query("example.*", "like", Some("2")));
    let data = parsed(&answer).at("result/data").unwrap().clone();
    assert_eq!(data.child_text("summary"), Some("3"));
    assert_eq!(data.children_named("zone").count(), 2);

    let seen = fake.requests();
    assert!(seen[0].is_list_query);
    assert_eq!(seen[0].zone_name.as_deref(), Some("example.co.uk"));
    assert_eq!(seen[0].status_code, "S0205");
}

fn update_with(zone: Element) -> String {
    request(auth(None), Some("en"), task("0202", vec![zone]))
}

fn fixture_without_server_elements() -> Element {
    let mut zone = StoredZone::parse(FIXTURE_ZONE).unwrap().root;
    zone.children.retain(|c| {
        !["created", "changed", "domainsafe", "owner", "updated_by"].contains(&c.name.as_str())
    });
    zone
}

#[test]
fn update_refuses_server_written_elements() {
    let fake = fake();
    let full = StoredZone::parse(FIXTURE_ZONE).unwrap().root;
    for element in [
        "created",
        "changed",
        "domainsafe",
        "owner",
        "updated_by",
        "updated",
    ] {
        let mut zone = fixture_without_server_elements();
        let el = full
            .child(element)
            .cloned()
            .unwrap_or_else(|| Element::leaf("updated", "2024-05-17 09:12:44"));
        zone.children.push(el);
        let answer = post(&fake, &update_with(zone));
        assert_error(&answer, "E0202", "EF09904");
        assert_eq!(first_msg(&answer).2, element, "{answer}");
    }
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
}

#[test]
fn update_refuses_a_zone_that_is_not_whole() {
    let fake = fake();
    let without = |element: &str| {
        let mut zone = fixture_without_server_elements();
        zone.children.retain(|c| c.name != element);
        zone
    };
    let with_more = |element: &str, extra: usize| {
        let mut zone = fixture_without_server_elements();
        let copy = zone.child(element).cloned().unwrap();
        for _ in 0..extra {
            zone.children.push(copy.clone());
        }
        zone
    };
    let cases = [
        (without("soa"), "zone.soa", "0"),
        (without("nserver"), "zone.nserver", "0"),
        (without("main"), "zone.main", "0"),
        (with_more("soa", 1), "zone.soa", "2"),
        (with_more("main", 1), "zone.main", "2"),
        // The fixture has four.
        (with_more("nserver", 4), "zone.nserver", "8"),
    ];
    for (zone, object, value) in cases {
        let answer = post(&fake, &update_with(zone));
        assert_error(&answer, "E0202", "EF09904");
        let (_, kind, count) = first_msg(&answer);
        assert_eq!((kind.as_str(), count.as_str()), (object, value), "{answer}");
    }
    // The fixture's `www` is a CNAME: nothing may join it.
    let mut zone = fixture_without_server_elements();
    zone.children
        .push(record("rr", "WWW", Some("300"), "A", "192.0.2.9"));
    let answer = post(&fake, &update_with(zone));
    assert_error(&answer, "E0202", "EF09904");
    assert_eq!(first_msg(&answer).1, "rr.name", "{answer}");
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
    // A zone not served by the gateway's name servers may leave `main` out.
    let mut zone = without("main");
    zone.child_mut("ns_action").unwrap().text = "none".into();
    assert_eq!(status(&post(&fake, &update_with(zone))).0, "S0202");
}

#[test]
fn update_refuses_bad_records() {
    let fake = fake();
    let cases: Vec<(Element, &str)> = vec![
        (
            Element::parent(
                "rr",
                vec![
                    Element::leaf("name", "x"),
                    Element::leaf("value", "192.0.2.1"),
                ],
            ),
            "rr.type",
        ),
        (
            Element::parent(
                "rr",
                vec![Element::leaf("name", "x"), Element::leaf("type", "A")],
            ),
            "rr.value",
        ),
        (record("rr", "x", Some("300"), "A", ""), "rr.value"),
        (
            record("rr", "", Some("300"), "MX", "mx.example.net."),
            "rr.pref",
        ),
        (record("rr", "x", Some("59"), "A", "192.0.2.1"), "rr.ttl"),
        (record("rr", "x", Some("ten"), "A", "192.0.2.1"), "rr.ttl"),
        (
            record("rr", "x", Some("300"), "A", "192.0.2.256"),
            "rr.value",
        ),
        (
            record("rr", "x", Some("300"), "A", "2001:db8::1"),
            "rr.value",
        ),
        (
            record("rr", "x", Some("300"), "AAAA", "192.0.2.1"),
            "rr.value",
        ),
        (
            record("rr", "x", Some("300"), "AAAA", "2001:db8::g"),
            "rr.value",
        ),
        (
            Element::parent(
                "main",
                vec![
                    Element::leaf("value", "2001:db8::1"),
                    Element::leaf("ttl", "600"),
                ],
            ),
            "main.value",
        ),
        (
            Element::parent(
                "main",
                vec![
                    Element::leaf("value", "192.0.2.1"),
                    Element::leaf("ttl", "30"),
                ],
            ),
            "main.ttl",
        ),
    ];
    for (bad, object) in cases {
        let mut zone = fixture_without_server_elements();
        zone.children
            .retain(|c| c.name != bad.name || bad.name == "rr");
        zone.children.push(bad);
        let answer = post(&fake, &update_with(zone));
        assert_error(&answer, "E0202", "EF09904");
        assert_eq!(first_msg(&answer).1, object, "{answer}");
    }
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
}

#[test]
fn update_needs_a_known_zone_name() {
    let fake = fake();
    let mut zone = fixture_without_server_elements();
    zone.children.retain(|c| c.name != "name");
    let answer = post(&fake, &update_with(zone));
    assert_error(&answer, "E0202", "EF01000");
    assert_eq!(first_msg(&answer).1, "zone.name");

    let mut zone = fixture_without_server_elements();
    zone.child_mut("system_ns").unwrap().text = "nsa1.schlundtech.de".into();
    assert_error(&post(&fake, &update_with(zone)), "E0202", "EF02020");

    let mut zone = fixture_without_server_elements();
    zone.child_mut("name").unwrap().text = "example.org".into();
    assert_error(&post(&fake, &update_with(zone)), "E0202", "EF02020");
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
}

#[test]
fn update_deletes_what_is_left_out_and_keeps_unknown_elements() {
    let fake = fake();
    let mut zone = fixture_without_server_elements();
    zone.children
        .retain(|c| !(c.name == "rr" && c.child_text("name") == Some("lab")));
    zone.children.retain(|c| c.name != "free");
    zone.children.insert(
        3,
        Element::parent("x_unknown", vec![Element::leaf("a", " 1 ")]),
    );
    assert_eq!(status(&post(&fake, &update_with(zone))).0, "S0202");
    let stored = fake.zone("example.co.uk").unwrap();
    assert!(stored.rr("lab", "NS").is_empty());
    assert!(stored.free().is_empty());
    assert_eq!(stored.text("x_unknown/a").as_deref(), Some(" 1 "));
    let names = stored.element_names();
    assert_eq!(
        &names[..6],
        [
            "changed",
            "created",
            "name",
            "main",
            "ns_action",
            "x_unknown"
        ]
    );
    assert_eq!(
        &names[names.len() - 6..],
        [
            "system_ns",
            "domainsafe",
            "dnssec",
            "owner",
            "updated_by",
            "comment"
        ]
    );
}

fn bulk(changes: Vec<Element>) -> String {
    request(
        auth(None),
        Some("en"),
        task(
            "0202001",
            vec![
                zone_ref("example.co.uk", Some("nsa5.schlundtech.de")),
                Element::parent("default", changes),
            ],
        ),
    )
}

#[test]
fn bulk_update_removes_then_adds() {
    let fake = FakeSchlund::start(vec![SchlundUser::new("555", "pw", "10")], &[FIXTURE_ZONE]);
    let auth = || auth_as("555", "pw", "10", None);
    let body = |changes| {
        request(
            auth(),
            Some("en"),
            task(
                "0202001",
                vec![
                    zone_ref("example.co.uk", Some("nsa5.schlundtech.de")),
                    Element::parent("default", changes),
                ],
            ),
        )
    };
    let answer = post(
        &fake,
        &body(vec![
            record("rr_rem", "home", None, "A", "198.51.100.7"),
            record("rr_add", "home", Some("300"), "A", "198.51.100.99"),
        ]),
    );
    assert_eq!(status(&answer).0, "S0202", "{answer}");
    let stored = fake.zone("example.co.uk").unwrap();
    assert_eq!(
        stored.rr("home", "A"),
        [Rr {
            name: "home".into(),
            ttl: "300".into(),
            rr_type: "A".into(),
            pref: None,
            value: "198.51.100.99".into()
        }]
    );
    assert_eq!(stored.all_rr().len(), 12);
    assert_eq!(
        stored.all_rr().last().unwrap().name,
        "home",
        "added after the last rr"
    );
    assert_eq!(stored.text("updated_by/user").as_deref(), Some("555"));
    assert_ne!(
        stored.text("changed").as_deref(),
        Some("2024-05-17 09:12:44")
    );
    assert_eq!(
        stored.element_names(),
        StoredZone::parse(FIXTURE_ZONE).unwrap().element_names()
    );

    // Removing what is not there and adding what is already there change nothing.
    let before = fake.zone("example.co.uk").unwrap().all_rr();
    let answer = post(
        &fake,
        &body(vec![
            record("rr_rem", "home", None, "A", "198.51.100.7"),
            record("rr_add", "home", Some("600"), "A", "198.51.100.99"),
        ]),
    );
    assert_eq!(status(&answer).0, "S0202");
    assert_eq!(fake.zone("example.co.uk").unwrap().all_rr(), before);

    // MX removal honours pref; main sets the apex IPv4 and keeps its TTL.
    let mut mx = record("rr_rem", "", None, "MX", "mx1.example.co.uk.");
    mx.children.insert(2, Element::leaf("pref", "20"));
    let answer = post(
        &fake,
        &body(vec![
            mx,
            Element::parent("main", vec![Element::leaf("value", "203.0.113.77")]),
        ]),
    );
    assert_eq!(status(&answer).0, "S0202");
    let stored = fake.zone("example.co.uk").unwrap();
    assert_eq!(stored.rr("", "MX").len(), 2);
    assert_eq!(stored.main(), Some(("203.0.113.77".into(), "600".into())));
}

#[test]
fn bulk_update_validates_records_and_zone() {
    let fake = fake();
    for bad in [
        record("rr_add", "x", Some("30"), "A", "192.0.2.1"),
        record("rr_add", "x", Some("300"), "A", "nope"),
        record("rr_add", "", Some("300"), "MX", "mx.example.net."),
        record("rr_rem", "x", None, "", "192.0.2.1"),
    ] {
        assert_error(&post(&fake, &bulk(vec![bad])), "E0202", "EF09904");
    }
    let body = request(
        auth(None),
        Some("en"),
        task(
            "0202001",
            vec![
                zone_ref("example.org", None),
                Element::parent("default", vec![]),
            ],
        ),
    );
    assert_error(&post(&fake, &body), "E0202", "EF02020");
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
}

#[test]
fn totp_accepts_neighbouring_steps_only() {
    let fake = FakeSchlund::start(vec![user().with_totp(SECRET)], &[FIXTURE_ZONE]);
    let body = |token: Option<&str>| {
        request(
            auth(token),
            Some("en"),
            task("0205", vec![zone_ref("example.co.uk", None)]),
        )
    };
    for shift in [-30i64, 0, 30] {
        let answer = within_one_step(&fake, |now| {
            post(
                &fake,
                &body(Some(&totp_code(SECRET, now.saturating_add_signed(shift)))),
            )
        });
        assert_eq!(status(&answer).0, "S0205", "shift {shift}: {answer}");
    }
    for shift in [-90i64, 90] {
        let now = fake.totp_time();
        let answer = post(
            &fake,
            &body(Some(&totp_code(SECRET, now.saturating_add_signed(shift)))),
        );
        assert_error(&answer, "E00000", "EF09903");
    }
    assert_error(&post(&fake, &body(None)), "E00000", "EF09902");
    assert_error(&post(&fake, &body(Some("12345"))), "E00000", "EF09903");
    for seen in fake.requests() {
        assert_eq!(
            seen.had_token,
            seen.body_redacted.contains("<token>***</token>")
        );
        assert_eq!(seen.had_token, seen.body_redacted.contains("<token>"));
    }
}

#[test]
fn clock_offset_shifts_the_accepted_codes() {
    let fake = FakeSchlund::start(vec![user().with_totp(SECRET)], &[FIXTURE_ZONE]);
    let body = |token: &str| {
        request(
            auth(Some(token)),
            Some("en"),
            task("0205", vec![zone_ref("example.co.uk", None)]),
        )
    };
    let wall = fake.totp_time();
    fake.set_clock_offset(3600);
    assert_error(
        &post(&fake, &body(&totp_code(SECRET, wall))),
        "E00000",
        "EF09903",
    );
    let answer = within_one_step(&fake, |now| {
        assert!(now >= wall + 3600);
        post(&fake, &body(&totp_code(SECRET, now)))
    });
    assert_eq!(status(&answer).0, "S0205");
}

#[test]
fn token_for_a_user_without_2fa_is_refused() {
    let fake = fake();
    let body = request(
        auth(Some("123456")),
        Some("en"),
        task("0205", vec![zone_ref("example.co.uk", None)]),
    );
    assert_error(&post(&fake, &body), "E00000", "EF09903");
}

#[test]
fn strict_single_use_refuses_a_second_use_of_a_code() {
    let fake = FakeSchlund::start(vec![user().with_totp(SECRET)], &[FIXTURE_ZONE]);
    let body = |token: &str| {
        request(
            auth(Some(token)),
            Some("en"),
            task("0205", vec![zone_ref("example.co.uk", None)]),
        )
    };
    // By default the same code works twice within its step, as users report (spec §5).
    let answers = within_one_step(&fake, |now| {
        let code = totp_code(SECRET, now);
        let first = status(&post(&fake, &body(&code))).0;
        let second = status(&post(&fake, &body(&code))).0;
        format!("{first} {second}")
    });
    assert_eq!(answers, "S0205 S0205");

    fake.set_strict_single_use(true);
    let answers = within_one_step(&fake, |now| {
        let code = totp_code(SECRET, now + 30);
        let first = status(&post(&fake, &body(&code))).0;
        let second = post(&fake, &body(&code));
        format!("{first} {}", first_msg(&second).0)
    });
    assert_eq!(answers, "S0205 EF09903");
}

#[test]
fn rights_are_checked_per_task() {
    let mut reader = SchlundUser::new("reader", "pw", "10");
    reader.can_update = false;
    reader.can_bulk_update = false;
    let mut writer = SchlundUser::new("writer", "pw", "10");
    writer.can_inquire = false;
    let fake = FakeSchlund::start(vec![reader, writer], &[FIXTURE_ZONE]);
    let as_user =
        |name: &str, task: Element| request(auth_as(name, "pw", "10", None), Some("en"), task);

    let inquire = || task("0205", vec![zone_ref("example.co.uk", None)]);
    let update = || task("0202", vec![fixture_without_server_elements()]);
    let bulk = || {
        task(
            "0202001",
            vec![
                zone_ref("example.co.uk", None),
                Element::parent("default", vec![]),
            ],
        )
    };

    assert_eq!(
        status(&post(&fake, &as_user("reader", inquire()))).0,
        "S0205"
    );
    assert_error(
        &post(&fake, &as_user("reader", update())),
        "E0202",
        "EF00505",
    );
    assert_error(&post(&fake, &as_user("reader", bulk())), "E0202", "EF00505");
    assert_error(
        &post(&fake, &as_user("writer", inquire())),
        "E0205",
        "EF00505",
    );
    assert_eq!(
        status(&post(&fake, &as_user("writer", update()))).0,
        "S0202"
    );
    assert_eq!(status(&post(&fake, &as_user("writer", bulk()))).0, "S0202");
}

#[test]
fn unknown_task_code_is_a_wrong_value() {
    let fake = fake();
    let answer = post(
        &fake,
        &request(auth(None), Some("en"), task("0105", vec![])),
    );
    assert_error(&answer, "E00000", "EF01000");
    assert_eq!(first_msg(&answer).1, "request.task.code");
}

#[test]
fn only_post_to_root_is_served() {
    let fake = fake();
    let (status, _, body) = send(&fake, "GET", "/", "");
    assert_eq!(status, 405);
    assert!(!body.contains('<'));
    let (status, _, body) = send(&fake, "POST", "/gateway", &inquire("example.co.uk"));
    assert_eq!(status, 404);
    assert!(!body.contains('<'));
    let (status, _, _) = send(&fake, "PUT", "/", &inquire("example.co.uk"));
    assert_eq!(status, 405);
    assert!(fake.requests().is_empty());
    let (status, content_type, _) = send(&fake, "POST", "/", &inquire("example.co.uk"));
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/xml;charset=UTF-8")
    );
}

#[test]
fn every_answer_has_a_fresh_stid_and_every_request_is_recorded() {
    let fake = fake();
    let stid = |answer: &str| parsed(answer).child_text("stid").unwrap().to_string();
    let a = stid(&post(&fake, &inquire("example.co.uk")));
    let b = stid(&post(&fake, &inquire("example.org")));
    let c = stid(&post(&fake, "garbage"));
    assert!(a != b && b != c && a != c);
    let seen: Vec<(String, Option<String>, String)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.task_code, r.zone_name, r.status_code))
        .collect();
    assert_eq!(
        seen,
        [
            ("0205".into(), Some("example.co.uk".into()), "S0205".into()),
            ("0205".into(), Some("example.org".into()), "E0205".into()),
            (String::new(), None, "E00000".into()),
        ]
    );
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[test]
fn transport_faults_change_nothing() {
    let fake = fake();
    let mut zone = fixture_without_server_elements();
    zone.children.retain(|c| c.name != "free");
    let update = update_with(zone);

    fake.set_fault(SchlundFault::Http500Html);
    let (status_code, content_type, body) = send(&fake, "POST", "/", &update);
    assert_eq!(status_code, 500);
    assert!(content_type.starts_with("text/html") && body.contains("<html>"));

    fake.set_fault(SchlundFault::NotXml);
    let body = post(&fake, &update);
    assert!(parse_document(&body).is_err());

    fake.set_fault(SchlundFault::TruncatedXml);
    let body = post(&fake, &inquire("example.co.uk"));
    assert!(
        body.starts_with(DECL) && parse_document(&body).is_err(),
        "{body}"
    );

    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
    let seen = fake.requests();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|r| r.status_code.is_empty() && !r.task_code.is_empty())
    );

    fake.set_fault(SchlundFault::Hang(Duration::from_millis(60)));
    let started = Instant::now();
    assert_eq!(status(&post(&fake, &inquire("example.co.uk"))).0, "S0205");
    assert!(started.elapsed() >= Duration::from_millis(60));
}

#[test]
fn deep_nesting_wraps_the_real_answer_and_applies_nothing() {
    let fake = fake();
    let mut zone = fixture_without_server_elements();
    zone.children.retain(|c| c.name != "free");
    let update = update_with(zone);
    let normal = without_stid(&post(&fake, &inquire("example.co.uk")));
    fake.clear_requests();
    let nested = |tag: &str, depth: usize| {
        format!(
            "{}{}",
            format!("<{tag}>").repeat(depth),
            format!("</{tag}>").repeat(depth)
        )
    };
    for (place, expected) in [
        (
            Nesting::Response,
            normal.replacen("<response>", &format!("<response>{}", nested("a", 3)), 1),
        ),
        (
            Nesting::Data,
            normal.replacen("<data>", &format!("<data>{}", nested("a", 3)), 1),
        ),
        (
            Nesting::Msg,
            normal.replacen("<result>", &format!("<result>{}", nested("msg", 3)), 1),
        ),
    ] {
        fake.set_fault(SchlundFault::DeepNesting { place, depth: 3 });
        assert_eq!(
            without_stid(&post(&fake, &inquire("example.co.uk"))),
            expected
        );
    }
    // An answer without data gains one to nest in; deep nesting costs no stack.
    fake.set_fault(SchlundFault::DeepNesting {
        place: Nesting::Data,
        depth: 200_000,
    });
    let answer = post(&fake, &update);
    assert!(
        answer.contains(&format!("<result><data>{}</data>", nested("a", 200_000))),
        "{}",
        &answer[..200]
    );
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
    let seen = fake.requests();
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|r| r.status_code.is_empty()));
}

#[test]
fn echo_and_refusals_quote_what_they_are_given_and_apply_nothing() {
    let fake = fake();
    let mut zone = fixture_without_server_elements();
    zone.children.retain(|c| c.name != "free");
    let update = update_with(zone);
    fake.set_fault(SchlundFault::EchoRequest);
    let answer = post(&fake, &update);
    assert_error(&answer, "E00000", "EF01000");
    assert_eq!(first_msg(&answer).2, update);
    let texts: Vec<String> = parsed(&answer)
        .at("result")
        .unwrap()
        .children_named("msg")
        .map(|m| m.child_text("text").unwrap().to_string())
        .collect();
    assert_eq!(
        texts,
        [
            "Missing or wrong value.".to_string(),
            format!(
                "Request as received: {}",
                percent_encoding::utf8_percent_encode(&update, percent_encoding::NON_ALPHANUMERIC)
            ),
            format!("Request log: {}", serde_json::json!({ "request": update })),
        ]
    );
    fake.set_fault(SchlundFault::RefuseSaying("bad\u{1b}[31m\u{8}".into()));
    let answer = post(&fake, &inquire("example.co.uk"));
    assert!(
        answer.contains("<msg><text>bad\u{1b}[31m\u{8}</text><code>EF01000</code>"),
        "{answer:?}"
    );
    assert!(answer.contains("<status><code>E00000</code>"), "{answer:?}");
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
    let seen: Vec<_> = fake.requests().into_iter().map(|r| r.status_code).collect();
    assert_eq!(seen, ["E00000", "E00000"]);
    assert!(!fake.requests()[0].body_redacted.contains(PASSWORD));
}

#[test]
fn redirects_point_elsewhere_and_apply_nothing() {
    let fake = fake();
    let mut zone = fixture_without_server_elements();
    zone.children.retain(|c| c.name != "free");
    fake.set_fault(SchlundFault::Redirect {
        status: 307,
        location: "http://127.0.0.1:9/elsewhere".into(),
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let response = agent
        .post(&fake.url())
        .content_type("text/xml; charset=utf-8")
        .send(update_with(zone))
        .unwrap();
    assert_eq!(response.status().as_u16(), 307);
    assert_eq!(
        response.headers().get("location").unwrap(),
        "http://127.0.0.1:9/elsewhere"
    );
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].task_code.as_str(), seen[0].status_code.as_str()),
        ("0202", "")
    );
}

#[test]
fn stuck_updates_wait_then_apply_nothing() {
    let fake = fake();
    fake.set_fault(SchlundFault::HangUpdates(Duration::from_millis(60)));
    let started = Instant::now();
    assert_eq!(status(&post(&fake, &inquire("example.co.uk"))).0, "S0205");
    assert!(started.elapsed() < Duration::from_millis(60));
    let started = Instant::now();
    let (code, _, answer) = send(
        &fake,
        "POST",
        "/",
        &update_with(fixture_without_server_elements()),
    );
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert_eq!(code, 504, "{answer}");
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);
    let seen = fake.requests();
    assert_eq!(seen[1].task_code, "0202");
    assert!(seen[1].status_code.is_empty());
}

#[test]
fn update_faults_answer_errors_and_keep_the_zone() {
    let fake = fake();
    fake.set_fault(SchlundFault::UpdateFailsE0202002);
    let answer = post(&fake, &update_with(fixture_without_server_elements()));
    let (code, kind, text) = status(&answer);
    assert_eq!((code.as_str(), kind.as_str()), ("E0202002", "error"));
    assert_eq!(text, "Zone could not be updated on the name server.");
    let answer = post(
        &fake,
        &bulk(vec![record("rr_add", "x", Some("300"), "A", "192.0.2.1")]),
    );
    assert_eq!(status(&answer).0, "E0202002");

    fake.set_fault(SchlundFault::UpdateRejectedEF09904);
    assert_error(
        &post(&fake, &update_with(fixture_without_server_elements())),
        "E0202",
        "EF09904",
    );
    assert_eq!(status(&post(&fake, &inquire("example.co.uk"))).0, "S0205");
    assert_eq!(fake.zone("example.co.uk").unwrap().to_xml(), FIXTURE_ZONE);

    fake.set_fault(SchlundFault::None);
    assert_eq!(
        status(&post(
            &fake,
            &update_with(fixture_without_server_elements())
        ))
        .0,
        "S0202"
    );
}

#[test]
fn latency_does_not_serialise_requests() {
    let fake = fake();
    fake.set_latency(Duration::from_millis(100));
    let started = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| post(&fake, &inquire("example.co.uk"))))
            .collect();
        for handle in handles {
            assert_eq!(status(&handle.join().unwrap()).0, "S0205");
        }
    });
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(100));
    assert!(elapsed < Duration::from_millis(350), "{elapsed:?}");
}

#[test]
fn start_on_rejects_bad_zones_and_secrets() {
    let err = FakeSchlund::start_on(0, vec![], &["<zone><name>x</name>"])
        .err()
        .unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let err = FakeSchlund::start_on(0, vec![user().with_totp("not base32!")], &[])
        .err()
        .unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let debug = format!("{:?}", user().with_totp(SECRET));
    assert!(
        !debug.contains("s3cret") && !debug.contains(SECRET),
        "{debug}"
    );
}

#[test]
fn put_zone_replaces_the_stored_zone() {
    let fake = fake();
    fake.put_zone(&FIXTURE_ZONE.replace("198.51.100.7<", "198.51.100.50<"));
    assert_eq!(fake.zones().len(), 1);
    assert_eq!(
        fake.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "198.51.100.50"
    );
    fake.put_zone(&fixture_zone_named("example.org"));
    assert_eq!(fake.zones().len(), 2);
    assert!(fake.url().starts_with("http://127.0.0.1:") && fake.url().ends_with('/'));
}

//! The dyndns server's URLs through the real CGI process against both strict fakes: every
//! status code and exact body, the secret right and wrong, the stored records and what was
//! left alone, and the secret in no answer and no log line.

use fake_registrars::gandi::{FakeGandi, GandiFault, Rrset};

use crate::util::{Answer, Request, TempDir, assert_answer, assert_logged, get, run};

pub const SECRET: &str = "S3cretKey1";

/// A `[user:router]` whose secret the dyndns URLs carry, with its own names.
pub fn user_section() -> String {
    format!(
        "[user:router]\nsecret = {SECRET}\nuse_global = no\nallowed_hostnames = home.example.com a.b.example.com rr.example.com test.wrong-domain.de home.example.co.uk\n"
    )
}

fn gandi_config(dir: &TempDir, gandi: &FakeGandi, name: &str, dialect: &str) -> std::path::PathBuf {
    dir.write_config(
        name,
        &format!(
            "[default]\nallowed_hostnames = *.example.com\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n{}{dialect}",
            crate::gandi::TOKEN,
            gandi.base_url(),
            user_section()
        ),
    )
}

/// A request to `path` (below the binary mounted at `/ddns`) sent without REMOTE_USER.
pub fn at(path: &str, query: &str) -> Request {
    get(query).user(None).env("SCRIPT_NAME", "/ddns").path(path)
}

/// The answer, exactly; and the secret nowhere in what the binary wrote.
#[track_caller]
fn expect(answer: &Answer, status: &str, body: &str) {
    assert_answer(answer, status, body);
    assert_secret_hidden(answer);
}

#[track_caller]
pub fn assert_secret_hidden(answer: &Answer) {
    for secret in [SECRET, "WrongKey99", "OtherKey77", "router-pa55word"] {
        assert!(!answer.raw.contains(secret), "answer holds the secret");
        assert!(
            !answer.stderr.contains(secret),
            "log holds the secret:\n{}",
            answer.stderr
        );
    }
}

fn path(rest: &str) -> String {
    format!("/update-by-path/{SECRET}/{rest}")
}

#[test]
fn every_answer_of_the_dyndns_urls() {
    let dir = TempDir::new("dyndns-answers");
    let gandi = crate::gandi::fake();
    let cfg = gandi_config(&dir, &gandi, "ddns.ini", "");
    let before = gandi.rrsets("example.com");
    let cases: Vec<(Request, &str, String)> = vec![
        (at(&path("home.example.com/84.17.5.9"), ""), "200 OK", "UPDATED: home.example.com. A 198.51.100.7 -> 84.17.5.9\n".into()),
        (at(&path("home.example.com/84.17.5.9"), ""), "200 OK", "UNCHANGED: home.example.com. A 84.17.5.9\n".into()),
        (at("/update-by-path/WrongKey99/home.example.com", ""), "456 UNKNOWN", "PARAMETER_ERROR: You specified a wrong secret key.\n".into()),
        (at("/update-by-query", "fqdn=home.example.com"), "456 UNKNOWN", "PARAMETER_ERROR: missing: Field required (secret).\n".into()),
        (at("/update-by-query", &format!("secret={SECRET}&unknown=unknown")), "456 UNKNOWN", "PARAMETER_ERROR: extra_forbidden: Extra inputs are not permitted (unknown).\n".into()),
        (at("/update-by-query", &format!("secret={SECRET}&fqdn=home.example.com&ttl=abc")), "456 UNKNOWN", "PARAMETER_ERROR: int_parsing: Input should be a valid integer, unable to parse string as an integer (abc).\n".into()),
        (at("/update-by-query", &format!("secret={SECRET}&fqdn=home.example.com&ipv4=1.2.3")), "454 UNKNOWN", "IP_ADDRESS_ERROR: Invalid IP address '1.2.3'.\n".into()),
        (at(&path("home.example.com/10.0.0.1"), ""), "454 UNKNOWN", "IP_ADDRESS_ERROR: The IP address '10.0.0.1' is a private address, not a public one.\n".into()),
        (at("/update-by-query", &format!("secret={SECRET}&fqdn=test.wrong-domain.de")), "453 UNKNOWN", "DNS_NAME_ERROR: The fully qualified domain name 'test.wrong-domain.de.' could not be split into a record and a zone name.\n".into()),
        // Named by zone and record: v2's message names the zone.
        (at("/update-by-query", &format!("secret={SECRET}&zone_name=wrong-domain.de.&record_name=test")), "453 UNKNOWN", "DNS_NAME_ERROR: Unknown zone \"wrong-domain.de.\".\n".into()),
        (at(&path("bad_name!.example.com"), ""), "453 UNKNOWN", "DNS_NAME_ERROR: The DNS name 'bad_name!.example.com' is invalid.\n".into()),
        (at(&path("www.example.com"), ""), "456 UNKNOWN", "PARAMETER_ERROR: The credentials do not allow changing 'www.example.com.'.\n".into()),
        (at(&path("a.b.example.com/2a01:4f8::1"), ""), "455 UNKNOWN", "CONFIGURATION_ERROR: 'a.b.example.com.' has no such record, and creating records is not enabled.\n".into()),
        (at(&path("rr.example.com/84.17.5.9"), ""), "512 UNKNOWN", "DNS_SERVER_ERROR: The DNS provider did not accept the change of 'rr.example.com.'.\n".into()),
        (at(&path("home.example.com"), "").method("POST"), "405 Method Not Allowed", "METHODNOTALLOWED: 405 Method Not Allowed: The method is not allowed for the requested URL.\n".into()),
        (at(&format!("/update-by-path/{SECRET}"), ""), "404 Not Found", "not found\n".into()),
        (at(&path("home.example.com/"), ""), "404 Not Found", "not found\n".into()),
        (at(&path("home.example.com/1.1.1.1/::1/x"), ""), "404 Not Found", "not found\n".into()),
        // The query form, by zone and record; the A set above is left alone.
        (at("/update-by-query", &format!("zone_name=example.com&secret={SECRET}&record_name=home&ipv6=2a01:4f8::7&ttl=300")), "200 OK", "UPDATED: home.example.com. AAAA 2001:db8:85a3::8a2e:370:7334 -> 2a01:4f8::7\n".into()),
        // The web server's user instead of a secret.
        (at("/update-by-query", "fqdn=home.example.com&ipv6=2a01:4f8::7").user(Some("router")), "200 OK", "UNCHANGED: home.example.com. AAAA 2a01:4f8::7\n".into()),
    ];
    for (request, status, body) in &cases {
        let answer = run(&cfg, request);
        expect(&answer, status, body);
    }
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.9"]))
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "AAAA"),
        Some(Rrset::new("home", "AAAA", 300, &["2a01:4f8::7"]))
    );
    crate::gandi::untouched(&gandi, &before, &[("home", "A"), ("home", "AAAA")]);
    assert_eq!(gandi.rrsets("example.com").len(), before.len());

    // The summary line shows the path without its secret.
    let answer = run(&cfg, &at(&path("home.example.com/84.17.5.9"), ""));
    assert_logged(
        &answer,
        "GET /update-by-path/***/home.example.com/84.17.5.9 user=router",
    );
    assert_secret_hidden(&answer);

    // The registrar refusing: 512, the records as they were.
    gandi.set_fault(GandiFault::Status500Html);
    let answer = run(&cfg, &at(&path("home.example.com/84.17.5.10"), ""));
    expect(
        &answer,
        "512 UNKNOWN",
        "DNS_SERVER_ERROR: The DNS provider could not be reached or refused our credentials; try again later.\n",
    );
    gandi.set_fault(GandiFault::None);
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.9"]))
    );
}

#[test]
fn delete_missing_family_deletes_the_family_not_named() {
    let dir = TempDir::new("dyndns-missing");
    let gandi = crate::gandi::fake();
    let before = gandi.rrsets("example.com");
    let keep = gandi_config(&dir, &gandi, "keep.ini", "");
    let answer = run(&keep, &at(&path("home.example.com/84.17.5.9"), ""));
    expect(
        &answer,
        "200 OK",
        "UPDATED: home.example.com. A 198.51.100.7 -> 84.17.5.9\n",
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "AAAA"),
        before
            .iter()
            .find(|r| r.name == "home" && r.rr_type == "AAAA")
            .cloned()
    );

    let delete = gandi_config(
        &dir,
        &gandi,
        "delete.ini",
        "[dialect:dyndns]\ndelete_missing_family = yes\n",
    );
    let answer = run(&delete, &at(&path("home.example.com/84.17.5.10"), ""));
    expect(
        &answer,
        "200 OK",
        "UPDATED: home.example.com. A 84.17.5.9 -> 84.17.5.10\nUPDATED: home.example.com. AAAA 2001:db8:85a3::8a2e:370:7334 -> None\n",
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.10"]))
    );
    assert_eq!(gandi.rrset("example.com", "home", "AAAA"), None);
    crate::gandi::untouched(&gandi, &before, &[("home", "A"), ("home", "AAAA")]);
    assert_eq!(gandi.rrsets("example.com").len(), before.len() - 1);
}

#[test]
fn the_old_values_are_repeated_as_v2_does() {
    let dir = TempDir::new("dyndns-old-values");
    let gandi = crate::gandi::fake();
    let before = gandi.rrsets("example.com");
    let cfg = dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = *.example.com\ncreate_missing_records = yes\ncollapse_round_robin = yes\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n{}",
            crate::gandi::TOKEN,
            gandi.base_url(),
            user_section()
        ),
    );
    // A round robin collapsed: every value it held, joined by commas.
    expect(
        &run(&cfg, &at(&path("rr.example.com/84.17.5.9"), "")),
        "200 OK",
        "UPDATED: rr.example.com. A 198.51.100.20,198.51.100.21 -> 84.17.5.9\n",
    );
    // A record created: there was none. Then one family changed, the other already so.
    expect(
        &run(
            &cfg,
            &at(&path("a.b.example.com/2a01:4f8::1/84.17.5.8"), ""),
        ),
        "200 OK",
        "UPDATED: a.b.example.com. A 198.51.100.8 -> 84.17.5.8\nUPDATED: a.b.example.com. AAAA None -> 2a01:4f8::1\n",
    );
    expect(
        &run(
            &cfg,
            &at(&path("a.b.example.com/2a01:4f8::1/84.17.5.9"), ""),
        ),
        "200 OK",
        "UPDATED: a.b.example.com. A 84.17.5.8 -> 84.17.5.9\nUNCHANGED: a.b.example.com. AAAA 2a01:4f8::1\n",
    );
    assert_eq!(
        gandi.rrset("example.com", "rr", "A"),
        Some(Rrset::new("rr", "A", 300, &["84.17.5.9"]))
    );
    assert_eq!(
        gandi.rrset("example.com", "a.b", "AAAA"),
        Some(Rrset::new("a.b", "AAAA", 300, &["2a01:4f8::1"]))
    );
    assert_eq!(
        gandi.rrset("example.com", "a.b", "A"),
        Some(Rrset::new("a.b", "A", 300, &["84.17.5.9"]))
    );
    crate::gandi::untouched(
        &gandi,
        &before,
        &[("rr", "A"), ("a.b", "A"), ("a.b", "AAAA")],
    );
}

#[test]
fn delete_by_path_at_gandi() {
    let dir = TempDir::new("dyndns-delete-gandi");
    let gandi = crate::gandi::fake();
    let cfg = gandi_config(&dir, &gandi, "ddns.ini", "");
    let before = gandi.rrsets("example.com");
    let delete = at(&format!("/delete-by-path/{SECRET}/home.example.com"), "");
    expect(
        &run(&cfg, &delete),
        "200 OK",
        "UPDATED: The A and AAAA records of the domain name 'home.example.com.' were deleted.\n",
    );
    assert_eq!(gandi.rrset("example.com", "home", "A"), None);
    assert_eq!(gandi.rrset("example.com", "home", "AAAA"), None);
    crate::gandi::untouched(&gandi, &before, &[("home", "A"), ("home", "AAAA")]);
    assert_eq!(gandi.rrsets("example.com").len(), before.len() - 2);
    let answer = run(&cfg, &delete);
    expect(
        &answer,
        "200 OK",
        "UNCHANGED: The deletion of the domain name 'home.example.com.' was not executed because there were no A or AAAA records.\n",
    );
    assert_logged(
        &answer,
        "GET /delete-by-path/***/home.example.com user=router",
    );
    let wrong = at("/delete-by-path/WrongKey99/a.b.example.com", "");
    expect(
        &run(&cfg, &wrong),
        "456 UNKNOWN",
        "PARAMETER_ERROR: You specified a wrong secret key.\n",
    );
    assert!(gandi.rrset("example.com", "a.b", "A").is_some());
}

#[test]
fn delete_by_path_at_schlundtech() {
    let dir = TempDir::new("dyndns-delete-schlund");
    let gw = crate::schlund::fake();
    let text =
        crate::schlund::config_text(&gw, &format!("zones = example.co.uk\n{}", user_section()));
    let cfg = dir.write_config("ddns.ini", &text);
    let delete = at(&format!("/delete-by-path/{SECRET}/home.example.co.uk"), "");
    expect(
        &run(&cfg, &delete),
        "200 OK",
        "UPDATED: The A and AAAA records of the domain name 'home.example.co.uk.' were deleted.\n",
    );
    let zone = gw.zone("example.co.uk").unwrap();
    assert!(zone.rr("home", "A").is_empty() && zone.rr("home", "AAAA").is_empty());
    crate::schlund::only_changed(&zone, &[("home", "A"), ("home", "AAAA")], false);
    expect(
        &run(&cfg, &delete),
        "200 OK",
        "UNCHANGED: The deletion of the domain name 'home.example.co.uk.' was not executed because there were no A or AAAA records.\n",
    );
    assert_eq!(gw.zone("example.co.uk").unwrap(), zone);
}

/// The dyndns URLs through a web server with the deploy files as written: no password asked,
/// the secret checked by ddns-cgi, and the secret in neither Apache's logs nor ddns-cgi's.
fn through(
    stack: &crate::webserver::Stack,
    apache: &dyn crate::webserver::Frontend,
    access: &[String],
) {
    use crate::webserver::Request;
    let prefix = apache.prefix().to_string();
    let send = |target: &str| Request::get(&format!("{prefix}{target}")).send(apache.port());
    let before = stack.zone();
    let answer = send(&path("home.example.co.uk/84.17.5.50"));
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            200,
            "UPDATED: home.example.co.uk. A 198.51.100.7 -> 84.17.5.50\n"
        ),
        "{answer:?}\n{}",
        apache.logs()
    );
    assert_eq!(stack.value("home", "A"), "84.17.5.50");
    assert_eq!(
        stack.value("home", "AAAA"),
        before.rr("home", "AAAA")[0].value
    );
    let answer = send(&format!(
        "/update-by-query?secret={SECRET}&fqdn=home.example.co.uk&ipv4=84.17.5.50"
    ));
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "UNCHANGED: home.example.co.uk. A 84.17.5.50\n")
    );
    let answer = send("/update-by-path/WrongKey99/home.example.co.uk/84.17.5.51");
    assert_eq!(
        (answer.status_line.as_str(), answer.body.as_str()),
        (
            "HTTP/1.1 456 UNKNOWN",
            "PARAMETER_ERROR: You specified a wrong secret key.\n"
        ),
        "{}",
        apache.logs()
    );
    let answer = send(&format!("/delete-by-path/{SECRET}/home.example.co.uk"));
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            200,
            "UPDATED: The A and AAAA records of the domain name 'home.example.co.uk.' were deleted.\n"
        )
    );
    let after = stack.zone();
    assert!(after.rr("home", "A").is_empty() && after.rr("home", "AAAA").is_empty());
    let others = |zone: &fake_registrars::schlund::StoredZone| -> Vec<_> {
        zone.all_rr()
            .into_iter()
            .filter(|rr| rr.name != "home")
            .collect()
    };
    assert_eq!(others(&after), others(&before));
    let logs = apache.logs();
    assert!(logs.contains("/***/home.example.co.uk"), "{logs}");
    for secret in [SECRET, "WrongKey99"] {
        assert!(!logs.contains(secret), "{logs}");
        for log in access {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            assert!(!text.contains(secret), "{log}: {text}");
        }
    }
}

fn apache_stack(tag: &str) -> crate::webserver::Stack {
    crate::webserver::Stack::with(
        tag,
        "",
        &format!(
            "[user:router]\nsecret = {SECRET}\nuse_global = no\nallowed_hostnames = home.example.co.uk\n"
        ),
    )
}

#[test]
fn apache_serves_the_dyndns_urls() {
    let stack = apache_stack("apache-dyndns");
    let apache = crate::apache::Apache::start(&stack.site);
    let log = stack.site.dir.path().join("apache/access.log");
    through(&stack, &apache, &[log.display().to_string()]);
}

#[test]
fn apache_htaccess_serves_the_dyndns_urls() {
    let stack = apache_stack("apache-htaccess-dyndns");
    let apache = crate::apache::Apache::start_htaccess(&stack.site);
    let log = stack.site.dir.path().join("apache/access.log");
    through(&stack, &apache, &[log.display().to_string()]);
}

#[test]
fn nginx_serves_the_dyndns_urls() {
    let stack = apache_stack("nginx-dyndns");
    let nginx = crate::nginx::Nginx::start(&stack.site);
    let log = stack.site.dir.path().join("nginx/access.log");
    through(&stack, &nginx, &[log.display().to_string()]);
}

#[test]
fn a_hashed_secret_basic_auth_and_the_web_servers_user() {
    let dir = TempDir::new("dyndns-basic");
    let gandi = crate::gandi::fake();
    let secret_hash = crate::credentials::hash_secret(SECRET);
    let password_hash = crate::credentials::hash_secret("router-pa55word");
    let cfg = dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = *.example.com\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n\
             [user:router]\nsecret = {}\npassword_hash = {}\nuse_global = no\nallowed_hostnames = home.example.com\n\
             [user:other]\nsecret = OtherKey77\nuse_global = no\nallowed_hostnames = a.b.example.com\n",
            crate::gandi::TOKEN,
            gandi.base_url(),
            secret_hash.replace('%', "%%"),
            password_hash.replace('%', "%%"),
        ),
    );
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            crate::webserver::base64(format!("{user}:{password}").as_bytes())
        )
    };
    let query = "fqdn=home.example.com&ipv4=84.17.5.30";
    // A secret checked against its argon2id hash.
    let answer = run(&cfg, &at(&path("home.example.com/84.17.5.30"), ""));
    expect(
        &answer,
        "200 OK",
        "UPDATED: home.example.com. A 198.51.100.7 -> 84.17.5.30\n",
    );
    // Basic auth instead of a secret.
    let by_header = at("/update-by-query", query)
        .env("HTTP_AUTHORIZATION", &basic("router", "router-pa55word"));
    expect(
        &run(&cfg, &by_header),
        "200 OK",
        "UNCHANGED: home.example.com. A 84.17.5.30\n",
    );
    let wrong = at("/update-by-query", query).env("HTTP_AUTHORIZATION", &basic("router", "wrong"));
    expect(
        &run(&cfg, &wrong),
        "456 UNKNOWN",
        "PARAMETER_ERROR: You specified a wrong secret key.\n",
    );
    // The web server's user with another user's secret: refused, nothing written.
    let mixed =
        at("/update-by-path/OtherKey77/home.example.com/84.17.5.31", "").user(Some("router"));
    let answer = run(&cfg, &mixed);
    assert_secret_hidden(&answer);
    assert_answer(
        &answer,
        "456 UNKNOWN",
        "PARAMETER_ERROR: You specified a wrong secret key.\n",
    );
    assert_logged(&answer, "credentials of different users");
    // Another user's secret does not reach this user's names.
    let answer = run(
        &cfg,
        &at("/update-by-path/OtherKey77/home.example.com/84.17.5.31", ""),
    );
    assert_secret_hidden(&answer);
    assert_answer(
        &answer,
        "456 UNKNOWN",
        "PARAMETER_ERROR: The credentials do not allow changing 'home.example.com.'.\n",
    );
    // HEAD never updates.
    let head = at(&path("home.example.com/84.17.5.32"), "").method("HEAD");
    assert_eq!(run(&cfg, &head).status, "200 OK");
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.30"]))
    );
}

#[test]
fn a_ttl_is_written_within_the_registrars_limits() {
    let dir = TempDir::new("dyndns-ttl");
    let gandi = crate::gandi::fake();
    let cfg = gandi_config(&dir, &gandi, "ddns.ini", "");
    let before = gandi.rrsets("example.com");
    let query = |rest: &str| {
        at(
            "/update-by-query",
            &format!("secret={SECRET}&fqdn=home.example.com&{rest}"),
        )
    };
    // Below Gandi's minimum: refused before any call, the record as it was.
    let answer = run(&cfg, &query("ipv4=84.17.5.9&ttl=60"));
    expect(
        &answer,
        "456 UNKNOWN",
        "PARAMETER_ERROR: The TTL 60 is outside what the DNS provider of 'home.example.com.' accepts.\n",
    );
    assert_logged(&answer, "home.example.com: TTL 60 is outside 300..2592000");
    assert!(gandi.writes().is_empty());
    assert_eq!(gandi.rrsets("example.com"), before);
    let answer = run(&cfg, &query("ipv4=84.17.5.9&ttl=900"));
    expect(
        &answer,
        "200 OK",
        "UPDATED: home.example.com. A 198.51.100.7 -> 84.17.5.9\n",
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 900, &["84.17.5.9"]))
    );
    // A repeat is answered from state, without a call.
    gandi.clear_requests();
    let answer = run(&cfg, &query("ipv4=84.17.5.9&ttl=900"));
    expect(
        &answer,
        "200 OK",
        "UNCHANGED: home.example.com. A 84.17.5.9\n",
    );
    assert!(gandi.requests().is_empty(), "{:?}", gandi.requests());
    // Only the TTL differs: written, and answered as v2 compares values.
    let answer = run(&cfg, &query("ipv4=84.17.5.9&ttl=1200"));
    expect(
        &answer,
        "200 OK",
        "UNCHANGED: home.example.com. A 84.17.5.9\n",
    );
    assert_eq!(gandi.writes().len(), 1);
    // Without `ttl` the record keeps its own.
    run(&cfg, &query("ipv4=84.17.5.10"));
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 1200, &["84.17.5.10"]))
    );
    crate::gandi::untouched(&gandi, &before, &[("home", "A")]);

    // SchlundTech takes a minute and more.
    let gw = crate::schlund::fake();
    let text =
        crate::schlund::config_text(&gw, &format!("zones = example.co.uk\n{}", user_section()));
    let cfg = dir.write_config("schlund.ini", &text);
    let query = |rest: &str| {
        at(
            "/update-by-query",
            &format!("secret={SECRET}&fqdn=home.example.co.uk&{rest}"),
        )
    };
    let answer = run(&cfg, &query("ipv4=84.17.5.9&ttl=30"));
    expect(
        &answer,
        "456 UNKNOWN",
        "PARAMETER_ERROR: The TTL 30 is outside what the DNS provider of 'home.example.co.uk.' accepts.\n",
    );
    assert!(gw.requests().is_empty(), "nothing is asked of the gateway");
    let answer = run(&cfg, &query("ipv4=84.17.5.9&ttl=120"));
    expect(
        &answer,
        "200 OK",
        "UPDATED: home.example.co.uk. A 198.51.100.7 -> 84.17.5.9\n",
    );
    let zone = gw.zone("example.co.uk").unwrap();
    let a = zone.rr("home", "A");
    assert_eq!((a.len(), a[0].ttl.as_str()), (1, "120"));
    assert_eq!(
        zone.rr("home", "AAAA")[0].ttl,
        "300",
        "the AAAA keeps its TTL"
    );
    crate::schlund::only_changed(&zone, &[("home", "A")], false);
}

/// The answers no table case above reaches: a config that does not load, a query without a
/// name, and a name changed more often than `abuse_limit` allows. (ddns-cgi checks every
/// address while reading the request, so the core never refuses one for this dialect.)
#[test]
fn a_broken_config_a_missing_name_and_too_many_changes() {
    let dir = TempDir::new("dyndns-more-answers");
    let gandi = crate::gandi::fake();
    let broken = dir.write_config("broken.ini", "[default]\ntimeout = soon\n");
    let answer = run(&broken, &at(&path("home.example.com/84.17.5.9"), ""));
    expect(
        &answer,
        "455 UNKNOWN",
        "CONFIGURATION_ERROR: The server is not set up correctly; its error log says what to fix.\n",
    );
    assert_logged(&answer, "timeout");
    let cfg = dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\nabuse_limit = 2\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n{}",
            crate::gandi::TOKEN,
            gandi.base_url(),
            user_section()
        ),
    );
    let answer = run(
        &cfg,
        &at(
            "/update-by-query",
            &format!("secret={SECRET}&ipv4=84.17.5.9"),
        ),
    );
    expect(
        &answer,
        "456 UNKNOWN",
        "PARAMETER_ERROR: Value \"fqdn\" is required.\n",
    );
    assert!(gandi.requests().is_empty(), "no registrar call so far");
    for n in [1, 2] {
        let answer = run(
            &cfg,
            &at(&path(&format!("home.example.com/84.17.5.{n}")), ""),
        );
        assert_eq!(answer.status, "200 OK", "{}", answer.body);
    }
    let writes = gandi.writes().len();
    let answer = run(&cfg, &at(&path("home.example.com/84.17.5.3"), ""));
    expect(
        &answer,
        "456 UNKNOWN",
        "PARAMETER_ERROR: 'home.example.com.' was changed too often; try again later.\n",
    );
    assert_eq!(gandi.writes().len(), writes);
    assert_eq!(
        gandi.rrset("example.com", "home", "A").unwrap().values,
        ["84.17.5.2"]
    );
}

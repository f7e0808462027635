//! Hostile requests through the real CGI process against the strict fake gateway: the
//! allow list cannot be bypassed by another spelling, encoding, look-alike or path, and no
//! request value can add a header line or a log line.
//!
//! Alice may change exactly `home.example.co.uk` (the global list); bob is narrowed to
//! `a.b.example.co.uk` with `use_global = no`. Every case asserts the exact answer, the
//! stored zone, and how often the registrar was called.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund};

use crate::schlund::{config_text, fake};
use crate::util::{Answer, Request, TempDir, assert_answer, assert_logged, get, run};

const HOME: &str = "home.example.co.uk";
const HOME_A: &str =
    "<rr><name>home</name><ttl>300</ttl><type>A</type><value>198.51.100.7</value></rr>";
const HOME_AAAA: &str = "<rr><name>home</name><ttl>300</ttl><type>AAAA</type><value>2001:db8:85a3::8a2e:370:7334</value></rr>";
const AB_A: &str =
    "<rr><name>a.b</name><ttl>300</ttl><type>A</type><value>198.51.100.8</value></rr>";
/// A request this slow to answer would let a client tie up the web server.
const QUICK: Duration = Duration::from_secs(5);

/// A fresh gateway holding the fixture zone, and a config pointing at it.
struct Env {
    _dir: TempDir,
    gw: FakeSchlund,
    cfg: PathBuf,
}

/// The ACL of this file: `allowed_hostnames` replaced by `global`, plus `sections`.
fn setup_with(tag: &str, global: &str, sections: &str) -> Env {
    let dir = TempDir::new(tag);
    let gw = fake();
    let base = config_text(&gw, "zones = example.co.uk");
    let lines: Vec<String> = base
        .lines()
        .map(|line| {
            if line.starts_with("allowed_hostnames") {
                format!("allowed_hostnames = {global}")
            } else {
                line.to_string()
            }
        })
        .collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("allowed_hostnames"))
            .count(),
        1,
        "{base}"
    );
    let text = format!("{}\n{sections}", lines.join("\n"));
    let cfg = dir.write_config("ddns.ini", &text);
    Env { _dir: dir, gw, cfg }
}

fn setup(tag: &str) -> Env {
    setup_with(
        tag,
        HOME,
        "[user:bob]\nallowed_hostnames = a.b.example.co.uk\nuse_global = no\n",
    )
}

fn update(host: &str, ip: &str) -> Request {
    get(&format!("hostname={host}&myip={ip}"))
}

/// Runs the CGI and checks what must hold for every answer: log lines stay lines.
fn call(env: &Env, req: &Request) -> Answer {
    let answer = run(&env.cfg, req);
    assert_log_lines(&answer.stderr);
    answer
}

/// The exact output, byte for byte: the three standard header lines, `extra` header
/// lines, the blank line and the body. Nothing a client sent can add a line here.
#[track_caller]
fn assert_raw(answer: &Answer, status: &str, extra: &[&str], body: &str) {
    assert_answer(answer, status, body);
    let mut expected = format!(
        "Status: {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
        body.len()
    );
    for line in extra {
        expected.push_str(line);
        expected.push_str("\r\n");
    }
    expected.push_str("\r\n");
    expected.push_str(body);
    assert_eq!(answer.raw, expected, "stderr:\n{}", answer.stderr);
}

/// One `ddns-cgi: LEVEL: ` prefix per line, at least the request's summary line, and no
/// character that could end or rewrite a line in a log viewer.
#[track_caller]
fn assert_log_lines(stderr: &str) {
    assert!(stderr.ends_with('\n'), "no log line: {stderr:?}");
    let newlines = stderr.matches('\n').count();
    let prefixed = stderr
        .lines()
        .filter(|l| {
            ["error", "warning", "info", "debug"]
                .iter()
                .any(|level| l.starts_with(&format!("ddns-cgi: {level}: ")))
        })
        .count();
    assert_eq!(prefixed, newlines, "a line without the prefix:\n{stderr}");
    for line in stderr.lines() {
        assert!(
            !line
                .chars()
                .any(|c| (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')),
            "control character in log line {line:?}"
        );
        assert!(
            !line.starts_with("ddns-cgi: error: forged"),
            "a request forged a log line:\n{stderr}"
        );
    }
}

/// The stored zone is the fixture, byte for byte, and the registrar was never called.
#[track_caller]
fn assert_untouched(env: &Env, what: &str) {
    assert_eq!(
        env.gw.zone("example.co.uk").unwrap().to_xml(),
        FIXTURE_ZONE,
        "{what} changed the zone"
    );
    assert!(
        env.gw.requests().is_empty(),
        "{what} reached the registrar: {:?}",
        env.gw.requests()
    );
}

/// The gateway stamps `changed` on every write; everything else is compared.
fn without_changed(xml: &str) -> String {
    match (xml.find("<changed>"), xml.find("</changed>")) {
        (Some(start), Some(end)) => {
            format!("{}{}", &xml[..start], &xml[end + "</changed>".len()..])
        }
        _ => xml.to_string(),
    }
}

/// The fixture with one A record's value replaced.
fn fixture_with(record: &str, ip: &str) -> String {
    let value = record
        .split("<value>")
        .next()
        .map(|head| format!("{head}<value>{ip}</value></rr>"))
        .unwrap();
    assert!(FIXTURE_ZONE.contains(record), "{record}");
    FIXTURE_ZONE.replace(record, &value)
}

/// Only the given record changed, in one inquiry and one write.
#[track_caller]
fn assert_only_changed(env: &Env, record: &str, ip: &str, what: &str) {
    assert_eq!(
        without_changed(&env.gw.zone("example.co.uk").unwrap().to_xml()),
        without_changed(&fixture_with(record, ip)),
        "{what}"
    );
    let codes: Vec<String> = env
        .gw
        .requests()
        .iter()
        .map(|r| r.task_code.clone())
        .collect();
    assert_eq!(codes, ["0205", "0202"], "{what}");
}

#[test]
fn spellings_of_the_allowed_name_update_exactly_it() {
    let spellings = [
        "HOME.Example.CO.uk",
        "home.example.co.uk.",
        "HOME.EXAMPLE.CO.UK.",
        "home%2Eexample.co.uk",
        "home%2eexample%2Eco%2euk",
        "h%6Fme.example.co.uk",
        "%68%6F%6D%65.example.co.uk",
        "+home.example.co.uk%20",
        "%09home.example.co.uk",
        // Blanks around a name are trimmed like spaces; CR/LF inside one is refused below.
        "home.example.co.uk%0d%0a",
        // UTS-46 maps full-width letters and the ideographic full stop to the same name.
        "%EF%BD%88%EF%BD%8F%EF%BD%8D%EF%BD%85.example.co.uk",
        "home%E3%80%82example.co.uk",
    ];
    for (i, host) in spellings.iter().enumerate() {
        let env = setup("spelling");
        let ip = format!("84.17.5.{}", 20 + i);
        let answer = call(&env, &update(host, &ip));
        assert_raw(&answer, "200 OK", &[], &format!("good {ip}\n"));
        assert_only_changed(&env, HOME_A, &ip, host);
    }
}

#[test]
fn other_names_are_nohost_without_touching_the_zone() {
    let env = setup("nohost");
    let others = [
        // Cyrillic and Greek look-alike letters, raw and as the A-label they become.
        "h%D0%BEme.example.co.uk",
        "h%CE%BFme.example.co.uk",
        "xn--hme-sed.example.co.uk",
        "xn--bcher-kva.example.co.uk",
        "home.example.co.uk.evil.net",
        "home.example.co.uk.example.co.uk",
        "evil-home.example.co.uk",
        "homeexample.co.uk",
        "www.home.example.co.uk",
        "home.example.co",
        "example.co.uk",
        "a.b.example.co.uk",
    ];
    for host in others {
        let answer = call(&env, &update(host, "84.17.5.9"));
        assert_raw(&answer, "200 OK", &[], "nohost\n");
        assert_logged(&answer, "user alice may not update");
        assert_untouched(&env, host);
    }
}

#[test]
fn what_is_no_host_name_is_notfqdn_without_touching_the_zone() {
    let env = setup("notfqdn");
    let long = format!("{}{HOME}", "abcdefghi.".repeat(29));
    assert!(long.len() > 300);
    let huge = format!("{}.{HOME}", "a".repeat(10_000));
    let label = format!("{}.example.co.uk", "a".repeat(64));
    let names = [
        "*.example.co.uk",
        "*.home.example.co.uk",
        "home.example.co.uk..",
        ".home.example.co.uk",
        "home..example.co.uk",
        "home%00.example.co.uk",
        "home.example.co.uk%00",
        "home%0d%0a.example.co.uk",
        "home%0a.example.co.uk",
        "home.example.co.uk%0d%0aX-Injected:%201",
        "home%20.example.co.uk",
        "home+.example.co.uk",
        "home.example .co.uk",
        "home%252Eexample.co.uk",
        "home%2500.example.co.uk",
        "xn--home-.example.co.uk",
        "xn--zz.example.co.uk",
        "home-.example.co.uk",
        "home.example.co.uk:80",
        "home.example.co.uk/",
        "alice@home.example.co.uk",
        "home\\.example.co.uk",
        "1.2.3.4",
        "[::1]",
        "localhost",
        long.as_str(),
        huge.as_str(),
        label.as_str(),
    ];
    for host in names {
        let answer = call(&env, &update(host, "84.17.5.9"));
        assert_raw(&answer, "200 OK", &[], "notfqdn\n");
        assert_untouched(&env, host);
    }
}

#[test]
fn a_narrowed_user_gets_only_their_own_names() {
    let env = setup("bob");
    for host in [
        HOME,
        "HOME.Example.CO.uk.",
        "home%2Eexample.co.uk",
        "example.co.uk",
    ] {
        let answer = call(&env, &update(host, "84.17.5.9").user(Some("bob")));
        assert_raw(&answer, "200 OK", &[], "nohost\n");
        assert_logged(&answer, "user bob may not update");
        assert_untouched(&env, host);
    }
    // bob's own name works, and only it changes.
    let answer = call(
        &env,
        &update("a.b.example.co.uk,home.example.co.uk", "84.17.5.31").user(Some("bob")),
    );
    assert_raw(&answer, "200 OK", &[], "good 84.17.5.31\nnohost\n");
    assert_only_changed(&env, AB_A, "84.17.5.31", "bob");
}

/// Web servers that authenticate against LDAP or a directory compare user names without
/// case, and pass on the name as typed; such a spelling must not escape `use_global = no`.
#[test]
fn a_narrowed_user_cannot_escape_by_case() {
    let env = setup("bob-case");
    for user in ["Bob", "BOB"] {
        let answer = call(&env, &update(HOME, "84.17.5.9").user(Some(user)));
        assert_raw(&answer, "200 OK", &[], "nohost\n");
        assert_untouched(&env, user);
    }
}

#[test]
fn a_users_own_list_is_matched_the_same_way() {
    let env = setup_with(
        "own-list",
        "a.b.example.co.uk",
        "[user:alice]\nallowed_hostnames = home.example.co.uk\nuse_global = no\n",
    );
    let answer = call(
        &env,
        &update(
            "a.b.example.co.uk,HOME.Example.CO.uk.,h%D0%BEme.example.co.uk",
            "84.17.5.32",
        ),
    );
    assert_raw(&answer, "200 OK", &[], "nohost\ngood 84.17.5.32\nnohost\n");
    assert_only_changed(&env, HOME_A, "84.17.5.32", "alice's own list");
}

#[test]
fn comma_lists_judge_each_name_alone_in_order() {
    let env = setup("list");
    let answer = call(
        &env,
        &update(
            "evil.example.co.uk,HOME.example.co.uk,home.example.co.uk.evil.net,h%6Fme.example.co.uk,*.example.co.uk,h%D0%BEme.example.co.uk,home.example.co.uk..,a.b.example.co.uk",
            "84.17.5.33",
        ),
    );
    assert_raw(
        &answer,
        "200 OK",
        &[],
        "nohost\ngood 84.17.5.33\nnohost\ngood 84.17.5.33\nnotfqdn\nnohost\nnotfqdn\nnohost\n",
    );
    assert_only_changed(&env, HOME_A, "84.17.5.33", "mixed list");

    // An encoded comma separates names like a plain one.
    let env = setup("list-encoded");
    let answer = call(
        &env,
        &update("evil.example.co.uk%2Chome.example.co.uk", "84.17.5.34"),
    );
    assert_raw(&answer, "200 OK", &[], "nohost\ngood 84.17.5.34\n");
    assert_only_changed(&env, HOME_A, "84.17.5.34", "encoded comma");

    // Nothing allowed: the registrar is not asked at all.
    let env = setup("list-none");
    let answer = call(
        &env,
        &update(
            "evil.example.co.uk,xn--hme-sed.example.co.uk,home%00.example.co.uk",
            "84.17.5.35",
        ),
    );
    assert_raw(&answer, "200 OK", &[], "nohost\nnohost\nnotfqdn\n");
    assert_untouched(&env, "a list of forbidden names");
}

#[test]
fn path_tricks_are_404_before_anything_else() {
    let env = setup("paths");
    for path in [
        "/nic/update/../admin",
        "/nic/../nic/update",
        "//nic/update",
        "/nic//update",
        "/nic/update%00",
        "/NIC/UPDATE",
        "/Nic/Update",
        "/nic/update/",
        "/nic/update;x",
        "/nic/update.",
        "/nic/update?hostname=home.example.co.uk",
        " /nic/update",
        "/nic%2Fupdate",
        "/nic/update\r\nX-Injected: 1",
    ] {
        let answer = call(&env, &update(HOME, "84.17.5.9").path(path));
        assert_raw(&answer, "404 Not Found", &[], "not found\n");
        assert_untouched(&env, path);
    }
}

#[test]
fn no_request_value_reaches_the_header_block() {
    let env = setup("headers");
    let injection = "x\r\nX-Injected: 1\r\n\r\ngood 1.2.3.4\nddns-cgi: error: forged";

    // User agent on a good update.
    let answer = call(
        &env,
        &update(HOME, "84.17.5.40").env("HTTP_USER_AGENT", injection),
    );
    assert_raw(&answer, "200 OK", &[], "good 84.17.5.40\n");
    assert!(answer.stderr.contains("X-Injected"), "the agent is logged");

    // A user name with a line break is no login name: refused like a failed login.
    let answer = call(
        &env,
        &update(HOME, "84.17.5.41").user(Some("alice\r\nX-Injected: 1\nddns-cgi: error: forged")),
    );
    assert_raw(
        &answer,
        "401 Unauthorized",
        &["WWW-Authenticate: Basic realm=\"ddns\""],
        "badauth\n",
    );

    // Host name, address and IPv6 address carrying line breaks, NUL and a second answer.
    for (query, body) in [
        (
            "hostname=home.example.co.uk%0d%0aX-Injected:%201&myip=84.17.5.42",
            "notfqdn\n",
        ),
        (
            "hostname=home.example.co.uk&myip=84.17.5.42%0d%0aX-Injected:%201",
            "badip\n",
        ),
        ("hostname=home.example.co.uk&myip=84.17.5.42%00", "badip\n"),
        (
            "hostname=home.example.co.uk&myipv6=2a01:4f8::1%0d%0a%0d%0agood%201.2.3.4",
            "badip\n",
        ),
        (
            "hostname=home.example.co.uk&myip=84.17.5.42%0agood%201.2.3.4",
            "badip\n",
        ),
        // Not percent-encoded at all: the web server passed the bytes through.
        (
            "hostname=home.example.co.uk\r\nX-Injected: 1&myip=84.17.5.42",
            "notfqdn\n",
        ),
    ] {
        let answer = call(&env, &get(query).env("HTTP_USER_AGENT", injection));
        assert_raw(&answer, "200 OK", &[], body);
    }

    // Blanks around the address are trimmed, and the echo is the trimmed text.
    let answer = call(
        &env,
        &update(HOME, "%0d%0a84.17.5.43%0d%0a").env("HTTP_USER_AGENT", injection),
    );
    assert_raw(&answer, "200 OK", &[], "good 84.17.5.43\n");

    // Failures with their own headers keep exactly those.
    let answer = call(
        &env,
        &update(HOME, "84.17.5.44")
            .user(None)
            .env("HTTP_USER_AGENT", injection),
    );
    assert_raw(
        &answer,
        "401 Unauthorized",
        &["WWW-Authenticate: Basic realm=\"ddns\""],
        "badauth\n",
    );
    let answer = call(
        &env,
        &update(HOME, "84.17.5.44").method("GET\r\nX-Injected: 1"),
    );
    assert_raw(
        &answer,
        "405 Method Not Allowed",
        &["Allow: GET, HEAD, POST, PUT"],
        "method not allowed\n",
    );

    // Only the two good updates above reached the registrar.
    let codes: Vec<String> = env
        .gw
        .requests()
        .iter()
        .map(|r| r.task_code.clone())
        .collect();
    assert_eq!(codes, ["0205", "0202", "0205", "0202"]);
    assert_only_changed_to(&env, "84.17.5.43");
}

/// The home record holds `ip`; every other byte of the zone is the fixture's.
#[track_caller]
fn assert_only_changed_to(env: &Env, ip: &str) {
    assert_eq!(
        without_changed(&env.gw.zone("example.co.uk").unwrap().to_xml()),
        without_changed(&fixture_with(HOME_A, ip))
    );
}

#[test]
fn overlong_queries_are_answered_quickly() {
    let env = setup("overlong");
    let names = format!("{HOME},").repeat(100_000 / (HOME.len() + 1));
    let junk = "x=y&".repeat(12_500);
    let cases = [
        (
            format!("hostname={}&myip=84.17.5.9", "a".repeat(100_000)),
            "notfqdn\n",
        ),
        (format!("hostname={names}&myip=84.17.5.9"), "numhost\n"),
        (
            format!("hostname={HOME}&myip={}", "1".repeat(100_000)),
            "badip\n",
        ),
        (
            format!("hostname={}&myip=84.17.5.9", "%".repeat(100_000)),
            "notfqdn\n",
        ),
    ];
    for (query, body) in &cases {
        assert!(query.len() >= 100_000);
        let started = Instant::now();
        let answer = call(&env, &get(query));
        assert!(started.elapsed() < QUICK, "{body}: {:?}", started.elapsed());
        assert_raw(&answer, "200 OK", &[], body);
        assert_untouched(&env, body);
    }

    // 100 kB of unrelated parameters do not hide the update.
    let started = Instant::now();
    let answer = call(
        &env,
        &get(&format!("{junk}hostname={HOME}&myip=84.17.5.50&{junk}")),
    );
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
    assert_raw(&answer, "200 OK", &[], "good 84.17.5.50\n");
    assert_only_changed(&env, HOME_A, "84.17.5.50", "junk parameters");
}

/// A method holding terminal escapes is refused, and the log shows it escaped: an admin
/// reading the log in a terminal sees the bytes, not what they would do.
#[test]
fn a_method_with_control_characters_is_logged_escaped() {
    let env = setup("method-escape");
    let answer = call(
        &env,
        &update(HOME, "84.17.5.45").method("G\u{1b}[2JE\u{8}T"),
    );
    assert_raw(
        &answer,
        "405 Method Not Allowed",
        &["Allow: GET, HEAD, POST, PUT"],
        "method not allowed\n",
    );
    assert!(
        answer
            .stderr
            .contains("ddns-cgi: info: G\\u{1b}[2JE\\u{8}T / user=alice "),
        "{}",
        answer.stderr
    );
    assert_untouched(&env, "a method with control characters");
}

/// A 6to4 address is as public as the IPv4 address it is made from; a Teredo address
/// never is a host's own. Either is refused before the registrar is asked.
#[test]
fn six_to_four_and_teredo_addresses_are_judged_by_what_they_carry() {
    let env = setup("6to4");
    for (param, reason) in [
        (
            "myip=2002:c000:0204::1",
            "a 6to4 address made from a documentation IPv4 address, not a public one",
        ),
        (
            "myipv6=2002:0a00:0001::1",
            "a 6to4 address made from a private IPv4 address, not a public one",
        ),
        (
            "myip=84.17.5.46,2002:7f00:1::1",
            "a 6to4 address made from a loopback IPv4 address, not a public one",
        ),
        (
            "myipv6=2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "a Teredo address, not a public one",
        ),
    ] {
        let answer = call(&env, &get(&format!("hostname={HOME}&{param}")));
        assert_raw(&answer, "200 OK", &[], "badip\n");
        assert_logged(
            &answer,
            &format!(
                "ddns-cgi: warning: user alice: unusable address ({reason}); answering badip\n"
            ),
        );
        assert_untouched(&env, param);
    }
    // Made from a public IPv4 address, it is an address like any other.
    let answer = call(
        &env,
        &get(&format!("hostname={HOME}&myipv6=2002:5411:509::1")),
    );
    assert_raw(&answer, "200 OK", &[], "good 2002:5411:509::1\n");
    assert_only_changed(&env, HOME_AAAA, "2002:5411:509::1", "a public 6to4 address");
}

//! The CGI contract and the NoIP protocol words, end to end through the real binary.

use std::process::Command;

use crate::schlund::{PASSWORD, TOTP, USER, config_text, fake};
use crate::util::{TempDir, assert_answer, assert_logged, assert_not_logged, binary, get, run};

fn setup(
    tag: &str,
    extra: &str,
) -> (
    TempDir,
    fake_registrars::schlund::FakeSchlund,
    std::path::PathBuf,
) {
    let dir = TempDir::new(tag);
    let gw = fake();
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, &format!("zones = example.co.uk\n{extra}")),
    );
    (dir, gw, cfg)
}

#[test]
fn no_authenticated_user_is_challenged() {
    let (_dir, gw, cfg) = setup("auth", "realm = home ddns");
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk&myip=84.17.5.1").user(None),
    );
    assert_answer(&answer, "401 Unauthorized", "badauth\n");
    assert_eq!(
        answer.header("WWW-Authenticate"),
        Some("Basic realm=\"home ddns\"")
    );
    assert_logged(&answer, "REMOTE_USER is empty");
    assert!(gw.requests().is_empty());
    let answer = run(&cfg, &get("hostname=home.example.co.uk").user(Some("")));
    assert_answer(&answer, "401 Unauthorized", "badauth\n");
}

#[test]
fn every_protocol_word_for_bad_input() {
    let (_dir, gw, cfg) = setup("words", "max_hostnames = 3");
    let cases = [
        ("hostname=localhost&myip=84.17.5.1", "notfqdn\n"),
        ("myip=84.17.5.1", "notfqdn\n"),
        ("hostname=a..example.co.uk&myip=84.17.5.1", "notfqdn\n"),
        ("hostname=1.2.3.4&myip=84.17.5.1", "notfqdn\n"),
        (
            "hostname=a.example.co.uk,b.example.co.uk,c.example.co.uk,d.example.co.uk",
            "numhost\n",
        ),
        ("hostname=home.example.co.uk&myip=192.168.1.1", "badip\n"),
        ("hostname=home.example.co.uk&myip=%3Cipaddr%3E", "badip\n"),
        ("hostname=home.example.co.uk&myip=127.0.0.1", "badip\n"),
        ("hostname=home.example.co.uk&myip=198.51.100.1", "badip\n"),
        (
            "hostname=home.example.co.uk&myip=84.17.5.1,84.17.5.2",
            "badip\n",
        ),
        ("hostname=home.example.co.uk&myip=fe80::1%25eth0", "badip\n"),
        ("hostname=evil.example.co.uk&myip=84.17.5.1", "nohost\n"),
        (
            "hostname=home.example.co.uk,evil.example.co.uk&myip=192.168.1.1",
            "badip\nnohost\n",
        ),
        ("hostname=home.example.co.uk&offline=YES", "!donator\n"),
    ];
    for (query, body) in cases {
        let answer = run(&cfg, &get(query));
        assert_answer(&answer, "200 OK", body);
        assert!(answer.stderr.contains("ddns-cgi: "), "{query}: no log line");
    }
    assert!(
        gw.requests().is_empty(),
        "bad input must not reach the registrar"
    );
    assert_eq!(
        gw.zone("example.co.uk").unwrap().to_xml(),
        fake().zone("example.co.uk").unwrap().to_xml()
    );
}

#[test]
fn answers_keep_request_order_and_duplicates() {
    let (_dir, gw, cfg) = setup("order", "");
    let answer = run(
        &cfg,
        &get(
            "hostname=evil.example.co.uk,%20home.example.co.uk%20,bad..name,home.example.co.uk&myip=84.17.5.2&wildcard=ON&mx=&backmx=NO&system=dyndns",
        ),
    );
    assert_answer(
        &answer,
        "200 OK",
        "nohost\ngood 84.17.5.2\nnotfqdn\ngood 84.17.5.2\n",
    );
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.2"
    );
    assert!(
        answer
            .stderr
            .contains("user alice may not update evil.example.co.uk"),
        "{}",
        answer.stderr
    );
}

#[test]
fn source_address_is_the_default_target() {
    let (_dir, gw, cfg) = setup("source", "");
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk&myip=").from("::ffff:84.17.5.3"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.3\n");
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk").from("2a01:4f8:0:0::3"),
    );
    assert_answer(&answer, "200 OK", "good 2a01:4f8::3\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("home", "A")[0].value, "84.17.5.3");
    assert_eq!(zone.rr("home", "AAAA")[0].value, "2a01:4f8::3");
}

#[test]
fn paths_and_methods() {
    let (_dir, gw, cfg) = setup("paths", "");
    for path in ["/nic/update", "/v3/update", "/update", "/"] {
        let answer = run(
            &cfg,
            &get("hostname=home.example.co.uk&myip=84.17.5.4").path(path),
        );
        assert!(
            answer.body.ends_with(" 84.17.5.4\n"),
            "{path}: {}",
            answer.body
        );
    }
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk&myip=84.17.5.4").path("/admin"),
    );
    assert_answer(&answer, "404 Not Found", "not found\n");
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk&myip=84.17.5.4").method("DELETE"),
    );
    assert_answer(&answer, "405 Method Not Allowed", "method not allowed\n");
    assert_eq!(answer.header("Allow"), Some("GET, HEAD, POST, PUT"));

    gw.clear_requests();
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk&myip=84.17.5.5").method("HEAD"),
    );
    assert_eq!(answer.status, "200 OK");
    assert_eq!(answer.body, "", "HEAD has no body");
    assert!(gw.requests().is_empty(), "HEAD never updates");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.4"
    );
}

#[test]
fn post_and_put_forms_are_read_and_the_query_wins() {
    let (_dir, gw, cfg) = setup("post", "");
    let req = get("hostname=home.example.co.uk").method("POST").body(
        "application/x-www-form-urlencoded",
        "hostname=a.b.example.co.uk&myip=84.17.5.6",
    );
    assert_answer(&run(&cfg, &req), "200 OK", "good 84.17.5.6\n");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.6"
    );
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("a.b", "A")[0].value,
        "198.51.100.8"
    );

    let multipart = "--b0undary\r\nContent-Disposition: form-data; name=\"hostname\"\r\n\r\na.b.example.co.uk\r\n--b0undary\r\nContent-Disposition: form-data; name=\"myip\"\r\n\r\n84.17.5.7\r\n--b0undary--\r\n";
    let req = get("")
        .method("PUT")
        .body("multipart/form-data; boundary=b0undary", multipart);
    assert_answer(&run(&cfg, &req), "200 OK", "good 84.17.5.7\n");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("a.b", "A")[0].value,
        "84.17.5.7"
    );

    // A Cisco ASA posts an opaque body: ignored, the query still counts.
    let req = get("hostname=home.example.co.uk")
        .method("POST")
        .body("application/xml", "<DeviceDetails/>");
    assert_answer(&run(&cfg, &req), "200 OK", "good 84.17.5.1\n");
}

#[test]
fn config_problems_answer_911_and_name_the_fix() {
    let dir = TempDir::new("badconfig");
    let missing = dir.path().join("nope.ini");
    let answer = run(&missing, &get("hostname=home.example.co.uk&myip=84.17.5.8"));
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer
            .stderr
            .contains("nope.ini: file not found; create it or point DDNS_CONFIG at it"),
        "{}",
        answer.stderr
    );

    let cfg = dir.write(
        "bad.ini",
        "[default]\nusername = u\npassword = topsecret\nlog_level = loud\n",
    );
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.8"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(
        &answer,
        "bad.ini line 4, [default] log_level: `loud` is not one of error, warn, info, debug",
    );
    assert_not_logged(&answer, "topsecret");
}

#[test]
fn proxy_variables_from_the_client_are_ignored() {
    // httpoxy: a `Proxy:` request header reaches the CGI as HTTP_PROXY. Pointing it at a
    // closed port would break the update if it were obeyed.
    let (_dir, gw, cfg) = setup("httpoxy", "");
    let req = get("hostname=home.example.co.uk&myip=84.17.5.9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9");
    assert_answer(&run(&cfg, &req), "200 OK", "good 84.17.5.9\n");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.9"
    );
}

#[test]
fn log_lines_and_answers_never_hold_secrets() {
    let (_dir, gw, cfg) = setup("secrets", "log_level = debug");
    let mut seen = String::new();
    for query in [
        "hostname=home.example.co.uk&myip=84.17.5.10",
        "hostname=home.example.co.uk&myip=84.17.5.10",
        "hostname=home.example.co.uk&myip=84.17.5.11&password=routerpw",
    ] {
        let answer = run(&cfg, &get(query));
        seen.push_str(&answer.raw);
        seen.push_str(&answer.stderr);
    }
    gw.set_clock_offset(3600);
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.12"));
    seen.push_str(&answer.raw);
    seen.push_str(&answer.stderr);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for secret in [PASSWORD, "s3cret", TOTP, "routerpw"] {
        assert!(!seen.contains(secret), "{secret} leaked:\n{seen}");
    }
    for step in [now - 30, now, now + 30] {
        let code = fake_registrars::schlund::totp_code(TOTP, step);
        assert!(!seen.contains(&code), "TOTP code leaked:\n{seen}");
    }
    assert!(
        seen.contains("schlund: zone update for example.co.uk: S0202"),
        "debug lines expected:\n{seen}"
    );
}

#[test]
fn check_config_validates_and_redacts() {
    let (_dir, _gw, cfg) = setup("check", "");
    let out = Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&cfg)
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("  password = ***\n"), "{stdout}");
    assert!(stdout.contains("  totp_secret = ***\n"), "{stdout}");
    assert!(stdout.contains("  zones = example.co.uk\n"), "{stdout}");
    assert!(stdout.ends_with("config OK\n"));
    assert!(!stdout.contains("s3cret") && !stdout.contains(TOTP));

    let dir = TempDir::new("check-bad");
    let bad = dir.write(
        "bad.ini",
        "[default]\nusername = u\npassword = p\ncontext = ten\n",
    );
    let out = Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&bad)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "ddns-cgi: config {} line 4, [default] context: `ten` is not a number (SchlundTech customers use 10)\n",
            bad.display()
        )
    );

    // DDNS_CONFIG is honoured by the CLI too.
    let out = Command::new(binary())
        .arg("check-config")
        .env_clear()
        .env("DDNS_CONFIG", &cfg)
        .output()
        .unwrap();
    assert!(out.status.success());

    let text = include_str!("../../config.example.ini").replace(
        "state_dir = /var/lib/ddns-cgi",
        &format!("state_dir = {}/example-state", dir.path().display()),
    );
    let example = dir.write("example.ini", &text);
    let out = Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&example)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn without_ddns_config_the_ws_ddns_default_file_is_found() {
    // ws.ddns's CGI read ~/.schlund-ddns of the web server's user when DDNS_CONFIG was not
    // set; with no /etc/ddns-cgi/ddns-cgi.ini, ddns-cgi does the same.
    if std::path::Path::new("/etc/ddns-cgi/ddns-cgi.ini").exists() {
        return;
    }
    let (dir, gw, cfg) = setup("legacy-home", "");
    std::fs::copy(&cfg, dir.path().join(".schlund-ddns")).unwrap();
    let out = Command::new(binary())
        .env_clear()
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("REQUEST_METHOD", "GET")
        .env(
            "QUERY_STRING",
            "hostname=home.example.co.uk&myip=84.17.5.70",
        )
        .env("REMOTE_USER", "alice")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let answer = crate::util::parse_output(
        &String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.70\n");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.70"
    );
}

/// A registrar URL in clear text to another host is refused before anything is sent.
/// `0.0.0.0` is no loopback address, yet on Linux a connection to it reaches this host, so
/// the fake shows that nothing was sent; with `allow_insecure_url = yes` it is used.
#[test]
fn a_cleartext_registrar_url_is_refused_unless_allowed() {
    let dir = TempDir::new("http-url");
    let gw = fake();
    let insecure = gw.url().replace("127.0.0.1", "0.0.0.0");
    let text = config_text(&gw, "zones = example.co.uk").replace(&gw.url(), &insecure);
    let cfg = dir.write_config("ddns.ini", &text);
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.80"));
    assert_answer(&answer, "200 OK", "911\n");
    let line = answer
        .stderr
        .lines()
        .find(|l| l.contains("[default] url:"))
        .unwrap_or_else(|| panic!("no config error line:\n{}", answer.stderr));
    assert_eq!(
        line,
        format!(
            "ddns-cgi: error: config {} line 6, [default] url: `http://0.0.0.0` would carry the registrar's password, one-time codes or token in clear text; use https://, or, if the way to it is protected otherwise (a VPN, a TLS-terminating proxy on this host), set allow_insecure_url = yes in [default]; answering 911",
            cfg.display()
        )
    );
    assert!(gw.requests().is_empty(), "{:?}", gw.requests());
    assert_eq!(
        gw.zone("example.co.uk").unwrap().to_xml(),
        fake().zone("example.co.uk").unwrap().to_xml()
    );

    let cfg = dir.write_config("allowed.ini", &format!("{text}allow_insecure_url = yes\n"));
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.81"));
    assert_answer(&answer, "200 OK", "good 84.17.5.81\n");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.81"
    );
}

/// The ws.ddns layout keeps the SchlundTech account in `[DEFAULT]`. A `[gandi]` section
/// without its own `url` would inherit the SchlundTech URL and send the Gandi token there:
/// the config is refused, and nothing at all reaches that URL.
#[test]
fn a_gandi_token_never_goes_to_the_schlundtech_url_from_upper_default() {
    use std::sync::{Arc, Mutex};

    use fake_registrars::server::{HttpServer, Reply};

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = Arc::clone(&seen);
    // Stands where the SchlundTech gateway would be, and records whatever arrives.
    let schlund_url = HttpServer::start(0, move |incoming| {
        record.lock().unwrap().push(format!(
            "{} {} {:?}",
            incoming.method,
            incoming.url,
            incoming.header("Authorization")
        ));
        Reply::new(404, "text/plain", "Not Found\n")
    })
    .unwrap();
    let gandi = crate::gandi::fake();
    let token = crate::gandi::TOKEN;
    let dir = TempDir::new("default-url");
    let ws_ddns = format!(
        "[default]\nallowed_hostnames = home.example.com\nzones = example.co.uk\n\n[DEFAULT]\nusername = {USER}\npassword = {}\ncontext = 10\nurl = {}/\ntotp_secret = {TOTP}\n\n[gandi]\ntoken = {token}\nzones = example.com\n",
        PASSWORD.replace('%', "%%"),
        schlund_url.base_url()
    );
    let cfg = dir.write_config("ddns.ini", &ws_ddns);
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.82"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(
        &answer,
        &format!(
            "config {} line 10, [DEFAULT] url: [gandi] would inherit it, but a registrar URL or credential in [DEFAULT] belongs to the SchlundTech account (as in ws.ddns files) and must not reach another registrar; set url in [gandi] itself, and move it from [DEFAULT] to [default] or [schlund] if it is SchlundTech's; answering 911\n",
            cfg.display()
        ),
    );
    assert!(!answer.stderr.contains(token) && !answer.raw.contains(token));
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    assert!(gandi.requests().is_empty());

    // With its own url, [gandi] works beside the inherited SchlundTech account.
    let cfg = dir.write_config(
        "fixed.ini",
        &format!("{ws_ddns}url = {}\n", gandi.base_url()),
    );
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.83"));
    assert_answer(&answer, "200 OK", "good 84.17.5.83\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "A").unwrap().values,
        ["84.17.5.83"]
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

/// `check-config` with `text` (state_dir added); its exit status and stderr.
fn check_config_of(dir: &TempDir, name: &str, text: &str) -> (Option<i32>, String) {
    let cfg = dir.write_config(name, text);
    let out = Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&cfg)
        .env_clear()
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn wildcard_warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("allowed_hostnames: *."))
        .collect()
}

/// A wildcard on a public suffix loads (it is valid), but check-config points at it.
#[test]
fn check_config_warns_about_a_wildcard_outside_the_zones() {
    let dir = TempDir::new("check-wildcard");
    let gw = fake();
    let base = config_text(&gw, "zones = example.co.uk").replace(
        "allowed_hostnames = home.example.co.uk a.b.example.co.uk example.co.uk nothere.example.co.uk",
        "allowed_hostnames = home.example.co.uk *.co.uk *.dyn.example.co.uk *.example.co.uk",
    );
    let users = "[user:bob]\nallowed_hostnames = *.bob.example.co.uk *.org.uk\n";
    let (status, stderr) = check_config_of(&dir, "zoned.ini", &format!("{base}{users}"));
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(
        wildcard_warnings(&stderr),
        [
            "ddns-cgi: warning: [default] allowed_hostnames: *.co.uk is not at or below a configured zone (example.co.uk); a wildcard above the zones, such as one on a public suffix, admits every name of every zone below it; write it at or below a zone (e.g. *.dyn.example.co.uk)",
            "ddns-cgi: warning: [user:bob] allowed_hostnames: *.org.uk is not at or below a configured zone (example.co.uk); a wildcard above the zones, such as one on a public suffix, admits every name of every zone below it; write it at or below a zone (e.g. *.dyn.example.co.uk)",
        ],
        "{stderr}"
    );

    // Without zones, the registrar's zones are unknown: the warning says so.
    let unzoned = base.replace("zones = example.co.uk\n", "");
    let (status, stderr) = check_config_of(&dir, "unzoned.ini", &unzoned);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(
        wildcard_warnings(&stderr).len(),
        3,
        "every wildcard is unchecked: {stderr}"
    );
    assert!(
        stderr.contains("ddns-cgi: warning: [default] allowed_hostnames: *.co.uk could not be checked against the zones, since the SchlundTech account sets no zones; a wildcard above them, such as one on a public suffix, would admit every name of every zone below it; set zones to have it checked\n"),
        "{stderr}"
    );

    // Wildcards inside the zones give no warning.
    let inside = config_text(&gw, "zones = example.co.uk").replace(
        "allowed_hostnames = home.example.co.uk a.b.example.co.uk example.co.uk nothere.example.co.uk",
        "allowed_hostnames = *.example.co.uk *.dyn.example.co.uk",
    );
    let (status, stderr) = check_config_of(&dir, "inside.ini", &inside);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(wildcard_warnings(&stderr).is_empty(), "{stderr}");
}

/// `DDNS_LOG_LEVEL` in the web server's environment sets the CGI's level over the config's
/// `log_level`, as it does for the command line.
#[test]
fn ddns_log_level_sets_the_cgis_level() {
    use fake_registrars::gandi::{FakeGandi, fixture_zone};
    let dir = TempDir::new("cgi-log-level");
    let gandi = FakeGandi::start(&[crate::gandi::TOKEN], vec![fixture_zone()]);
    let cfg = crate::cli::gandi_config(&dir, &gandi, "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replacen("[default]\n", "[default]\nlog_level = info\n", 1),
    )
    .unwrap();
    let request = |addr: &str, level: Option<&str>| {
        let req = get(&format!("hostname=home.example.com&myip={addr}")).user(Some("router"));
        let req = match level {
            Some(level) => req.env("DDNS_LOG_LEVEL", level),
            None => req,
        };
        let answer = run(&cfg, &req);
        assert_answer(&answer, "200 OK", &format!("good {addr}\n"));
        answer
    };
    let info = request("84.17.5.70", None);
    assert_logged(&info, "ddns-cgi: info: GET / user=router");
    assert_not_logged(&info, "debug:");
    let debug = request("84.17.5.71", Some("debug"));
    assert_logged(
        &debug,
        "ddns-cgi: debug: gandi: writing A of home.example.com: 84.17.5.71 ttl 300",
    );
    assert_logged(&debug, "ddns-cgi: info: GET / user=router");
    let error = request("84.17.5.72", Some("error"));
    assert_eq!(error.stderr, "", "nothing below error");
}

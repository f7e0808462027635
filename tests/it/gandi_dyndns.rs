//! The gandi-dyndns dialect (`/nic_update`, `/ping`) and NoIP's strict status, through the
//! real CGI process against the strict Gandi fake.

use fake_registrars::gandi::{FakeGandi, GandiFault, Rrset};

use crate::gandi::{TOKEN, fake, untouched};
use crate::util::{Request, TempDir, assert_answer, assert_logged, get, run};

/// A request to `/nic_update` (binary mounted once under `/ddns`) by alice.
pub fn nic_update(query: &str) -> Request {
    get(query).env("SCRIPT_NAME", "/ddns").path("/nic_update")
}

/// Gandi holding example.com with `home` at TTL 1800, `fw` for the trusted user; alice may
/// change `*.example.com` and `*.example.org` (no such zone), asa only `fw.example.com`, and
/// the network 84.17.5.0/24 acts for asa.
pub fn setup(dir: &TempDir, extra: &str) -> (FakeGandi, std::path::PathBuf) {
    let gandi = fake();
    gandi.put_rrset(
        "example.com",
        Rrset::new("home", "A", 1800, &["198.51.100.7"]),
    );
    gandi.put_rrset(
        "example.com",
        Rrset::new("fw", "A", 600, &["198.51.100.30"]),
    );
    gandi.put_rrset(
        "example.com",
        Rrset::new("fw", "AAAA", 600, &["2001:db8::30"]),
    );
    let cfg = dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\n[user:alice]\nallowed_hostnames = *.example.com *.example.org\n\
             [user:asa]\nallowed_hostnames = fw.example.com\n\
             [dialect:gandi-dyndns]\ntrusted_sources = 84.17.5.0/24 2a01:4f8:1::/48\ntrusted_user = asa\n\
             {extra}\n[gandi]\ntoken = {TOKEN}\nurl = {}\nzones = example.com\n",
            gandi.base_url()
        ),
    );
    (gandi, cfg)
}

/// What the zone must look like after a case.
type Check = fn(&FakeGandi);
/// A request, a fault of Gandi's, the status, body and log text, and the zone's check.
type Case = (
    Request,
    Option<GandiFault>,
    &'static str,
    &'static str,
    &'static str,
    Check,
);

/// Every status and its exact (empty) body, and what reached Gandi.
#[test]
fn every_status_and_body() {
    let no_write: Check = |g| assert!(g.writes().is_empty(), "{:?}", g.writes());
    let kept: Check = |g| {
        let a = g.rrset("example.com", "home", "A");
        assert_eq!(a, Some(Rrset::new("home", "A", 1800, &["198.51.100.7"])));
    };
    let cases: Vec<Case> = vec![
        (
            nic_update("fqdn=home.example.com&ip=84.17.5.9"),
            None,
            "200 OK",
            "",
            "200 (changed) -> 200",
            |g| {
                // The TTL of the record is kept; the AAAA beside it is untouched.
                let a = g.rrset("example.com", "home", "A");
                assert_eq!(a, Some(Rrset::new("home", "A", 1800, &["84.17.5.9"])));
                assert_eq!(g.writes().len(), 1);
            },
        ),
        (
            nic_update("fqdn=home.example.com").from("2a01:4f8::9"),
            None,
            "200 OK",
            "",
            "200 (changed) -> 200",
            |g| {
                let aaaa = g.rrset("example.com", "home", "AAAA");
                assert_eq!(
                    aaaa,
                    Some(Rrset::new("home", "AAAA", 300, &["2a01:4f8::9"]))
                );
                let a = g.rrset("example.com", "home", "A");
                assert_eq!(a, Some(Rrset::new("home", "A", 1800, &["198.51.100.7"])));
            },
        ),
        (
            nic_update("").method("POST").body(
                "application/x-www-form-urlencoded",
                "fqdn=home.example.com&ip=84.17.5.10",
            ),
            None,
            "200 OK",
            "",
            "200 (changed) -> 200",
            |g| assert_eq!(g.writes().len(), 1),
        ),
        // HEAD never updates.
        (
            nic_update("fqdn=home.example.com&ip=84.17.5.11").method("HEAD"),
            None,
            "200 OK",
            "",
            "",
            no_write,
        ),
        (
            nic_update("ip=84.17.5.9"),
            None,
            "400 Bad Request",
            "",
            "the request names no host name; answering 400 (no fqdn)",
            no_write,
        ),
        (
            nic_update(""),
            None,
            "400 Bad Request",
            "",
            "the request names no host name; answering 400 (no fqdn)",
            no_write,
        ),
        (
            nic_update("fqdn=home.example.com&ip=10.0.0.1"),
            None,
            "400 Bad Request",
            "",
            "answering 400 (unusable address)",
            no_write,
        ),
        (
            nic_update("fqdn=home.example.com&ip=999.1.1.1"),
            None,
            "400 Bad Request",
            "",
            "answering 400 (unusable address)",
            no_write,
        ),
        (
            nic_update("fqdn=home.example.com&ip=192.0.2.1"),
            None,
            "400 Bad Request",
            "",
            "answering 400 (unusable address)",
            no_write,
        ),
        (
            nic_update("fqdn=-bad..example.com&ip=84.17.5.9"),
            None,
            "400 Bad Request",
            "",
            "answering 400 (not a host name)",
            no_write,
        ),
        (
            nic_update("fqdn=nothere.example.com&ip=84.17.5.9"),
            None,
            "404 Not Found",
            "",
            "answering 404 (no record)",
            no_write,
        ),
        (
            nic_update("fqdn=home.example.org&ip=84.17.5.9"),
            None,
            "404 Not Found",
            "",
            "answering 404 (no zone)",
            no_write,
        ),
        (
            nic_update("fqdn=home.example.net&ip=84.17.5.9"),
            None,
            "404 Not Found",
            "",
            "answering 404 (name not allowed)",
            no_write,
        ),
        (
            nic_update("fqdn=home.example.com&ip=84.17.5.9")
                .user(None)
                .from("84.17.6.1"),
            None,
            "401 Unauthorized",
            "",
            "answering 401",
            no_write,
        ),
        (
            nic_update("fqdn=home.example.com&ip=84.17.5.9").method("PUT"),
            None,
            "405 Method Not Allowed",
            "",
            "",
            no_write,
        ),
        (
            nic_update("fqdn=home.example.com&ip=84.17.5.12"),
            Some(GandiFault::FailWrites(400)),
            "502 Bad Gateway",
            "",
            "home.example.com 502 -> 502",
            kept,
        ),
        (
            nic_update("fqdn=home.example.com&ip=84.17.5.13"),
            Some(GandiFault::Status500Html),
            "503 Service Unavailable",
            "",
            "home.example.com 503 -> 503",
            kept,
        ),
    ];
    for (request, fault, status, body, log, check) in cases {
        let dir = TempDir::new("gd-status");
        let (gandi, cfg) = setup(&dir, "");
        let before = gandi.rrsets("example.com");
        if let Some(fault) = fault {
            gandi.set_fault(fault);
        }
        let answer = run(&cfg, &request);
        let label = format!("{} {}", request.method, request.query);
        assert_eq!(answer.status, status, "{label}\n{}", answer.stderr);
        if request.method != "HEAD" {
            assert_answer(&answer, status, body);
        }
        assert_logged(&answer, log);
        check(&gandi);
        untouched(&gandi, &before, &[("home", "A"), ("home", "AAAA")]);
        if status == "503 Service Unavailable" {
            assert_eq!(answer.header("Retry-After"), Some("300"), "{label}");
        }
        if status == "401 Unauthorized" {
            assert!(answer.header("WWW-Authenticate").is_some());
        }
        if status == "405 Method Not Allowed" {
            assert_eq!(answer.header("Allow"), Some("GET, HEAD, POST"));
        }
    }
    // 403: a 13th change within the abuse window (abuse_limit = 12); Gandi is not asked.
    let dir = TempDir::new("gd-status-abuse");
    let (gandi, cfg) = setup(&dir, "");
    for n in 1..=12 {
        let answer = run(
            &cfg,
            &nic_update(&format!("fqdn=home.example.com&ip=84.17.5.{n}")),
        );
        assert_answer(&answer, "200 OK", "");
    }
    let writes = gandi.writes().len();
    let answer = run(&cfg, &nic_update("fqdn=home.example.com&ip=84.17.5.99"));
    assert_answer(&answer, "403 Forbidden", "");
    assert_logged(&answer, "403 (abuse)");
    assert_eq!(gandi.writes().len(), writes);
    let a = gandi.rrset("example.com", "home", "A");
    assert_eq!(a, Some(Rrset::new("home", "A", 1800, &["84.17.5.12"])));
}

/// An unchanged address is answered from local state, without asking Gandi.
#[test]
fn a_repeat_is_answered_from_state() {
    let dir = TempDir::new("gd-nochg");
    let (gandi, cfg) = setup(&dir, "");
    let request = nic_update("fqdn=home.example.com&ip=84.17.5.9");
    assert_answer(&run(&cfg, &request), "200 OK", "");
    gandi.clear_requests();
    let answer = run(&cfg, &request);
    assert_answer(&answer, "200 OK", "");
    assert_logged(&answer, "200 (unchanged) (from state) -> 200");
    assert!(gandi.requests().is_empty(), "{:?}", gandi.requests());
}

/// `/ping` answers without a principal and without asking Gandi.
#[test]
fn ping_answers_without_anyone() {
    let dir = TempDir::new("gd-ping");
    let (gandi, cfg) = setup(&dir, "");
    for method in ["GET", "POST", "HEAD"] {
        let ping = get("")
            .env("SCRIPT_NAME", "/ping")
            .user(None)
            .from("198.51.100.1");
        let answer = run(&cfg, &ping.clone().method(method));
        assert_eq!(answer.status, "200 OK", "{method}");
        assert_eq!(answer.header("Content-Length"), Some("12"));
        if method != "HEAD" {
            assert_answer(&answer, "200 OK", "I'am alive!\n");
        }
        let mounted = get("").env("SCRIPT_NAME", "/ddns").path("/ping").user(None);
        assert_answer(&run(&cfg, &mounted), "200 OK", "I'am alive!\n");
    }
    let answer = run(&cfg, &get("").env("SCRIPT_NAME", "/ping").method("DELETE"));
    assert_eq!(answer.status, "405 Method Not Allowed");
    assert!(gandi.requests().is_empty(), "{:?}", gandi.requests());
    let slash = run(&cfg, &get("").env("SCRIPT_NAME", "/ddns").path("/ping/"));
    assert_eq!(slash.status, "404 Not Found");
}

/// A device in `trusted_sources` acts for `trusted_user`, with that user's names only;
/// another address without credentials is refused; REMOTE_USER wins.
#[test]
fn trusted_sources_act_for_their_user() {
    let dir = TempDir::new("gd-trusted");
    let (gandi, cfg) = setup(&dir, "");
    let before = gandi.rrsets("example.com");
    let device = |query: &str, from: &str| nic_update(query).user(None).from(from);

    let answer = run(&cfg, &device("fqdn=fw.example.com", "84.17.5.77"));
    assert_answer(&answer, "200 OK", "");
    assert_logged(
        &answer,
        "user=asa from=84.17.5.77 agent=ddclient/4.0.0 query=fqdn=fw.example.com:",
    );
    assert_eq!(
        gandi.rrset("example.com", "fw", "A"),
        Some(Rrset::new("fw", "A", 600, &["84.17.5.77"]))
    );
    let answer = run(&cfg, &device("fqdn=fw.example.com", "2a01:4f8:1::5"));
    assert_answer(&answer, "200 OK", "");
    assert_eq!(
        gandi.rrset("example.com", "fw", "AAAA"),
        Some(Rrset::new("fw", "AAAA", 600, &["2a01:4f8:1::5"]))
    );
    // The trusted user's own list: home is alice's.
    let answer = run(&cfg, &device("fqdn=home.example.com", "84.17.5.77"));
    assert_answer(&answer, "404 Not Found", "");
    // Outside the networks, nobody.
    let answer = run(&cfg, &device("fqdn=fw.example.com", "84.17.6.1"));
    assert_answer(&answer, "401 Unauthorized", "");
    assert_logged(&answer, "no credentials");
    // The web server's user wins over the network.
    let answer = run(
        &cfg,
        &nic_update("fqdn=home.example.com").from("84.17.5.78"),
    );
    assert_answer(&answer, "200 OK", "");
    assert_logged(&answer, "user=alice from=84.17.5.78");
    untouched(
        &gandi,
        &before,
        &[("fw", "A"), ("fw", "AAAA"), ("home", "A")],
    );
}

/// `[dialect:noip] strict_status = yes`: the same bodies, failing statuses.
#[test]
fn noip_strict_status() {
    let cases = [
        (
            "hostname=nothere.example.com&myip=84.17.5.9",
            None,
            "400 Bad Request",
            "nohost\n",
        ),
        (
            "hostname=home.example.com&myip=10.0.0.1",
            None,
            "400 Bad Request",
            "badip\n",
        ),
        ("myip=84.17.5.9", None, "400 Bad Request", "notfqdn\n"),
        (
            "hostname=home.example.com&myip=84.17.5.9",
            Some(GandiFault::FailWrites(400)),
            "502 Bad Gateway",
            "dnserr\n",
        ),
        (
            "hostname=home.example.com&myip=84.17.5.9",
            Some(GandiFault::Status500Html),
            "503 Service Unavailable",
            "911\n",
        ),
        (
            "hostname=home.example.com&myip=84.17.5.9",
            None,
            "200 OK",
            "good 84.17.5.9\n",
        ),
    ];
    for (query, fault, strict, body) in cases {
        for on in [true, false] {
            let dir = TempDir::new("gd-strict");
            let extra = if on {
                "[dialect:noip]\nstrict_status = yes"
            } else {
                ""
            };
            let (gandi, cfg) = setup(&dir, extra);
            if let Some(fault) = fault.clone() {
                gandi.set_fault(fault);
            }
            let answer = run(&cfg, &get(query));
            assert_answer(&answer, if on { strict } else { "200 OK" }, body);
            let retry = answer.header("Retry-After");
            assert_eq!(retry, (on && strict.starts_with("503")).then_some("300"));
        }
    }
    // numhost: more names than max_hostnames (20); abuse: a 13th change within the
    // abuse window (abuse_limit = 12). ddns-cgi blocks no user agent, so never says badagent.
    let names: Vec<String> = (0..21).map(|n| format!("h{n}.example.com")).collect();
    let numhost = format!("hostname={}&myip=84.17.5.9", names.join(","));
    for on in [true, false] {
        let dir = TempDir::new("gd-strict-more");
        let extra = if on {
            "[dialect:noip]\nstrict_status = yes"
        } else {
            ""
        };
        let (gandi, cfg) = setup(&dir, extra);
        let answer = run(&cfg, &get(&numhost));
        assert_answer(
            &answer,
            if on { "400 Bad Request" } else { "200 OK" },
            "numhost\n",
        );
        assert!(gandi.requests().is_empty());
        for n in 1..=12 {
            let answer = run(
                &cfg,
                &get(&format!("hostname=home.example.com&myip=84.17.5.{n}")),
            );
            assert_answer(&answer, "200 OK", &format!("good 84.17.5.{n}\n"));
        }
        let writes = gandi.writes().len();
        let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.99"));
        assert_answer(
            &answer,
            if on { "403 Forbidden" } else { "200 OK" },
            "abuse\n",
        );
        assert_eq!(answer.header("Retry-After"), None);
        assert_eq!(gandi.writes().len(), writes, "no write once abusive");
        let home = gandi.rrset("example.com", "home", "A").unwrap();
        assert_eq!(home.values, ["84.17.5.12"]);
    }
}

/// The same URLs through real Apache with deploy/apache/ddns-cgi.conf as written, and with
/// its trusted-network block uncommented.
mod apache {
    use fake_registrars::gandi::Rrset;

    use crate::apache::Apache;
    use crate::webserver::{
        Frontend, PASSWORD, Request, Stack, USER, assert_body, assert_challenge,
    };

    pub(super) const TRUSTED: &str = "[user:asa]\nallowed_hostnames = home.example.com\n\
                           [dialect:gandi-dyndns]\ntrusted_sources = 127.0.0.1/32\ntrusted_user = asa\n";

    fn home(stack: &Stack) -> Option<Rrset> {
        stack.gandi.rrset("example.com", "home", "A")
    }

    #[test]
    fn apache_nic_update_and_ping() {
        let stack = Stack::with("apache-gd", "", TRUSTED);
        let apache = Apache::start(&stack.site);
        let port = apache.port();
        for request in [
            Request::get("/ping"),
            Request::post("/ping", "text/plain", ""),
        ] {
            assert_body(&apache, &request.send(port), "I'am alive!\n");
        }
        let update = "/nic_update?fqdn=home.example.com&ip=84.17.5.50";
        let answer = Request::get(update).auth(USER, PASSWORD).send(port);
        assert_body(&apache, &answer, "");
        assert_eq!(
            home(&stack),
            Some(Rrset::new("home", "A", 300, &["84.17.5.50"]))
        );
        stack.gandi.clear_requests();
        let answer = Request::get(update).auth(USER, PASSWORD).send(port);
        assert_body(&apache, &answer, "");
        assert!(stack.gandi.requests().is_empty());
        let answer = Request::get("/nic_update?fqdn=nothere.example.com&ip=84.17.5.50")
            .auth(USER, PASSWORD)
            .send(port);
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (404, ""),
            "{answer:?}"
        );
        let answer = Request::get("/nic_update?fqdn=home.example.com&ip=10.1.1.1")
            .auth(USER, PASSWORD)
            .send(port);
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (400, ""),
            "{answer:?}"
        );
        // As written, Apache asks every address for a password.
        assert_challenge(&apache, &Request::get(update).send(port));
        assert_eq!(
            home(&stack),
            Some(Rrset::new("home", "A", 300, &["84.17.5.50"]))
        );
    }

    /// Under the shared-hosting .htaccess, `/ping` asks for the password too, as its
    /// comment says; with it, the usual answer, and no registrar call.
    #[test]
    fn apache_htaccess_ping_asks_for_the_password() {
        let stack = Stack::new("apache-gd-htaccess");
        let apache = Apache::start_htaccess(&stack.site);
        let port = apache.port();
        stack.gandi.clear_requests();
        assert_challenge(&apache, &Request::get("/ddns/ping").send(port));
        let answer = Request::get("/ddns/ping").auth(USER, PASSWORD).send(port);
        assert_body(&apache, &answer, "I'am alive!\n");
        assert!(stack.gandi.requests().is_empty());
    }

    #[test]
    fn apache_trusted_network_acts_for_its_user() {
        const BLOCK: &str = "# <Location \"/nic_update\">\n#     <RequireAny>\n#         Require valid-user\n#         Require ip 192.0.2.0/24\n#     </RequireAny>\n# </Location>\n";
        let stack = Stack::with("apache-gd-trusted", "", TRUSTED);
        let apache = Apache::start_edited(&stack.site, |text| {
            assert!(text.contains(BLOCK), "the documented block changed");
            let open = BLOCK.replace("# ", "").replace("192.0.2.0/24", "127.0.0.1");
            text.replace(BLOCK, &open)
        });
        let port = apache.port();
        let answer = Request::get("/nic_update?fqdn=home.example.com&ip=84.17.5.51").send(port);
        assert_body(&apache, &answer, "");
        assert_eq!(
            home(&stack),
            Some(Rrset::new("home", "A", 300, &["84.17.5.51"]))
        );
        // The NoIP paths still need the password.
        let noip = "/nic/update?hostname=home.example.com&myip=84.17.5.52";
        assert_challenge(&apache, &Request::get(noip).send(port));
        assert_eq!(
            home(&stack),
            Some(Rrset::new("home", "A", 300, &["84.17.5.51"]))
        );
    }
}

/// The same URLs through real nginx + fcgiwrap with deploy/nginx-fcgiwrap/ddns-cgi.conf.
mod nginx {
    use fake_registrars::gandi::Rrset;

    use crate::nginx::Nginx;
    use crate::webserver::{
        Frontend, PASSWORD, Request, Stack, USER, assert_body, assert_challenge,
    };

    /// The documented trusted-network block, opened for 127.0.0.1/32: every line between
    /// `# location = /nic_update {` and its `# }` uncommented.
    fn open_trusted_block(text: String) -> String {
        let start = text
            .find("    # location = /nic_update {")
            .expect("the documented block changed");
        let end = start
            + text[start..]
                .find("    # }\n")
                .expect("the documented block changed")
            + "    # }\n".len();
        let block = &text[start..end];
        assert!(block.contains("allow 192.0.2.0/24;"), "{block}");
        assert!(!block.contains("REMOTE_USER"), "{block}");
        let open = block
            .replace("    # ", "    ")
            .replace("192.0.2.0/24", "127.0.0.1/32");
        format!("{}{open}{}", &text[..start], &text[end..])
    }

    #[test]
    fn nginx_trusted_network_acts_for_its_user() {
        let trusted =
            super::apache::TRUSTED.replace("[user:asa]\n", "[user:asa]\nuse_global = no\n");
        let stack = Stack::with("nginx-gd-trusted", "", &trusted);
        let nginx = Nginx::start_edited(&stack.site, open_trusted_block);
        let port = nginx.port();
        let home = || stack.gandi.rrset("example.com", "home", "A");
        // From the trusted network without credentials: for the trusted user.
        let answer = Request::get("/nic_update?fqdn=home.example.com&ip=84.17.5.61").send(port);
        assert_body(&nginx, &answer, "");
        assert_eq!(home(), Some(Rrset::new("home", "A", 300, &["84.17.5.61"])));
        assert!(nginx.logs().contains("user=asa"), "{}", nginx.logs());
        // A forged Authorization header, even of a real user, does not change who it acts
        // for: the trusted user may not change the other user's name.
        let before = stack.zone();
        for (user, password) in [(USER, PASSWORD), (USER, "forged"), ("mallory", "x")] {
            let answer = Request::get("/nic_update?fqdn=a.b.example.co.uk&ip=84.17.5.62")
                .auth(user, password)
                .send(port);
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (404, ""),
                "{answer:?}\n{}",
                nginx.logs()
            );
        }
        assert_eq!(stack.zone(), before);
        let answer = Request::get("/nic_update?fqdn=home.example.com&ip=84.17.5.63")
            .auth("mallory", "x")
            .send(port);
        assert_body(&nginx, &answer, "");
        assert_eq!(home(), Some(Rrset::new("home", "A", 300, &["84.17.5.63"])));
        let logs = nginx.logs();
        assert!(
            !logs.contains("user=mallory") && !logs.contains(&format!("user={USER}")),
            "{logs}"
        );
        // The NoIP paths still need the password.
        let noip = "/nic/update?hostname=home.example.com&myip=84.17.5.64";
        assert_challenge(&nginx, &Request::get(noip).send(port));
        assert_eq!(home(), Some(Rrset::new("home", "A", 300, &["84.17.5.63"])));
    }

    #[test]
    fn nginx_nic_update_and_ping() {
        let stack = Stack::new("nginx-gd");
        let nginx = Nginx::start(&stack.site);
        let port = nginx.port();
        assert_body(&nginx, &Request::get("/ping").send(port), "I'am alive!\n");
        let update = "/nic_update?fqdn=home.example.com&ip=84.17.5.60";
        assert_challenge(&nginx, &Request::get(update).send(port));
        let answer = Request::get(update).auth(USER, PASSWORD).send(port);
        assert_body(&nginx, &answer, "");
        let home = stack.gandi.rrset("example.com", "home", "A");
        assert_eq!(home, Some(Rrset::new("home", "A", 300, &["84.17.5.60"])));
    }
}

//! DNS UPDATE through the real CGI process against a real Knot DNS on 127.0.0.1.

use crate::nameserver::{NameServer, config};
use crate::rfc2136::except;
use crate::util::{TempDir, assert_answer, assert_logged, assert_not_logged, get, run};

#[test]
fn knot_good_then_nochg_then_a_wrong_secret() {
    let dir = TempDir::new("rfc2136-knot");
    let ns = NameServer::knot();
    let cfg = config(&dir, &ns, "cache_seconds = 0", "");
    let before = ns.zone();
    assert_eq!(ns.serial(), 1);

    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=84.17.5.9,2a01:4f8::9"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.9,2a01:4f8::9\n");
    assert_eq!(ns.with_ttl("home.example.com", "A"), ["300 84.17.5.9"]);
    assert_eq!(ns.values("home.example.com", "AAAA"), ["2a01:4f8::9"]);
    assert_eq!(ns.serial(), 2);
    assert_eq!(
        except(&ns.zone(), &["home.example.com."]),
        except(&before, &["home.example.com."])
    );
    assert_logged(&answer, "| 3 registrar calls |");
    assert_not_logged(&answer, &ns.secret);

    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=84.17.5.9,2a01:4f8::9"),
    );
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9,2a01:4f8::9\n");
    assert_logged(&answer, "| 2 registrar calls |");
    assert_eq!(ns.serial(), 2);

    let text = std::fs::read_to_string(&cfg).unwrap();
    let wrong = "c2VjcmV0IHRoYXQgdGhlIHNlcnZlciBkb2VzIG5vdCBrbm93IQ==";
    let cfg = dir.write("wrong.ini", &text.replace(&ns.secret, wrong));
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.10"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "rejected our signature (BADSIG");
    assert_not_logged(&answer, wrong);
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.9"]);

    // A CNAME is read as such from Knot too, and nothing is sent.
    let cfg = config(&dir, &ns, "", "");
    let answer = run(&cfg, &get("hostname=www.example.com&myip=84.17.5.10"));
    assert_answer(&answer, "200 OK", "nohost\n");
    assert_eq!(ns.serial(), 2);
}

#[test]
fn knot_takes_a_kept_hmac_sha512_key() {
    use crate::nameserver::Flavour;
    let dir = TempDir::new("rfc2136-knot-512");
    let ns = NameServer::start(Flavour::Knot, "", "hmac-sha512");
    let cfg = config(
        &dir,
        &ns,
        "cache_seconds = 0",
        "key_algorithm = hmac-sha512",
    );
    let query = get("hostname=v4only.example.com&myip=84.17.5.24");
    let answer = run(&cfg, &query);
    assert_answer(&answer, "200 OK", "good 84.17.5.24\n");
    assert_logged(&answer, "| 2 registrar calls |");
    assert_not_logged(&answer, &ns.secret);
    assert_eq!(ns.values("v4only.example.com", "A"), ["84.17.5.24"]);
    assert_eq!(ns.values("home.example.com", "A"), ["192.0.2.1"]);
    assert_eq!(ns.serial(), 2);
    let answer = run(&cfg, &query);
    assert_answer(&answer, "200 OK", "nochg 84.17.5.24\n");
    assert_eq!(ns.serial(), 2);
}

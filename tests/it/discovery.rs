//! Zone discovery without `zones`: each candidate suffix of a name costs the gateway a call
//! carrying the password and a fresh one-time code, so discovery is bounded per name and
//! per request, and the log tells the admin to set `zones`.

use fake_registrars::schlund::GatewayRequest;

use crate::schlund::{config_text, fake};
use crate::util::{TempDir, assert_answer, assert_logged, get, run};

/// A config without `zones` allowing every name below example.co.uk and example.org.
fn config(dir: &TempDir, gw: &fake_registrars::schlund::FakeSchlund) -> std::path::PathBuf {
    dir.write_config(
        "ddns.ini",
        &config_text(gw, "").replace(
            "allowed_hostnames = ",
            "allowed_hostnames = *.example.co.uk *.example.org ",
        ),
    )
}

/// The names zone discovery asked about, in order.
fn searches(requests: &[GatewayRequest]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.is_list_query)
        .map(|r| r.zone_name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn a_name_with_too_many_labels_is_nohost_without_asking() {
    let dir = TempDir::new("discovery-labels");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let cfg = config(&dir, &gw);
    // Ten labels each: nine candidate zones, one more than discovery looks through.
    let names: Vec<String> = (0..20)
        .map(|i| format!("a.b.c.d.e.f.h{i}.example.co.uk"))
        .collect();
    let answer = run(
        &cfg,
        &get(&format!("hostname={}&myip=84.17.5.90", names.join(","))),
    );
    assert_answer(&answer, "200 OK", &"nohost\n".repeat(20));
    for name in &names {
        for line in [
            format!(
                "ddns-cgi: warning: schlund: {name} has 10 labels, more than zone discovery looks through (9); set zones to the zone that holds it\n"
            ),
            format!(
                "ddns-cgi: warning: {name} is in no zone of the configured registrars; add its zone to a `zones` key; answering nohost\n"
            ),
        ] {
            assert_logged(&answer, &line);
        }
    }
    assert!(gw.requests().is_empty(), "{:?}", gw.requests());

    // Nine labels are looked through, longest suffix first, until the zone is found.
    let answer = run(
        &cfg,
        &get("hostname=b.c.d.e.f.h.example.co.uk&myip=84.17.5.90"),
    );
    assert_answer(&answer, "200 OK", "nohost\n");
    assert_eq!(
        searches(&gw.requests()),
        [
            "b.c.d.e.f.h.example.co.uk",
            "c.d.e.f.h.example.co.uk",
            "d.e.f.h.example.co.uk",
            "e.f.h.example.co.uk",
            "f.h.example.co.uk",
            "h.example.co.uk",
            "example.co.uk",
        ]
    );
    assert_logged(&answer, "has no A record");
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
}

#[test]
fn discovery_stops_when_the_requests_budget_is_spent() {
    let dir = TempDir::new("discovery-budget");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap();
    let cfg = config(&dir, &gw);
    // home costs two searches, h1 three, every later name two (example.org is known by
    // then): h8 ends at 19, h9 gets one more and then stops, the later ones stop at once.
    let mut names = vec!["home.example.co.uk".to_string()];
    names.extend((1..20).map(|i| format!("h{i}.z{i}.example.org")));
    let answer = run(
        &cfg,
        &get(&format!("hostname={}&myip=84.17.5.91", names.join(","))),
    );
    assert_answer(
        &answer,
        "200 OK",
        &format!(
            "good 84.17.5.91\n{}{}",
            "nohost\n".repeat(8),
            "911\n".repeat(11)
        ),
    );
    for name in &names[9..] {
        let line = format!(
            "ddns-cgi: error: schlund: zone discovery for {name} stopped: this request already asked the registrar 20 times, the most one request may; set zones so names are routed without asking\n"
        );
        assert_logged(&answer, &line);
    }
    let requests = gw.requests();
    let searched = searches(&requests);
    assert_eq!(searched.len(), 20, "{searched:?}");
    assert_eq!(searched[19], "h9.z9.example.org");
    // Besides the searches: the inquiry and the update of example.co.uk, for home.
    let others: Vec<_> = requests
        .iter()
        .filter(|r| !r.is_list_query)
        .map(|r| (r.task_code.as_str(), r.zone_name.as_deref()))
        .collect();
    assert_eq!(
        others,
        [
            ("0205", Some("example.co.uk")),
            ("0202", Some("example.co.uk"))
        ]
    );
    let zone = gw.zone("example.co.uk").unwrap();
    let mut expected = before.all_rr();
    for rr in &mut expected {
        if rr.name == "home" && rr.rr_type == "A" {
            rr.value = "84.17.5.91".into();
        }
    }
    assert_eq!(zone.all_rr(), expected);
    // The budget is per request: the next one finds a zone again.
    gw.clear_requests();
    let answer = run(&cfg, &get("hostname=h19.z19.example.org&myip=84.17.5.91"));
    assert_answer(&answer, "200 OK", "nohost\n");
    assert_eq!(searches(&gw.requests()).len(), 3);
}

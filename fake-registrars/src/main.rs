//! `fake-registrars`: the strict fakes as a process, for the demo stack and benchmarks.
//!
//! Starts the SchlundTech gateway fake and the Gandi LiveDNS fake on 127.0.0.1 with their
//! fixture zones (plus, on request, copies of the SchlundTech one under other names) and the
//! fixed demo credentials below, prints one line per server, and serves until killed
//! (SIGTERM or SIGINT end the process; nothing needs saving). A third, read-only server shows
//! the stored zones and request counts, on its own port so the registrar APIs stay exactly as
//! strict as in the tests.

#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use fake_registrars::gandi::{FakeGandi, fixture_zone};
use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund, SchlundUser, fixture_zone_named};
use fake_registrars::server::{HttpServer, Incoming, Reply};

/// Gateway user of the demo SchlundTech account (a SchlundTech customer number).
const SCHLUND_USER: &str = "1234567";
/// Its password.
const SCHLUND_PASSWORD: &str = "demo-gateway-password";
/// Its context (SchlundTech's is 10).
const SCHLUND_CONTEXT: &str = "10";
/// The personal access token the Gandi fake accepts.
const GANDI_TOKEN: &str = "pat_demo0000000000000000000000000000000000000";
/// The name of the SchlundTech fixture zone, always served.
const SCHLUND_FIXTURE_NAME: &str = "example.co.uk";

const USAGE: &str = "\
usage: fake-registrars [--schlund-port N] [--gandi-port N] [--inspect-port N] [--latency-ms N]
                       [--schlund-zone NAME]...

Serves strict fakes of the SchlundTech XML gateway and Gandi LiveDNS on 127.0.0.1 until
killed. Ports default to 0 (any free port); the chosen URLs are printed, one line each:

  schlund URL user=1234567 password=demo-gateway-password context=10 zone=example.co.uk zones=example.co.uk
  gandi URL token=pat_demo0000000000000000000000000000000000000 zone=example.com
  inspect URL

`zone=` is the SchlundTech fixture zone; `zones=` lists every SchlundTech zone served,
comma separated, the fixture first.

--schlund-zone NAME (repeatable) serves one more SchlundTech zone: the fixture zone with
only its name changed to NAME (its records, and values such as `www CNAME example.co.uk.`,
stay the same). NAME is a lower-case DNS name of two or more labels, for example
example.net, which clients that take the last two labels as the zone can update.

The inspect server answers, read-only:
  GET /schlund/zone/NAME      the stored zone as the gateway's XML
  GET /schlund/records/NAME   its records, one `name ttl type value` line each
  GET /gandi/records/NAME     the rrsets of a Gandi zone as JSON
  GET /requests               how many requests each fake has answered, as JSON

--latency-ms N delays every registrar answer by N milliseconds.
";

/// What the command line asked for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    schlund_port: u16,
    gandi_port: u16,
    inspect_port: u16,
    latency: Duration,
    /// Extra SchlundTech zones, in the order given.
    schlund_zones: Vec<String>,
}

/// Checks a `--schlund-zone` name: lower-case LDH labels, at least two, at most 253 bytes.
fn zone_name(text: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("--schlund-zone: `{text}` {why}"));
    if text.len() > 253 {
        return bad("is longer than 253 characters");
    }
    let labels: Vec<&str> = text.split('.').collect();
    if labels.len() < 2 {
        return bad("needs at least two labels, such as example.net");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !labels.iter().all(|l| label_ok(l)) {
        return bad("is not a lower-case DNS name (letters, digits and inner hyphens per label)");
    }
    Ok(text.to_string())
}

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value"))
                .cloned()
        };
        let port = |text: String| {
            text.parse::<u16>()
                .map_err(|_| format!("{arg}: `{text}` is not a port number"))
        };
        match arg.as_str() {
            "--schlund-port" => options.schlund_port = port(value()?)?,
            "--gandi-port" => options.gandi_port = port(value()?)?,
            "--inspect-port" => options.inspect_port = port(value()?)?,
            "--schlund-zone" => {
                let name = zone_name(&value()?)?;
                if name == SCHLUND_FIXTURE_NAME || options.schlund_zones.contains(&name) {
                    return Err(format!("--schlund-zone: zone `{name}` is already served"));
                }
                options.schlund_zones.push(name);
            }
            "--latency-ms" => {
                let text = value()?;
                let ms = text
                    .parse::<u64>()
                    .map_err(|_| format!("--latency-ms: `{text}` is not a number"))?;
                options.latency = Duration::from_millis(ms);
            }
            other => return Err(format!("unknown argument `{other}`; see --help")),
        }
    }
    Ok(Some(options))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fake-registrars: {message}");
            return ExitCode::from(2);
        }
    };
    match serve(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fake-registrars: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(options: &Options) -> Result<(), String> {
    let extra: Vec<String> = options
        .schlund_zones
        .iter()
        .map(|name| fixture_zone_named(name))
        .collect();
    let zones: Vec<&str> = std::iter::once(FIXTURE_ZONE)
        .chain(extra.iter().map(String::as_str))
        .collect();
    let schlund = FakeSchlund::start_on(
        options.schlund_port,
        vec![SchlundUser::new(
            SCHLUND_USER,
            SCHLUND_PASSWORD,
            SCHLUND_CONTEXT,
        )],
        &zones,
    )
    .map_err(|e| format!("SchlundTech fake on port {}: {e}", options.schlund_port))?;
    let gandi = FakeGandi::start_on(options.gandi_port, &[GANDI_TOKEN], vec![fixture_zone()])
        .map_err(|e| format!("Gandi fake on port {}: {e}", options.gandi_port))?;
    schlund.set_latency(options.latency);
    gandi.set_latency(options.latency);

    let schlund = Arc::new(schlund);
    let gandi = Arc::new(gandi);
    let (s, g) = (Arc::clone(&schlund), Arc::clone(&gandi));
    let inspect = HttpServer::start(options.inspect_port, move |req| inspect(&s, &g, &req))
        .map_err(|e| format!("inspect server on port {}: {e}", options.inspect_port))?;

    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        schlund_line(&schlund.url(), &options.schlund_zones)
    );
    let _ = writeln!(
        out,
        "gandi {} token={GANDI_TOKEN} zone=example.com",
        gandi.base_url()
    );
    let _ = writeln!(out, "inspect {}/", inspect.base_url());
    let _ = out.flush();
    drop(out);

    // The servers run on their own threads; the default action of SIGTERM/SIGINT ends the
    // process, and the kernel closes the sockets.
    loop {
        std::thread::park();
    }
}

/// The `schlund …` line: `zone=` keeps naming the fixture zone, as before `zones=` existed.
fn schlund_line(url: &str, extra_zones: &[String]) -> String {
    let mut zones = vec![SCHLUND_FIXTURE_NAME];
    zones.extend(extra_zones.iter().map(String::as_str));
    format!(
        "schlund {url} user={SCHLUND_USER} password={SCHLUND_PASSWORD} context={SCHLUND_CONTEXT} \
         zone={SCHLUND_FIXTURE_NAME} zones={}",
        zones.join(",")
    )
}

/// The read-only view of both fakes.
fn inspect(schlund: &FakeSchlund, gandi: &FakeGandi, req: &Incoming) -> Reply {
    const TEXT: &str = "text/plain; charset=utf-8";
    const JSON: &str = "application/json";
    if req.method != "GET" {
        return Reply::new(405, TEXT, "read-only: GET only\n").with_header("Allow", "GET");
    }
    let path = req.path();
    let not_found = |what: &str| Reply::new(404, TEXT, format!("{what} not found\n"));
    if let Some(name) = path.strip_prefix("/schlund/zone/") {
        return match schlund.zone(name) {
            Some(zone) => Reply::new(200, "text/xml; charset=utf-8", zone.to_xml() + "\n"),
            None => not_found(&format!("zone {name}")),
        };
    }
    if let Some(name) = path.strip_prefix("/schlund/records/") {
        return match schlund.zone(name) {
            Some(zone) => {
                let mut text = String::new();
                for rr in zone.all_rr() {
                    let name = if rr.name.is_empty() { "@" } else { &rr.name };
                    let pref = rr.pref.map(|p| format!("{p} ")).unwrap_or_default();
                    text.push_str(&format!(
                        "{name} {} {} {pref}{}\n",
                        rr.ttl, rr.rr_type, rr.value
                    ));
                }
                Reply::new(200, TEXT, text)
            }
            None => not_found(&format!("zone {name}")),
        };
    }
    if let Some(name) = path.strip_prefix("/gandi/records/") {
        let rrsets = gandi.rrsets(name);
        if rrsets.is_empty() {
            return not_found(&format!("zone {name}"));
        }
        let body: Vec<serde_json::Value> = rrsets
            .iter()
            .map(|r| {
                serde_json::json!({
                    "rrset_name": r.name,
                    "rrset_type": r.rr_type,
                    "rrset_ttl": r.ttl,
                    "rrset_values": r.values,
                })
            })
            .collect();
        return Reply::new(200, JSON, serde_json::Value::from(body).to_string() + "\n");
    }
    if path == "/requests" {
        let mut by_task = serde_json::Map::new();
        let schlund_requests = schlund.requests();
        for r in &schlund_requests {
            let count = by_task
                .entry(r.task_code.clone())
                .or_insert(serde_json::Value::from(0));
            *count = serde_json::Value::from(count.as_u64().unwrap_or(0) + 1);
        }
        let gandi_requests = gandi.requests();
        let body = serde_json::json!({
            "schlund": {"total": schlund_requests.len(), "by_task": by_task},
            "gandi": {"total": gandi_requests.len(), "writes": gandi.writes().len()},
        });
        return Reply::new(200, JSON, body.to_string() + "\n");
    }
    if path == "/" {
        return Reply::new(200, TEXT, USAGE);
    }
    not_found(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_ports_and_latency() {
        assert_eq!(
            parse(&args(
                "--schlund-port 8001 --gandi-port 8002 --inspect-port 8003 --latency-ms 25"
            )),
            Ok(Some(Options {
                schlund_port: 8001,
                gandi_port: 8002,
                inspect_port: 8003,
                latency: Duration::from_millis(25),
                schlund_zones: Vec::new(),
            }))
        );
        assert_eq!(parse(&args("")), Ok(Some(Options::default())));
        assert_eq!(parse(&args("--help")), Ok(None));
        assert!(parse(&args("--gandi-port 70000")).is_err());
        assert!(parse(&args("--latency-ms")).is_err());
        assert!(parse(&args("--bogus")).is_err());
    }

    #[test]
    fn parses_extra_schlund_zones() {
        let options = parse(&args(
            "--schlund-zone example.net --schlund-zone a-1.example.org",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(options.schlund_zones, ["example.net", "a-1.example.org"]);
        for bad in [
            "--schlund-zone",
            "--schlund-zone net",
            "--schlund-zone Example.net",
            "--schlund-zone example..net",
            "--schlund-zone example.net.",
            "--schlund-zone -x.net",
            "--schlund-zone ex_ample.net",
            "--schlund-zone example.co.uk",
            "--schlund-zone example.net --schlund-zone example.net",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn schlund_line_stays_compatible() {
        let url = "http://127.0.0.1:1/";
        assert_eq!(
            schlund_line(url, &[]),
            "schlund http://127.0.0.1:1/ user=1234567 password=demo-gateway-password context=10 \
             zone=example.co.uk zones=example.co.uk"
        );
        assert!(
            schlund_line(url, &["example.net".to_string(), "example.org".to_string()])
                .ends_with(" zone=example.co.uk zones=example.co.uk,example.net,example.org")
        );
    }

    #[test]
    fn extra_zone_is_the_fixture_renamed_and_served() {
        let fake = FakeSchlund::start(
            vec![SchlundUser::new(
                SCHLUND_USER,
                SCHLUND_PASSWORD,
                SCHLUND_CONTEXT,
            )],
            &[FIXTURE_ZONE, &fixture_zone_named("example.net")],
        );
        let fixture = fake.zone(SCHLUND_FIXTURE_NAME).unwrap();
        let extra = fake.zone("example.net").unwrap();
        assert_eq!(extra.name(), "example.net");
        assert_eq!(extra.all_rr(), fixture.all_rr());
        assert_eq!(extra.rr("home", "A")[0].value, "198.51.100.7");
    }
}

//! `fake-registrars`: the strict fakes as a process, for the demo stack and benchmarks.
//!
//! Starts the SchlundTech gateway fake and the Gandi LiveDNS fake on 127.0.0.1 with their
//! fixture zones and the fixed demo credentials below, prints one line per server, and
//! serves until killed (SIGTERM or SIGINT end the process; nothing needs saving). A third,
//! read-only server shows the stored zones and request counts, on its own port so the
//! registrar APIs stay exactly as strict as in the tests.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use fake_registrars::gandi::{FakeGandi, fixture_zone};
use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund, SchlundUser};
use fake_registrars::server::{HttpServer, Incoming, Reply};

/// Gateway user of the demo SchlundTech account (a SchlundTech customer number).
const SCHLUND_USER: &str = "1234567";
/// Its password.
const SCHLUND_PASSWORD: &str = "demo-gateway-password";
/// Its context (SchlundTech's is 10).
const SCHLUND_CONTEXT: &str = "10";
/// The personal access token the Gandi fake accepts.
const GANDI_TOKEN: &str = "pat_demo0000000000000000000000000000000000000";

const USAGE: &str = "\
usage: fake-registrars [--schlund-port N] [--gandi-port N] [--inspect-port N] [--latency-ms N]

Serves strict fakes of the SchlundTech XML gateway and Gandi LiveDNS on 127.0.0.1 until
killed. Ports default to 0 (any free port); the chosen URLs are printed, one line each:

  schlund URL user=1234567 password=demo-gateway-password context=10 zone=example.co.uk
  gandi URL token=pat_demo0000000000000000000000000000000000000 zone=example.com
  inspect URL

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
    let schlund = FakeSchlund::start_on(
        options.schlund_port,
        vec![SchlundUser::new(
            SCHLUND_USER,
            SCHLUND_PASSWORD,
            SCHLUND_CONTEXT,
        )],
        &[FIXTURE_ZONE],
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
        "schlund {} user={SCHLUND_USER} password={SCHLUND_PASSWORD} context={SCHLUND_CONTEXT} zone=example.co.uk",
        schlund.url()
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
            }))
        );
        assert_eq!(parse(&args("")), Ok(Some(Options::default())));
        assert_eq!(parse(&args("--help")), Ok(None));
        assert!(parse(&args("--gandi-port 70000")).is_err());
        assert!(parse(&args("--latency-ms")).is_err());
        assert!(parse(&args("--bogus")).is_err());
    }
}

//! The executable: CGI mode when a web server runs it (`GATEWAY_INTERFACE` is set), the
//! command line otherwise. All reading of the outside world happens here.

use std::fmt::Display;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use ddns_cgi::backend::{self, Registrars, http::Http};
use ddns_cgi::budget::Budget;
use ddns_cgi::cgi::{self, CgiRequest};
use ddns_cgi::cli::{self, Command};
use ddns_cgi::config::{self, Config};
use ddns_cgi::log::{Level, Log};

fn main() -> ExitCode {
    if std::env::var_os("GATEWAY_INTERFACE").is_some() {
        run_cgi();
        // A CGI reports through its answer; the exit status is not read by clients.
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(Command::CheckConfig {
            config,
            probe,
            strict,
        }) => check_config(config, probe, strict).unwrap_or_else(|e| e.exit()),
        Ok(Command::HashSecret) => hash_secret().unwrap_or_else(|e| e.exit()),
        Ok(Command::Version) => {
            println!("ddns-cgi {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Err(message) => Fatal::usage(message).exit(),
    }
}

/// A failure that ends the run, with the message saying what to fix.
struct Fatal {
    message: String,
    status: u8,
}

impl Fatal {
    fn new(message: impl Display) -> Fatal {
        Fatal {
            message: message.to_string(),
            status: 1,
        }
    }

    /// A command line that cannot be understood (exit status 2).
    fn usage(message: impl Display) -> Fatal {
        Fatal {
            message: message.to_string(),
            status: 2,
        }
    }

    /// The one place the command line prints a fatal error.
    fn exit(self) -> ExitCode {
        eprintln!("ddns-cgi: {}", self.message);
        ExitCode::from(self.status)
    }
}

/// The one setup of both modes: the config, the request's time budget and HTTP agent,
/// and the registrar accounts.
fn setup(path: &Path) -> Result<(Config, Registrars), Fatal> {
    let config = Config::load(path).map_err(Fatal::new)?;
    let budget = Budget::new(config.general.timeout);
    let http = Http::new(&config.general, budget)
        .map_err(|e| Fatal::new(format!("config {}: {e}", config.path.display())))?;
    let registrars = backend::from_config(&config, http);
    Ok((config, registrars))
}

/// `--config`, else `DDNS_CONFIG`, else the default path; when that does not exist but
/// ws.ddns's default (`~/.schlund-ddns` of the web server's user) does, that one, so a
/// ws.ddns setup keeps working without a single edit.
fn config_path(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(path) = explicit.or_else(|| {
        std::env::var_os("DDNS_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }) {
        return path;
    }
    let default = PathBuf::from(config::DEFAULT_PATH);
    let legacy = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".schlund-ddns"));
    match legacy {
        Some(legacy) if !default.exists() && legacy.exists() => legacy,
        _ => default,
    }
}
/// The CGI variables as the web server set them in this process's environment.
struct ProcessEnv;

impl cgi::Vars for ProcessEnv {
    /// Bytes that are not UTF-8 become U+FFFD, which no check admits: a user name holding
    /// it is refused (`acl::check_user_name`), a host name or address does not parse.
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
}

fn run_cgi() {
    let mut log = Log::stderr(Level::Info);
    let vars = ProcessEnv;
    let body = CgiRequest::body_length(&vars)
        .and_then(|length| cgi::read_body(std::io::stdin(), length, cgi::BODY_DEADLINE))
        .unwrap_or_else(|e| {
            log.warn(format_args!(
                "{e}; answering as if the request had no body (only the query counts)"
            ));
            Vec::new()
        });
    let request = CgiRequest::from_vars(&vars, body);
    let pending = ddns_cgi::core::Pending::default();
    let response = match setup(&config_path(None)) {
        // A CGI's fatal error is logged, and answered in the dialect's words.
        Err(fatal) => {
            let (response, word) = ddns_cgi::config_failure(&request);
            log.error(format_args!("{}; answering {word}", fatal.message));
            response
        }
        Ok((config, registrars)) => {
            log.set_level(config.general.log_level);
            let edges = ddns_cgi::Edges {
                registrars: &registrars,
                clock: &SystemTime::now,
                log: &log,
                pending: &pending,
            };
            ddns_cgi::handle(&config, &request, &edges)
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = response.write_to(&mut out);
    let _ = out.flush();
    // The answer is out (the web server passes it on as it arrives); the state saved for
    // it is made durable now, before the zone's lock is let go.
    pending.finish(&log);
}

/// `hash-secret`: the secret is one line of standard input, so it never appears in the
/// process list or the shell's history.
fn hash_secret() -> Result<ExitCode, Fatal> {
    let secret = cli::read_secret(std::io::stdin().lock()).map_err(Fatal::new)?;
    let hash = ddns_cgi::auth::hash::hash_secret(secret.expose().as_bytes()).map_err(Fatal::new)?;
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
}

fn check_config(explicit: Option<PathBuf>, probe: bool, strict: bool) -> Result<ExitCode, Fatal> {
    let (config, registrars) = setup(&config_path(explicit))?;
    print!("{}", cli::describe(&config));
    let store = ddns_cgi::state::Store::new(&config.general.state_dir);
    store
        .check_writable()
        .map_err(|e| Fatal::new(format!("state_dir: {e}")))?;
    let mut warnings = file_warnings(&config);
    warnings.extend(cli::warnings(&config));
    for warning in &warnings {
        eprintln!("ddns-cgi: warning: {warning}");
    }
    if probe {
        let log = Log::stderr(Level::Warn);
        for registrar in &registrars.list {
            let found = registrar
                .probe(&SystemTime::now, &log)
                .map_err(|e| Fatal::new(format!("probe failed: {e}")))?;
            println!("probe {}: {found}", registrar.label());
        }
    }
    if strict && !warnings.is_empty() {
        return Err(Fatal::new(format!(
            "--strict: {} warning(s) above; fix them, or run without --strict",
            warnings.len()
        )));
    }
    println!("config OK");
    Ok(ExitCode::SUCCESS)
}

/// Warnings about the files on this machine: who owns the state directory, and whether
/// other local users may open it or the config.
fn file_warnings(config: &Config) -> Vec<String> {
    let state_dir = &config.general.state_dir;
    [
        state_dir_owner_warning(state_dir),
        others_warning(
            state_dir,
            "state_dir",
            "it holds each host's address and user, and the zone locks",
        ),
        others_warning(&config.path, "config", "it holds the registrar credentials"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `check-config` usually runs as root, for whom every directory is writable; the web
/// server's user is not root, so a root-owned state directory is worth a warning.
fn state_dir_owner_warning(dir: &Path) -> Option<String> {
    let meta = std::fs::metadata(dir).ok()?;
    (meta.uid() == 0 && meta.mode() & 0o002 == 0).then(|| {
        format!(
            "state_dir {} is owned by root; the web server's user must be able to write it (Debian: chown www-data {})",
            dir.display(),
            dir.display()
        )
    })
}

/// A file or directory that users other than its owner and group may open.
fn others_warning(path: &Path, what: &str, why: &str) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.mode() & 0o7777;
    let may = match (mode & 0o004 != 0, mode & 0o002 != 0) {
        _ if mode & 0o007 == 0 => return None,
        (true, true) => "readable and writable by",
        (true, false) => "readable by",
        (false, true) => "writable by",
        (false, false) => "open to",
    };
    Some(format!(
        "{what} {} is {may} other users (mode {mode:04o}): {why}; run chmod o-rwx {}",
        path.display(),
        path.display()
    ))
}

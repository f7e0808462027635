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
use ddns_cgi::cli::status::Status;
use ddns_cgi::cli::{self, Command};
use ddns_cgi::config::{self, Config};
use ddns_cgi::log::{Level, Log};

fn main() -> ExitCode {
    if std::env::var_os("GATEWAY_INTERFACE").is_some() {
        run_cgi();
        // A CGI reports through its answer; the exit status is not read by clients.
        return ExitCode::SUCCESS;
    }
    let mut args: Vec<String> = std::env::args().collect();
    // Installed as `schlund-ddns` (a link to the binary), it is ws.ddns's command.
    let invoked = args.first().cloned().unwrap_or_default();
    args.remove(0);
    if Path::new(&invoked)
        .file_name()
        .is_some_and(|n| n == "schlund-ddns")
    {
        args.insert(0, "update".to_string());
    }
    match cli::args::parse(&args) {
        Ok(Command::CheckConfig {
            common,
            probe,
            strict,
            example,
        }) => {
            if example {
                print!("{}", cli::example::TEMPLATE);
                return ExitCode::SUCCESS;
            }
            check_config(common.config, probe, strict).unwrap_or_else(|e| e.exit())
        }
        Ok(Command::HashSecret) => hash_secret().unwrap_or_else(|e| e.exit()),
        Ok(Command::Version) => {
            println!("ddns-cgi {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(command) => run_command(command),
        Err(message) => {
            eprintln!("ddns-cgi: {message}");
            eprint!("{}", cli::SYNOPSIS);
            ExitCode::from(Status::Usage.code())
        }
    }
}

/// The level of the command line's log: `DDNS_LOG_LEVEL`, else warnings; `-v`/`-q` move
/// it from there.
fn cli_level(verbosity: i32) -> Level {
    let levels = [Level::Error, Level::Warn, Level::Info, Level::Debug];
    let base = env_level().unwrap_or(Level::Warn);
    let at = levels.iter().position(|l| *l == base).unwrap_or(1) as i32 + verbosity;
    levels[at.clamp(0, 3) as usize]
}

/// `DDNS_LOG_LEVEL`, for the CGI and the command line alike.
fn env_level() -> Option<Level> {
    std::env::var("DDNS_LOG_LEVEL")
        .ok()
        .and_then(|v| Level::parse(v.trim()))
}

/// `update`, `delete`, `client` and `detect`: load the config, take the client lock where
/// a run may write, run, print one line per change or failure, and exit by sysexits.h.
fn run_command(command: Command) -> ExitCode {
    let (common, ws) = match &command {
        Command::Update { common, ws, .. } => (common.clone(), ws.clone()),
        Command::Delete { common, .. }
        | Command::Client { common, .. }
        | Command::Detect { common, .. } => (common.clone(), cli::args::WsFlags::default()),
        _ => unreachable!("handled in main"),
    };
    let log = Log::stderr(cli_level(common.verbosity));
    if ws.password.is_some() || ws.totp_secret.is_some() {
        log.warn(format_args!(
            "--password and --totp-secret are visible to every local user in the process list; put them in the config file instead"
        ));
    }
    let config = match load_with(&config_path(common.config.clone()), &ws) {
        Ok(config) => config,
        Err(message) => {
            log.error(format_args!("{message}"));
            return ExitCode::from(Status::Config.code());
        }
    };
    // Before the first file is made: one made by the wrong user locks the CGI out.
    if let Some(message) = cli::owner::check(&config.general.state_dir) {
        log.error(format_args!("{message}"));
        return ExitCode::from(Status::Config.code());
    }
    let store = ddns_cgi::state::Store::new(&config.general.state_dir);
    let writes = !matches!(command, Command::Detect { .. });
    let _lock = match writes.then(|| ddns_cgi::client::lock::take(&store, common.wait)) {
        Some(Err(message)) => {
            log.error(format_args!("{message}"));
            return ExitCode::from(Status::TempFail.code());
        }
        held => held,
    };
    let http = match Http::new(&config.general, Budget::new(config.general.timeout)) {
        Ok(http) => http,
        Err(e) => {
            log.error(format_args!("config {}: {e}", config.path.display()));
            return ExitCode::from(Status::Config.code());
        }
    };
    let (registrars, seen) = cli::watch::watch(backend::from_config(&config, http));
    let edges = cli::run::Edges {
        registrars: &registrars,
        seen: &seen,
        clock: &SystemTime::now,
        log: &log,
    };
    let verbose = common.verbosity > 0 || log.enabled(Level::Info);
    report(dispatch(command, &config, &edges), verbose, &log)
}

/// Runs the command; `detect` prints its table itself.
fn dispatch(
    command: Command,
    config: &Config,
    edges: &cli::run::Edges<'_>,
) -> Result<cli::run::Report, cli::commands::Refused> {
    // --force trusts no state and writes even what the registrar already holds.
    let options = |dry_run, force: bool, trust_state| cli::run::Options {
        dry_run,
        trust_state: if force { 0 } else { trust_state },
        force,
    };
    match command {
        Command::Update {
            force,
            dry_run,
            ttl,
            host,
            addrs,
            ..
        } => {
            let ttl = ttl.or(config.client.ttl);
            let options = options(dry_run, force, config.general.cache_seconds);
            cli::commands::update(config, &host, &addrs, ttl, options, edges)
        }
        Command::Delete {
            dry_run,
            only,
            host,
            ..
        } => cli::commands::delete(config, &host, only, options(dry_run, false, 0), edges),
        Command::Client {
            force,
            dry_run,
            hosts,
            ..
        } => {
            let options = options(dry_run, force, config.client.recheck.as_secs());
            cli::commands::client(config, &hosts, options, edges)
        }
        Command::Detect { only, .. } => {
            let (table, status) = cli::commands::detect(config, only, edges);
            print!("{table}");
            Ok(cli::run::Report {
                lines: Vec::new(),
                status: Some(status),
            })
        }
        _ => unreachable!("handled in main"),
    }
}

/// Prints a run's lines (`nochg` ones only when verbose) and gives its exit status.
fn report(
    result: Result<cli::run::Report, cli::commands::Refused>,
    verbose: bool,
    log: &Log,
) -> ExitCode {
    match result {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            for line in report.lines.iter().filter(|l| verbose || !l.verbose_only) {
                let _ = writeln!(out, "{}", line.text);
            }
            let _ = out.flush();
            ExitCode::from(report.status.unwrap_or(Status::Done).code())
        }
        Err(refused) => {
            log.error(format_args!("{}", refused.message));
            if refused.status == Status::Usage {
                eprint!("{}", cli::SYNOPSIS);
            }
            ExitCode::from(refused.status.code())
        }
    }
}

/// The config, with ws.ddns's flags over its `[default]` keys. With those flags a missing
/// file is an empty one, as ws.ddns's command line needed no file.
fn load_with(path: &Path, ws: &cli::args::WsFlags) -> Result<Config, String> {
    let overrides = ws.overrides();
    if overrides.is_empty() {
        return Config::load(path).map_err(|e| missing_hint(e.to_string(), path));
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(_) => {
            return Err(Config::load(path).err().map_or_else(
                || format!("config {}: cannot be read", path.display()),
                |e| e.to_string(),
            ));
        }
    };
    Config::parse_overriding(&text, path, &overrides).map_err(|e| e.to_string())
}

/// A missing config file's message names the command that prints a template.
fn missing_hint(message: String, path: &Path) -> String {
    if path.exists() {
        message
    } else {
        format!("{message} (`ddns-cgi check-config --example` prints a commented template)")
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
            log.set_level(env_level().unwrap_or(config.general.log_level));
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

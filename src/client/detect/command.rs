//! `command`: a shell command prints the address. It is one trusted source, so no quorum;
//! but it gets a deadline, its exit status counts, and its output must hold exactly one
//! address of the family.

use std::io::Read;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::web::search;
use crate::log::{Log, printable};

/// Most output read from the command.
const MAX_OUTPUT: u64 = 4096;

/// Runs `command` through `sh -c`, with `DDNS_FAMILY` set, and reads its address.
pub fn run(command: &str, v6: bool, timeout: Duration, log: &Log) -> Result<IpAddr, String> {
    let family = if v6 { "6" } else { "4" };
    let mut child = std::os::unix::process::CommandExt::process_group(
        Command::new("sh")
            .arg("-c")
            .arg(command)
            .env("DDNS_FAMILY", family)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        0,
    )
    .spawn()
    .map_err(|e| format!("command_v{family} could not be started ({e})"))?;
    let pgid = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(pipe) = pipe {
                let mut limited = pipe.take(MAX_OUTPUT);
                let _ = limited.read_to_string(&mut text);
            }
            text
        })
    };
    let out = read(stdout.map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = read(stderr.map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                kill_group(pgid);
                let _ = child.wait();
                return Err(format!(
                    "command_v{family} did not finish within command_timeout ({} ms) and was killed",
                    timeout.as_millis()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("command_v{family} could not be waited for ({e})")),
        }
    };
    // The pipes close once every process of the group is gone; a child left running in
    // the background must not hold the run.
    kill_group(pgid);
    for line in err
        .join()
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        log.warn(format_args!("command_v{family}: {}", printable(line)));
    }
    if !status.success() {
        return Err(format!(
            "command_v{family} failed ({status}); its output is not used"
        ));
    }
    let text = out.join().unwrap_or_default();
    search(&text, v6).map_err(|e| format!("command_v{family} printed no single address: {e}"))
}

/// Ends the command's process group. Without `unsafe` there is no `kill(2)` here, so the
/// `kill` program does it; a group already gone is no error.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

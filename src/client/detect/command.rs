//! `command`: a shell command prints the address. It is one trusted source, so no quorum;
//! but it gets a deadline, its exit status counts, and its output must hold exactly one
//! address of the family.

use std::io::Read;
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use super::web::search;
use crate::log::{Log, printable};

/// Most output read from the command.
const MAX_OUTPUT: u64 = 4096;

/// What a reader thread passes on: bytes of stdout (`false`) or stderr (`true`), or that
/// the pipe reached its end.
enum Chunk {
    Data(bool, Vec<u8>),
    End,
}

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
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    if let Some(pipe) = child.stdout.take() {
        read(pipe, false, tx.clone());
    }
    if let Some(pipe) = child.stderr.take() {
        read(pipe, true, tx);
    }
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                end(&mut child);
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
    // The pipes close once every process of the group is gone. A process the command
    // started in a session of its own escapes the group and may keep them open: its output
    // is then waited for no longer than command_timeout, and what came so far is used.
    end(&mut child);
    let (out, err, open) = collect(&rx, started + timeout);
    if open {
        log.warn(format_args!(
            "command_v{family} exited, but a process it started in the background still holds its output open; the output up to command_timeout ({} ms) is used; end that process, or start it with its output redirected",
            timeout.as_millis()
        ));
    }
    for line in err.lines().filter(|l| !l.trim().is_empty()) {
        log.warn(format_args!("command_v{family}: {}", printable(line)));
    }
    if !status.success() {
        return Err(format!(
            "command_v{family} failed ({status}); its output is not used"
        ));
    }
    search(&out, v6).map_err(|e| format!("command_v{family} printed no single address: {e}"))
}

/// Reads one pipe in a thread of its own, passing on each piece as it comes, so that a
/// pipe that never ends cannot hold the run.
fn read(pipe: impl Read + Send + 'static, stderr: bool, tx: Sender<Chunk>) {
    std::thread::spawn(move || {
        let mut limited = pipe.take(MAX_OUTPUT);
        let mut buf = [0u8; 1024];
        loop {
            match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.send(Chunk::Data(stderr, buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(Chunk::End);
    });
}

/// stdout and stderr as read until both ended or `deadline` passed, and whether one was
/// still open then.
fn collect(rx: &Receiver<Chunk>, deadline: Instant) -> (String, String, bool) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut ended = 0;
    let mut open = false;
    while ended < 2 {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Chunk::Data(false, bytes)) => out.extend(bytes),
            Ok(Chunk::Data(true, bytes)) => err.extend(bytes),
            Ok(Chunk::End) => ended += 1,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                open = true;
                break;
            }
            // Both readers are gone.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (text(out), text(err), open)
}

/// Ends the command's process group, or the command alone when that fails.
fn end(child: &mut Child) {
    if !kill_group(child.id()) {
        let _ = child.kill();
    }
}

/// Ends the command's process group. Without `unsafe` there is no `kill(2)` here, so the
/// `kill` program does it. False when it could not (the group is gone, or no `kill`).
fn kill_group(pgid: u32) -> bool {
    Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

//! The client's own lock, `<state_dir>/client/run.lock`: a cron run, a timer run and a
//! manual `update` never overlap. Registrar writes take the zone locks besides, which the
//! CGI shares.

use std::fs::{File, TryLockError};
use std::time::{Duration, Instant};

use crate::files;
use crate::state::Store;

/// A held client lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Takes the client lock, waiting at most `wait`. The error is the admin's message.
pub fn take(store: &Store, wait: Duration) -> Result<RunLock, String> {
    let (dir, access) = store.subdir("client").map_err(|e| e.to_string())?;
    let path = dir.join("run.lock");
    let file = files::open_lock(&path, access)
        .map_err(|e| format!("client lock {}: {e}", path.display()))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RunLock { _file: file }),
            Err(TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(TryLockError::WouldBlock) => {
                return Err(format!(
                    "another ddns-cgi client or update run holds {} (waited {} s); this run does nothing (use --wait SECONDS to wait for it)",
                    path.display(),
                    started.elapsed().as_secs()
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("client lock {}: {e}", path.display()));
            }
        }
    }
}

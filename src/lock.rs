//! One lock per (registrar, zone), held across the read-modify-write of that zone.
//!
//! SchlundTech writes whole zones: two overlapping requests would each write back a zone
//! missing the other's change. Every CGI process is separate, so the lock is an OS file
//! lock on a file in the state directory; the OS drops it if the process dies.
//!
//! A lock can be taken through any descriptor, a read-only one too, so the file's mode is
//! what keeps other local users from holding a zone: they may not open it at all.

use std::fs::{File, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::files;
use crate::state::{Store, StoreError};

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct ZoneLock {
    _file: File,
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another request held it for longer than the configured wait.
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// The lock file could not be created.
    Store(StoreError),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Busy { path, waited } => write!(
                f,
                "zone lock {} still held by another request after {} s; nothing was changed (raise lock_wait if updates of this zone are often slow)",
                path.display(),
                waited.as_secs()
            ),
            LockError::Store(e) => write!(f, "{e}"),
        }
    }
}

/// Pause between attempts: short, as a zone write takes well under a second.
const RETRY: Duration = Duration::from_millis(20);

/// `registrar-zone.lock`, cut to fit the 255-byte limit of a file name. Two zones whose
/// names share the first 240 bytes then share a lock, which only makes them wait in turn.
fn lock_file_name(registrar: &str, zone: &str) -> String {
    const MAX_STEM: usize = 255 - ".lock".len();
    let mut stem = format!("{registrar}-{zone}");
    let mut end = stem.len().min(MAX_STEM);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    stem.truncate(end);
    stem + ".lock"
}

/// Takes the lock of `registrar`/`zone`, waiting at most `wait`.
pub fn lock_zone(
    store: &Store,
    registrar: &str,
    zone: &str,
    wait: Duration,
) -> Result<ZoneLock, LockError> {
    let (dir, access) = store.subdir("locks").map_err(LockError::Store)?;
    let path = dir.join(lock_file_name(registrar, zone));
    let file = files::open_lock(&path, access)
        .map_err(|e| LockError::Store(StoreError::from((path.as_path(), e))))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(ZoneLock { _file: file }),
            Err(TryLockError::WouldBlock) if started.elapsed() < wait => std::thread::sleep(RETRY),
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    path,
                    waited: started.elapsed(),
                });
            }
            Err(TryLockError::Error(error)) => {
                return Err(LockError::Store(StoreError::from((
                    path.as_path(),
                    error.into(),
                ))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_gives_up() {
        let dir = std::env::temp_dir().join(format!("ddns-lock-unit-{}", std::process::id()));
        let store = Store::new(&dir);
        let held = lock_zone(&store, "schlund", "example.com", Duration::ZERO).unwrap();
        let second = lock_zone(&store, "schlund", "example.com", Duration::from_millis(60));
        assert!(matches!(second, Err(LockError::Busy { .. })));
        let other_zone = lock_zone(&store, "schlund", "example.org", Duration::ZERO);
        assert!(other_zone.is_ok());
        drop(held);
        assert!(lock_zone(&store, "schlund", "example.com", Duration::ZERO).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_longest_zone_names_can_be_locked() {
        let dir = std::env::temp_dir().join(format!("ddns-lock-long-{}", std::process::id()));
        let store = Store::new(&dir);
        let zone = |last: char| {
            format!(
                "{}.{}.{}.{}{last}",
                "a".repeat(63),
                "b".repeat(63),
                "c".repeat(63),
                "d".repeat(60)
            )
        };
        assert_eq!(zone('x').len(), 253);
        let held = lock_zone(&store, "schlund", &zone('x'), Duration::ZERO).unwrap();
        // Cut to the same file name: they wait for each other, which is safe.
        let alike = lock_zone(&store, "schlund", &zone('y'), Duration::ZERO);
        assert!(matches!(alike, Err(LockError::Busy { .. })));
        drop(held);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

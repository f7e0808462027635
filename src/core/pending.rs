//! What a request finishes after its answer has gone out.
//!
//! A changed host's state is saved (written, its content synced, renamed into place) under
//! the zone's lock before the answer, so the next request sees it at once. What makes the
//! rename itself survive a power cut, an fsync of the state directory, takes longer than
//! the rest of a request on this machine, and the answer does not depend on it: the apply
//! stage leaves the zone's lock here, `main` writes the answer, then [`Pending::finish`]
//! syncs the directory and only then releases the lock. A request with several zones
//! finishes each before it locks the next, so it never holds two locks at once.

use std::cell::RefCell;

use crate::lock::ZoneLock;
use crate::log::{Level, Log};
use crate::state::Store;

/// Zones whose saved state is still to be made durable, each with its lock.
#[derive(Default)]
pub struct Pending {
    zones: RefCell<Vec<(Store, ZoneLock)>>,
}

impl Pending {
    /// Keeps a zone's lock until the states saved under it are durable.
    pub(crate) fn keep(&self, store: &Store, lock: ZoneLock) {
        self.zones.borrow_mut().push((store.clone(), lock));
    }

    /// Whether nothing is left to finish.
    pub fn is_empty(&self) -> bool {
        self.zones.borrow().is_empty()
    }

    /// Makes every zone's saves durable, releasing each zone's lock after. A failure is
    /// logged: the state is in place, only a power cut could still take it back.
    pub fn finish(&self, log: &Log) {
        let zones = std::mem::take(&mut *self.zones.borrow_mut());
        for (store, lock) in zones {
            if let Err(e) = store.sync() {
                log.warn(format_args!("{e}"));
            }
            drop(lock);
        }
    }
}

impl Drop for Pending {
    /// A request that ends without [`Pending::finish`] (a test, the command line) is
    /// finished all the same.
    fn drop(&mut self) {
        if !self.is_empty() {
            self.finish(&Log::stderr(Level::Warn));
        }
    }
}

//! The state a request leaves, saved once its answer has gone out.
//!
//! A changed host's new state is written durably (an fsync of the file and one of its
//! directory), which takes longer than everything else a request does on this machine. The
//! registrar already holds the change when the state is written, so the answer is known
//! and need not wait for the disk: the apply stage hands each zone's lock and the states to
//! save here, `main` writes the answer, then [`Pending::finish`] saves the states and only
//! then releases the locks, so no other request of the zone can read state older than the
//! registrar. A request with several zones finishes each before it locks the next, so only
//! its last zone waits for the answer, and it never holds two locks at once.

use std::cell::RefCell;

use crate::hostname::Hostname;
use crate::lock::ZoneLock;
use crate::log::{Level, Log};
use crate::state::{HostState, Store};

/// One zone's lock and the states saved under it.
struct Settled {
    store: Store,
    lock: ZoneLock,
    states: Vec<(Hostname, HostState)>,
}

/// Zones applied by this request whose state is still to be saved, in the order applied.
#[derive(Default)]
pub struct Pending {
    zones: RefCell<Vec<Settled>>,
}

impl Pending {
    /// Keeps a zone's lock until `states` are saved.
    pub(crate) fn keep(&self, store: &Store, lock: ZoneLock, states: Vec<(Hostname, HostState)>) {
        self.zones.borrow_mut().push(Settled {
            store: store.clone(),
            lock,
            states,
        });
    }

    /// Whether nothing is left to save.
    pub fn is_empty(&self) -> bool {
        self.zones.borrow().is_empty()
    }

    /// Saves every state, zone by zone, releasing each zone's lock once its states are
    /// saved. A state that cannot be saved is logged: the registrar holds the change, and
    /// the next request of the host asks it again.
    pub fn finish(&self, log: &Log) {
        let zones = std::mem::take(&mut *self.zones.borrow_mut());
        for zone in zones {
            for (host, state) in &zone.states {
                if let Err(e) = zone.store.save(host, state) {
                    log.warn(format_args!("{e}"));
                }
            }
            drop(zone.lock);
        }
    }
}

impl Drop for Pending {
    /// A request that ends without [`Pending::finish`] (a test, the command line) still
    /// leaves its state.
    fn drop(&mut self) {
        if !self.is_empty() {
            self.finish(&Log::stderr(Level::Warn));
        }
    }
}

//! The registrar accounts as the command line uses them: each call passes through, and
//! the worst registrar error seen is kept, since a core outcome (`911`) does not say
//! whether the credentials were refused (77) or the registrar was away (75).

use std::cell::Cell;
use std::rc::Rc;

use super::status::Status;
use crate::backend::{BackendError, Clock, RecordOutcome, Registrar, Registrars, ZoneChange};
use crate::hostname::Hostname;
use crate::log::Log;

/// The worst status the registrars' errors came to.
pub type Seen = Rc<Cell<Status>>;

struct Watched {
    inner: Box<dyn Registrar>,
    seen: Seen,
}

impl Watched {
    fn note<T>(&self, result: &Result<T, BackendError>) {
        if let Err(e) = result {
            self.seen.set(self.seen.get().worst(Status::of_error(e)));
        }
    }
}

impl Registrar for Watched {
    fn label(&self) -> &str {
        self.inner.label()
    }
    fn configured_zones(&self) -> &[String] {
        self.inner.configured_zones()
    }
    fn ttl_range(&self) -> std::ops::RangeInclusive<u32> {
        self.inner.ttl_range()
    }
    fn probe(&self, clock: Clock<'_>, log: &Log) -> Result<String, BackendError> {
        let result = self.inner.probe(clock, log);
        self.note(&result);
        result
    }
    fn discover_zone(
        &self,
        host: &Hostname,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Option<String>, BackendError> {
        let result = self.inner.discover_zone(host, clock, log);
        self.note(&result);
        result
    }
    fn current(
        &self,
        zone: &str,
        record: &crate::backend::RecordChange,
        rr_type: crate::core::operation::RrType,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Vec<String>, BackendError> {
        let result = self.inner.current(zone, record, rr_type, clock, log);
        self.note(&result);
        result
    }
    fn apply(
        &self,
        change: &ZoneChange,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Vec<RecordOutcome>, BackendError> {
        let result = self.inner.apply(change, clock, log);
        self.note(&result);
        if let Ok(outcomes) = &result {
            for outcome in outcomes {
                if let RecordOutcome::Failed(e) = outcome {
                    self.seen.set(self.seen.get().worst(Status::of_error(e)));
                }
            }
        }
        result
    }
}

/// The same accounts, watched.
pub fn watch(registrars: Registrars) -> (Registrars, Seen) {
    let seen: Seen = Rc::new(Cell::new(Status::Done));
    let list = registrars
        .list
        .into_iter()
        .map(|inner| {
            Box::new(Watched {
                inner,
                seen: seen.clone(),
            }) as Box<dyn Registrar>
        })
        .collect();
    (
        Registrars {
            list,
            budget: registrars.budget,
        },
        seen,
    )
}

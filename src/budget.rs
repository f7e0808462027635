//! The request's time budget: `timeout` bounds all registrar exchanges of one request
//! together, whatever transport carries them (HTTP now; DNS over TCP or UDP would take its
//! per-exchange deadline from here too). Created once per request and shared by every
//! transport; waiting for a zone's lock is bounded by `lock_wait` instead.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Time left for registrar exchanges, and how many were made (for the summary log line).
#[derive(Debug, Clone)]
pub struct Budget {
    limit: Duration,
    spent: Rc<Cell<Duration>>,
    calls: Rc<Cell<u32>>,
}

impl Budget {
    /// A budget of `limit` for the whole request.
    pub fn new(limit: Duration) -> Budget {
        Budget {
            limit,
            spent: Rc::new(Cell::new(Duration::ZERO)),
            calls: Rc::new(Cell::new(0)),
        }
    }

    /// The whole budget, for transports that set a bound once (connect timeouts).
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// What is left; zero when it ran out.
    pub fn remaining(&self) -> Duration {
        self.limit.saturating_sub(self.spent.get())
    }

    /// Runs one exchange, counting it and the time it took.
    pub fn spend<T>(&self, exchange: impl FnOnce() -> T) -> T {
        self.calls.set(self.calls.get() + 1);
        let started = Instant::now();
        let result = exchange();
        self.spent.set(self.spent.get() + started.elapsed());
        result
    }

    /// How many exchanges were made.
    pub fn calls(&self) -> u32 {
        self.calls.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_share_one_budget() {
        let budget = Budget::new(Duration::from_millis(30));
        let copy = budget.clone();
        copy.spend(|| std::thread::sleep(Duration::from_millis(20)));
        assert!(budget.remaining() <= Duration::from_millis(10));
        budget.spend(|| std::thread::sleep(Duration::from_millis(15)));
        assert_eq!(copy.remaining(), Duration::ZERO);
        assert_eq!(copy.calls(), 2);
    }
}

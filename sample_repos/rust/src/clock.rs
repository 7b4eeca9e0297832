//! Time sources for refilling buckets.

use std::cell::Cell;
use std::time::Instant;

/// A monotonic time source, in milliseconds since an arbitrary start.
pub trait Clock {
    /// Milliseconds elapsed since the clock's origin.
    fn now_millis(&self) -> u64;

    /// Milliseconds elapsed since `earlier`, never negative.
    fn since(&self, earlier: u64) -> u64 {
        self.now_millis().saturating_sub(earlier)
    }
}

/// The wall clock of the process, based on [`Instant`].
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }
}

/// A clock that only moves when told to, for tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<u64>,
}

impl ManualClock {
    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: u64) {
        self.now.set(self.now.get() + millis);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.now.get()
    }
}

//! How fast buckets refill and how large they are.

/// The limits applied to every key of a registry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Tokens a full bucket holds: the largest burst allowed.
    pub capacity: u32,
    /// Tokens added per second.
    pub refill_per_sec: f64,
}

impl Policy {
    /// A policy allowing `requests` per `seconds`, with a burst of `requests`.
    pub fn per_seconds(requests: u32, seconds: u32) -> Self {
        Policy { capacity: requests, refill_per_sec: requests as f64 / seconds.max(1) as f64 }
    }

    /// The same rate with a different burst size.
    pub fn with_burst(self, capacity: u32) -> Self {
        Policy { capacity, ..self }
    }

    /// Milliseconds needed to earn `tokens` at this rate.
    pub fn millis_for(&self, tokens: f64) -> u64 {
        if self.refill_per_sec <= 0.0 {
            return u64::MAX;
        }
        (tokens / self.refill_per_sec * 1000.0).ceil() as u64
    }
}

#[cfg(test)]
mod tests {
    //! Unit tests of the rate arithmetic.
    use super::*;

    #[test]
    fn per_seconds_spreads_requests() {
        let p = Policy::per_seconds(10, 2);
        assert_eq!(p.capacity, 10);
        assert_eq!(p.millis_for(5.0), 1000);
    }
}

use crate::clock::Clock;
use crate::error::LimitError;
use crate::policy::Policy;

/// A token bucket: requests spend tokens, time puts them back.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    tokens: f64,
    last_refill: u64,
    policy: Policy,
}

impl TokenBucket {
    /// A full bucket, last refilled at `now`.
    pub fn new(policy: Policy, now: u64) -> Self {
        TokenBucket { tokens: policy.capacity as f64, last_refill: now, policy }
    }

    /// Adds the tokens earned since the last refill, up to the capacity.
    fn refill(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.last_refill) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.policy.refill_per_sec).min(self.policy.capacity as f64);
        self.last_refill = now;
    }

    /// Takes `n` tokens if there are enough, or says how long to wait.
    ///
    /// # Errors
    /// `TooLarge` if `n` exceeds the capacity, `Exhausted` if the bucket is short.
    pub fn try_acquire(&mut self, n: u32, clock: &impl Clock) -> Result<(), LimitError> {
        if n > self.policy.capacity {
            return Err(LimitError::TooLarge { requested: n, capacity: self.policy.capacity });
        }
        self.refill(clock.now_millis());
        let wanted = n as f64;
        if self.tokens >= wanted {
            self.tokens -= wanted;
            Ok(())
        } else {
            Err(LimitError::Exhausted { retry_after_ms: self.policy.millis_for(wanted - self.tokens) })
        }
    }

    /// Tokens left right now, without refilling.
    pub fn available(&self) -> u32 {
        self.tokens.floor() as u32
    }

    /// Whether the bucket has refilled completely by `now` (an idle client).
    pub fn is_full_at(&self, now: u64) -> bool {
        let mut copy = self.clone();
        copy.refill(now);
        copy.tokens >= self.policy.capacity as f64
    }
}

use std::collections::HashMap;
use std::hash::Hash;

use crate::bucket::TokenBucket;
use crate::clock::Clock;
use crate::error::LimitError;
use crate::policy::Policy;

/// One token bucket per key (client id, IP address, API token), sharing a policy.
pub struct Registry<K, C: Clock> {
    buckets: HashMap<K, TokenBucket>,
    policy: Policy,
    clock: C,
    max_keys: usize,
}

impl<K: Hash + Eq + Clone, C: Clock> Registry<K, C> {
    /// An empty registry holding at most `max_keys` buckets.
    pub fn new(policy: Policy, clock: C, max_keys: usize) -> Self {
        Registry { buckets: HashMap::new(), policy, clock, max_keys }
    }

    /// Spends `cost` tokens of `key`'s bucket, creating the bucket on first use.
    pub fn check(&mut self, key: &K, cost: u32) -> Result<(), LimitError> {
        if !self.buckets.contains_key(key) {
            if self.buckets.len() >= self.max_keys && self.evict_idle() == 0 {
                return Err(LimitError::RegistryFull);
            }
            let now = self.clock.now_millis();
            self.buckets.insert(key.clone(), TokenBucket::new(self.policy, now));
        }
        let bucket = self.buckets.get_mut(key).expect("inserted above");
        bucket.try_acquire(cost, &self.clock)
    }

    /// Drops the buckets that have refilled completely; returns how many went.
    pub fn evict_idle(&mut self) -> usize {
        let now = self.clock.now_millis();
        let before = self.buckets.len();
        self.buckets.retain(|_, bucket| !bucket.is_full_at(now));
        before - self.buckets.len()
    }

    /// The number of keys tracked.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }
}

impl<K, C: Clock> Drop for Registry<K, C> {
    fn drop(&mut self) {
        self.buckets.clear();
    }
}

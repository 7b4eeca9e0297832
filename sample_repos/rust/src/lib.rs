//! Throttle: token-bucket rate limiting keyed by client.
//!
//! A [`Registry`] holds one [`TokenBucket`] per key and refills them from a [`Clock`].

pub mod bucket;
pub mod clock;
pub mod error;
pub mod policy;
pub mod registry;

pub use bucket::TokenBucket;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::LimitError;
pub use policy::Policy;
pub use registry::Registry;

/// Builds a [`Policy`] from a rate written as `requests / seconds`.
///
/// `policy!(10 / 1)` allows ten requests per second.
#[macro_export]
macro_rules! policy {
    ($requests:literal / $seconds:literal) => {
        $crate::Policy::per_seconds($requests, $seconds)
    };
}

use std::fmt;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// The bucket is empty; retry after the given number of milliseconds.
    Exhausted { retry_after_ms: u64 },
    /// The request asks for more tokens than the bucket can ever hold.
    TooLarge { requested: u32, capacity: u32 },
    /// The registry is full and evicting did not free a slot.
    RegistryFull,
}

impl LimitError {
    /// The delay a client should wait before retrying, if waiting can help.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            LimitError::Exhausted { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::Exhausted { retry_after_ms } => write!(f, "rate limited, retry in {retry_after_ms} ms"),
            LimitError::TooLarge { requested, capacity } => {
                write!(f, "asked for {requested} tokens, capacity is {capacity}")
            }
            LimitError::RegistryFull => write!(f, "too many clients"),
        }
    }
}

impl std::error::Error for LimitError {}

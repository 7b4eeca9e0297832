#pragma once

#include <cstdint>

namespace kv {

/// Hit and miss counters of a store.
struct Stats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;

  /// Fraction of lookups served from the cache, 0 when there were none.
  double hit_ratio() const {
    const auto total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

}  // namespace kv

#pragma once

#include <functional>
#include <string>

#include "kv/lru_cache.hpp"
#include "kv/stats.h"

namespace kv {

/// How a stored value reached the caller.
enum class Source { Cache, Backend, Missing };

/// A read-through store: values come from the cache, else from a slow backend.
class Store {
 public:
  using Loader = std::function<std::optional<std::string>(const std::string&)>;

  Store(std::size_t cache_size, Loader loader);

  std::optional<std::string> get(const std::string& key, Source* source = nullptr);
  void invalidate(const std::string& key);
  const Stats& stats() const { return stats_; }

 private:
  LRUCache<std::string, std::optional<std::string>> cache_;
  Loader loader_;
  Stats stats_;
};

}  // namespace kv

#include "kv/store.hpp"

#include <utility>

namespace kv {

Store::Store(std::size_t cache_size, Loader loader)
    : cache_(cache_size), loader_(std::move(loader)) {}

/// Looks `key` up in the cache, then in the backend, caching what the backend says
/// (a missing key too, so repeated misses stay cheap).
std::optional<std::string> Store::get(const std::string& key, Source* source) {
  if (auto cached = cache_.get(key)) {
    ++stats_.hits;
    if (source) *source = cached->has_value() ? Source::Cache : Source::Missing;
    return *cached;
  }
  ++stats_.misses;
  auto loaded = loader_(key);
  cache_.put(key, loaded);
  if (source) *source = loaded ? Source::Backend : Source::Missing;
  return loaded;
}

/// Forgets the cached value of `key`, so the next read goes to the backend.
void Store::invalidate(const std::string& key) {
  cache_.put(key, std::nullopt);
  cache_.get(key);
}

}  // namespace kv

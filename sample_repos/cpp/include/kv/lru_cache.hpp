#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace kv {

/// A least-recently-used cache of at most `capacity` entries.
///
/// Lookups move an entry to the front; inserting into a full cache evicts the back.
template <typename Key, typename Value>
class LRUCache {
 public:
  explicit LRUCache(std::size_t capacity) : capacity_(capacity) {}

  /// The cached value of `key`, marking it as recently used.
  std::optional<Value> get(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  /// Stores `value` under `key`; returns the evicted key, if any.
  std::optional<Key> put(const Key& key, Value value) {
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return std::nullopt;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    if (index_.size() <= capacity_) {
      return std::nullopt;
    }
    Key evicted = order_.back().first;
    index_.erase(evicted);
    order_.pop_back();
    return evicted;
  }

  /// Number of cached entries.
  std::size_t size() const { return index_.size(); }

 private:
  using Node = std::pair<Key, Value>;
  std::size_t capacity_;
  std::list<Node> order_;
  std::unordered_map<Key, typename std::list<Node>::iterator> index_;
};

}  // namespace kv

#include <iostream>
#include <map>
#include <string>

#include "kv/store.hpp"

namespace {

/// A fake slow backend: a fixed map of known users.
std::optional<std::string> load_user(const std::string& id) {
  static const std::map<std::string, std::string> users = {{"1", "ada"}, {"2", "grace"}};
  auto it = users.find(id);
  if (it == users.end()) return std::nullopt;
  return it->second;
}

}  // namespace

/// Reads user ids from stdin and prints each name and where it came from.
int main() {
  kv::Store store(128, load_user);
  std::string id;
  while (std::cin >> id) {
    kv::Source source;
    auto name = store.get(id, &source);
    std::cout << id << " " << name.value_or("?") << " " << static_cast<int>(source) << "\n";
  }
  std::cerr << "hit ratio " << store.stats().hit_ratio() << "\n";
}

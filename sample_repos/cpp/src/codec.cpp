#include <cstdint>
#include <stdexcept>
#include <string>

namespace kv {
namespace codec {

/// Thrown when a record does not decode.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Writes `n` as a variable-length integer: 7 bits per byte, high bit set on all but the last.
void put_varint(std::string& out, std::uint64_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

/// Reads a variable-length integer at `pos`, advancing it past the integer.
std::uint64_t get_varint(const std::string& in, std::size_t& pos) {
  std::uint64_t n = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) throw DecodeError("truncated varint");
    const auto byte = static_cast<unsigned char>(in[pos++]);
    n |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return n;
  }
  throw DecodeError("varint too long");
}

/// Encodes a key and value as one length-prefixed record.
std::string encode_record(const std::string& key, const std::string& value) {
  std::string out;
  put_varint(out, key.size());
  out += key;
  put_varint(out, value.size());
  out += value;
  return out;
}

/// Splits a record made by encode_record back into its key and value.
template <typename Pair>
Pair decode_record(const std::string& in) {
  std::size_t pos = 0;
  const auto key_len = get_varint(in, pos);
  std::string key = in.substr(pos, key_len);
  pos += key_len;
  const auto value_len = get_varint(in, pos);
  if (pos + value_len > in.size()) throw DecodeError("truncated value");
  return Pair{key, in.substr(pos, value_len)};
}

}  // namespace codec
}  // namespace kv

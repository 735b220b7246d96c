#include "cluster/lua_script.hpp"

#include <openssl/sha.h>

#include <array>

namespace cluster {

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * digest.size());
  for (const unsigned char b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xf]);
  }
  return out;
}

lua_script::lua_script(std::string text) : text_(std::move(text)), sha_(sha1_hex(text_)) {}

}  // namespace cluster

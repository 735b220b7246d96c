#include "cluster/redis/script.hpp"

#include <openssl/sha.h>

namespace cluster::redis {

script::script(std::string t) : text(std::move(t)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  constexpr char hex[] = "0123456789abcdef";
  sha.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    sha += hex[b >> 4];
    sha += hex[b & 0xf];
  }
}

}  // namespace cluster::redis

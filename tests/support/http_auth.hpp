#pragma once

#include <string>

#include <openssl/evp.h>

namespace test_support {

/// The `Authorization` value of HTTP Basic authentication (RFC 7617) for login:password.
inline std::string basic(const std::string& login, const std::string& password) {
  const std::string plain = login + ":" + password;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()),
                                static_cast<int>(plain.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

}  // namespace test_support

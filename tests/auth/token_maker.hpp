#pragma once

// Test-side JWT minting with OpenSSL, independent of the code under test (its own base64url).

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace auth::test {

/// An owned EVP_PKEY.
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

/// A generated key pair and its public half as PEM.
struct key_pair {
  pkey_ptr key{nullptr, &EVP_PKEY_free};
  std::string public_pem;
};

/// RSA key pair generated in-process.
key_pair make_rsa_key(unsigned bits = 2048);

/// EC key pair on `curve` (default P-256) generated in-process.
key_pair make_ec_key(const char* curve = "P-256");

/// Base64url without padding (RFC 7515 §2).
std::string b64url(std::string_view bytes);

/// HMAC-SHA256 of `input` under `secret`.
std::string sign_hs256(std::string_view secret, std::string_view input);

/// RSASSA-PKCS1-v1_5 SHA-256 signature.
std::string sign_rs256(EVP_PKEY* key, std::string_view input);

/// ECDSA P-256 SHA-256 signature as JWS wants it: raw r||s, 32 bytes each.
std::string sign_es256(EVP_PKEY* key, std::string_view input);

/// "b64(header).b64(claims)", the JWS signing input.
std::string signing_input(std::string_view header_json, std::string_view claims_json);

/// A compact token: signing input plus "." and the base64url signature.
std::string compact(std::string_view input, std::string_view signature);

}  // namespace auth::test

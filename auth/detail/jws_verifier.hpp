#pragma once

// JWS signature checks (RFC 7515) for the three algorithms we accept (RFC 7518 §3):
// HS256 (HMAC-SHA256), RS256 (RSASSA-PKCS1-v1_5 SHA-256) and ES256 (ECDSA P-256 SHA-256).
// Each algorithm is bound to one configured key of its own family: an HS256 token is only ever
// checked against the HMAC secret, never against a public key's bytes, whatever its header says
// (the classic algorithm-confusion attack).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace auth::detail {

/// Keys and allowed algorithms, fixed at start-up. verify() is const and thread-safe.
class jws_verifier {
 public:
  /// `algorithms` empty = every algorithm the configured keys support. `public_key_pem` holds a
  /// PUBLIC KEY or CERTIFICATE PEM block. Throws std::invalid_argument when an algorithm is
  /// unknown or lacks a suitable key, the secret is shorter than 32 bytes, an RSA key is under
  /// 2048 bits, an EC key is not on P-256, or a key is configured that no algorithm uses.
  jws_verifier(std::vector<std::string> algorithms, std::string hmac_secret,
               std::string_view public_key_pem);
  ~jws_verifier();
  jws_verifier(const jws_verifier&) = delete;
  jws_verifier& operator=(const jws_verifier&) = delete;

  /// True when `alg` is allowed here (a JOSE header value such as "RS256"; never "none").
  bool allows(std::string_view alg) const noexcept;

  /// True when `signature` (raw bytes, already base64url-decoded) signs `signing_input`
  /// under `alg` with the configured key. False for a disallowed alg. Never throws.
  bool verify(std::string_view alg, std::string_view signing_input,
              std::string_view signature) const noexcept;

  /// The effective allowed algorithms, for logs.
  const std::vector<std::string>& algorithms() const noexcept { return algorithms_; }

 private:
  struct key_deleter {
    void operator()(void* key) const noexcept;
  };
  std::vector<std::string> algorithms_;
  std::string hmac_secret_;
  std::unique_ptr<void, key_deleter> public_key_;  ///< EVP_PKEY*, kept opaque here
  std::string public_alg_;                         ///< "RS256" or "ES256" by the key's type
};

}  // namespace auth::detail

#pragma once

// JWT bearer tokens (RFC 7519) signed as JWS compact serialisation (RFC 7515) with HS256, RS256
// or ES256. Configuration, as the `[jwt]` table of the broker config:
//
//   [jwt]
//   algorithms = ["RS256"]            # optional; default: what the configured key(s) support
//   secret = "..."                    # HS256 shared secret (>= 32 bytes), or
//   secret_file = "jwt.secret"        #   read from a file (trailing newline stripped)
//   public_key_file = "jwt.pem"       # RS256/ES256: PEM public key or certificate, or
//   public_key = "-----BEGIN ..."     #   the PEM inline
//   issuer = "https://id.example.com/" # optional: `iss` must equal it
//   audience = "stompbox"             # optional: `aud` (string or array) must contain it
//   leeway_seconds = 30               # clock skew allowed on exp/nbf
//   user_claim = "sub"                # claim holding the user name (dots walk into objects)
//   roles_claim = "roles"             # array of strings or space-separated string
//   require_exp = true                # refuse tokens without `exp`
//   max_token_bytes = 8192
//
// Relative file names are resolved against the directory of the config file.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.hpp"

namespace auth {

namespace detail {
class jws_verifier;
}

/// How tokens are verified. See the header comment for the TOML spelling of each field.
struct jwt_config {
  std::vector<std::string> algorithms;  ///< allowed `alg` values; empty = derive from the keys
  std::string hmac_secret;              ///< HS256 key; empty = HS256 off
  std::string public_key_pem;           ///< RS256/ES256 key (PEM); empty = off
  std::string issuer;                   ///< required `iss`; empty = not checked
  std::string audience;                 ///< required member of `aud`; empty = not checked
  std::chrono::seconds leeway{30};      ///< clock skew tolerated on `exp` and `nbf`
  std::string user_claim = "sub";       ///< claim giving principal::name
  std::string roles_claim = "roles";    ///< claim giving principal::roles
  bool require_expiry = true;           ///< refuse tokens without `exp`
  std::size_t max_token_bytes = 8192;   ///< longer tokens are refused before decoding
};

/// The `[jwt]` table of a TOML document, std::nullopt when there is none. Relative file names
/// resolve against `base_dir`. Start-up only: throws std::runtime_error on a bad value.
std::optional<jwt_config> parse_jwt_config(std::string_view toml_text, const std::string& source,
                                           const std::filesystem::path& base_dir = {});

/// parse_jwt_config on a file; relative key files resolve against the file's directory.
std::optional<jwt_config> load_jwt_config(const std::filesystem::path& file);

/// True when `text` has the shape of a JWS compact token: three base64url parts, the first
/// starting `eyJ` (a JSON object). Says nothing about validity. Never throws.
bool looks_like_jwt(std::string_view text) noexcept;

/// Verifies JWTs. The token is credentials::bearer, or else credentials::passcode (login is
/// ignored). Immutable after construction, so thread-safe.
class jwt_authenticator final : public authenticator {
 public:
  /// Where "now" comes from; tests inject a fixed clock.
  using clock = std::function<std::chrono::system_clock::time_point()>;

  /// Loads the keys. Throws std::invalid_argument on an unusable configuration (see
  /// detail::jws_verifier).
  explicit jwt_authenticator(jwt_config config, clock now = &std::chrono::system_clock::now);
  ~jwt_authenticator() override;

  /// The principal with `expires` = `exp`, or std::nullopt and one of the token_* errors
  /// (or error::missing_credentials when no token is offered).
  std::optional<principal> authenticate(const credentials& creds,
                                        std::error_code& ec) const override;

  /// Verifies one compact token; as authenticate.
  std::optional<principal> verify(std::string_view token, std::error_code& ec) const;

 private:
  jwt_config config_;
  clock now_;
  std::unique_ptr<detail::jws_verifier> verifier_;
};

}  // namespace auth

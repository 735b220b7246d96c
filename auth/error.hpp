#pragma once

#include <system_error>
#include <type_traits>

namespace auth {

/// Why an authentication attempt failed. One enumerator per rule; the value is for logs and
/// metrics only: the peer is always told "access refused".
enum class error {
  missing_credentials = 1,  ///< no login/passcode and no token offered
  unknown_user,             ///< the login is not in the users file
  bad_password,             ///< the passcode does not match the stored hash
  malformed_hash,           ///< a stored hash string is not `$pbkdf2-sha256$i=N$salt$hash`
  rate_limited,             ///< too many failed attempts from this peer address; not checked
  method_not_configured,    ///< a token was offered but JWT is not configured (or vice versa)
  token_too_large,          ///< the token exceeds jwt_config::max_token_bytes
  token_malformed,          ///< not three base64url parts of JSON objects
  token_algorithm_refused,  ///< `alg` is none, unknown, or not allowed by the configuration
  token_bad_signature,      ///< the signature does not verify with the configured key
  token_missing_expiry,     ///< no `exp` claim while jwt_config::require_expiry is set
  token_expired,            ///< `exp` (plus leeway) is in the past
  token_not_yet_valid,      ///< `nbf` (minus leeway) is in the future
  token_wrong_issuer,       ///< `iss` differs from the configured issuer
  token_wrong_audience,     ///< `aud` does not contain the configured audience
  token_missing_name,       ///< the user-name claim is absent, empty or not a string
  token_bad_roles,          ///< the roles claim is neither an array of strings nor a string
};

/// The "auth" error category. Thread-safe; lives for the whole program.
const std::error_category& category() noexcept;

/// Makes an error_code of the "auth" category (found by ADL for `ec = error::...`).
std::error_code make_error_code(error e) noexcept;

}  // namespace auth

template <>
struct std::is_error_code_enum<auth::error> : std::true_type {};

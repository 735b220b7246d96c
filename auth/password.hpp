#pragma once

// Salted, slow password hashes: PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) in the PHC string format
//   $pbkdf2-sha256$i=<iterations>$<salt>$<hash>
// salt and hash in standard base64 without `=` padding (as PHC and passlib write them);
// hash_password makes a 16-byte random salt and a 32-byte hash. The iteration count travels in
// the string, so raising the default later keeps old hashes valid.

#include <iosfwd>
#include <string>
#include <string_view>
#include <system_error>

namespace auth {

/// Iterations hash_password uses: OWASP's 2023 figure for PBKDF2-HMAC-SHA256; about 140-200 ms
/// per login on the 2-core development machine.
inline constexpr unsigned default_pbkdf2_iterations = 600'000;
/// Fewest iterations a stored hash may declare (anything lower is refused as malformed).
inline constexpr unsigned min_pbkdf2_iterations = 1'000;
/// Most iterations a stored hash may declare, so one bad line cannot stall logins for minutes.
inline constexpr unsigned max_pbkdf2_iterations = 10'000'000;

/// Hashes `password` with a fresh random salt. `iterations` must lie within
/// [min_pbkdf2_iterations, max_pbkdf2_iterations]. Throws std::invalid_argument for an
/// out-of-range count and std::runtime_error if OpenSSL cannot produce random bytes.
/// Thread-safe.
std::string hash_password(std::string_view password,
                          unsigned iterations = default_pbkdf2_iterations);

/// True when `hash` is a well-formed hash string this module can verify. Thread-safe.
bool is_valid_hash(std::string_view hash) noexcept;

/// True when `password` matches `hash`; compares in constant time. On false, `ec` is
/// error::bad_password or error::malformed_hash. Never throws. Thread-safe.
bool verify_password(std::string_view password, std::string_view hash,
                     std::error_code& ec) noexcept;

/// verify_password without the reason.
bool verify_password(std::string_view password, std::string_view hash) noexcept;

/// `stompbox passwd`: reads one password line from `in`, writes its hash and a newline to `out`.
/// Returns the process exit code: 0, or 1 (with a message on `err`) when the line is empty.
int passwd_main(std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace auth

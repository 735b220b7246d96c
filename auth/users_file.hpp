#pragma once

// The users file (TOML), one table per user:
//
//   [[user]]
//   name = "alice"
//   password = "$pbkdf2-sha256$i=600000$<salt>$<hash>"   # from `stompbox passwd`
//   roles = ["user", "publisher"]                         # optional, default none

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/credential_cache.hpp"

namespace auth {

/// One `[[user]]` entry.
struct user_record {
  std::string name;                ///< login; unique, no `/`, no control characters
  std::string password_hash;       ///< a string accepted by is_valid_hash
  std::vector<std::string> roles;  ///< roles granted to the principal
};

/// Parses the `[[user]]` tables of a TOML document. Start-up only: throws std::runtime_error
/// naming `source` and the entry for a syntax error, an unknown key, a missing or duplicate
/// name, or a malformed password hash.
std::vector<user_record> parse_users(std::string_view toml_text,
                                     const std::string& source = "users file");

/// Reads and parses a users file (see parse_users); throws when it cannot be read.
std::vector<user_record> load_users(const std::filesystem::path& file);

/// Login = user name, passcode = password, checked against the users file. The users are
/// immutable after construction and the credential cache is internally synchronised, so
/// thread-safe. A reload of the users file makes a new one (with an empty cache).
class users_file_authenticator final : public authenticator {
 public:
  /// Takes the users as loaded; throws std::invalid_argument on a duplicate name.
  explicit users_file_authenticator(std::vector<user_record> users,
                                    credential_cache_limits cache = {},
                                    credential_cache::clock now = &std::chrono::steady_clock::now);

  /// error::missing_credentials, error::unknown_user, error::bad_password or
  /// error::malformed_hash. A pair verified within the cache's age answers from the cache
  /// (one HMAC); otherwise costs one PBKDF2 run, even for unknown users, so response time does
  /// not reveal which names exist. Only successes are cached.
  std::optional<principal> authenticate(const credentials& creds,
                                        std::error_code& ec) const override;

  /// True unless the pair is in the credential cache (or the login is empty).
  bool slow(const credentials& creds) const override;

 private:
  std::map<std::string, user_record, std::less<>> users_;
  std::string decoy_hash_;  ///< verified against for unknown users; matches no password
  mutable credential_cache verified_;  ///< internally synchronised
};

}  // namespace auth

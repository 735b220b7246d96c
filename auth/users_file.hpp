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

/// Login = user name, passcode = password, checked against the users file. Immutable after
/// construction, so thread-safe.
class users_file_authenticator final : public authenticator {
 public:
  /// Takes the users as loaded; throws std::invalid_argument on a duplicate name.
  explicit users_file_authenticator(std::vector<user_record> users);

  /// error::missing_credentials, error::unknown_user, error::bad_password or
  /// error::malformed_hash. Costs one PBKDF2 run even for unknown users, so response time does
  /// not reveal which names exist.
  std::optional<principal> authenticate(const credentials& creds,
                                        std::error_code& ec) const override;

 private:
  std::map<std::string, user_record, std::less<>> users_;
  std::string decoy_hash_;  ///< verified against for unknown users; matches no password
};

}  // namespace auth

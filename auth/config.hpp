#pragma once

// Wiring for the binary. The broker config file may hold, besides other modules' tables:
//
//   [auth]
//   users_file = "users.toml"        # optional; the command line's --users FILE overrides it
//   failed_logins_per_minute = 10    # per peer IP, token bucket; 0 = unlimited
//   verify_threads = 1               # threads checking password hashes (off the I/O threads)
//   verify_queue = 1000              # password checks waiting for them; more: "server busy"
//   credential_cache_size = 10000    # verified logins remembered; 0 = no cache
//   credential_cache_seconds = 300   # how long one is remembered
//
//   [jwt]    ...see auth/jwt.hpp
//   [[acl]]  ...see auth/rules_authorizer.hpp
//
// Relative file names resolve against the config file's directory.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/chain.hpp"
#include "auth/credential_cache.hpp"
#include "auth/jwt.hpp"
#include "auth/users_file.hpp"

namespace auth {

/// The `[auth]` table.
struct auth_settings {
  std::filesystem::path users_file;        ///< empty = no users file
  unsigned failed_logins_per_minute = 10;  ///< see login_rate_limiter; 0 = unlimited
  /// Threads that run password checks (PBKDF2) for the broker, so no I/O thread waits on one
  /// (broker::config::verify_threads). At least 1.
  std::size_t verify_threads = 1;
  /// Password checks waiting for those threads; one more is refused with "server busy"
  /// (broker::config::verify_queue). At least 1.
  std::size_t verify_queue = 1000;
  credential_cache_limits credential_cache;  ///< see auth/credential_cache.hpp
};

/// The `[auth]` table of a TOML document (defaults when absent). Start-up only: throws
/// std::runtime_error on an unknown key or a bad value.
auth_settings parse_auth_settings(std::string_view toml_text, const std::string& source,
                                  const std::filesystem::path& base_dir = {});

/// parse_auth_settings on a file.
auth_settings load_auth_settings(const std::filesystem::path& file);

/// The authenticator for broker::config: an auth::chain over the users file and/or JWT, or
/// null when neither is configured (the broker's development mode). Throws
/// std::invalid_argument on an unusable JWT configuration. Returned as the chain so that the
/// caller can reload the users file (chain::replace_users).
std::shared_ptr<chain> make_authenticator(std::optional<std::vector<user_record>> users,
                                          std::optional<jwt_config> jwt,
                                          unsigned failed_logins_per_minute = 10,
                                          credential_cache_limits cache = {});

}  // namespace auth

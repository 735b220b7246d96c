#pragma once

// Logins verified recently, so a reconnecting client costs one HMAC instead of one PBKDF2 run
// (600,000 iterations, 150-260 ms of a core). Keyed by HMAC-SHA256 under a random secret made
// per cache: the passcode itself is never stored, and the keys mean nothing outside this
// process. Only successful checks are remembered. Bounded in entries and in age; a users file
// reload builds a new users_file_authenticator and with it an empty cache, so a changed password
// is never accepted from it.

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/authenticator.hpp"

namespace auth {

/// Bounds of a credential_cache. `max_entries` = 0 disables caching.
struct credential_cache_limits {
  std::size_t max_entries = 10'000;         ///< [auth] credential_cache_size
  std::chrono::seconds max_age{300};        ///< [auth] credential_cache_seconds
};

/// Verified (login, passcode) pairs and the principal each gave. Thread-safe (one mutex).
class credential_cache {
 public:
  /// Where "now" comes from; tests inject a manual clock.
  using clock = std::function<std::chrono::steady_clock::time_point()>;

  /// Throws std::runtime_error if OpenSSL cannot produce the random secret.
  explicit credential_cache(credential_cache_limits limits = {},
                            clock now = &std::chrono::steady_clock::now);

  /// The principal remembered for this pair, if it was verified less than max_age ago.
  std::optional<principal> find(std::string_view login, std::string_view passcode) const;

  /// Remembers a pair that has just been verified; the oldest entry goes when full.
  void remember(std::string_view login, std::string_view passcode, const principal& who);

  /// Entries held (expired ones included until they are looked up or pushed out).
  std::size_t size() const;

  /// HMAC-SHA256(secret, login || 0 || passcode): what the cache keys on. For tests.
  std::string key(std::string_view login, std::string_view passcode) const;

 private:
  struct entry {
    principal who;
    std::chrono::steady_clock::time_point verified;
    std::list<std::string>::iterator age_pos;  ///< in oldest_first_
  };
  void erase_locked(std::unordered_map<std::string, entry>::iterator it) const;

  credential_cache_limits limits_;
  clock now_;
  std::string secret_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, entry> entries_;
  mutable std::list<std::string> oldest_first_;  ///< keys in the order they were verified
};

}  // namespace auth

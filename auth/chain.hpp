#pragma once

#include <atomic>
#include <memory>

#include "auth/authenticator.hpp"
#include "auth/rate_limiter.hpp"

namespace auth {

/// The broker's authenticator when users file and/or JWT are configured: picks the method from
/// what the peer offered and limits failed logins per peer IP. Thread-safe.
///
/// - `bearer` set: JWT (error::method_not_configured when JWT is off).
/// - `passcode` shaped like a JWT (looks_like_jwt) and JWT on: JWT.
/// - otherwise the users file when configured, else JWT.
/// A peer address whose failure budget is spent gets error::rate_limited before any
/// password or signature is checked.
class chain final : public authenticator {
 public:
  /// Either authenticator may be null (not configured), not both: throws std::invalid_argument.
  /// `failed_logins_per_minute` = 0 disables the limiter.
  chain(std::shared_ptr<const authenticator> users, std::shared_ptr<const authenticator> jwt,
        unsigned failed_logins_per_minute = 10,
        login_rate_limiter::clock now = &std::chrono::steady_clock::now);

  /// See the class comment; failures other than rate_limited spend the peer's budget.
  std::optional<principal> authenticate(const credentials& creds,
                                        std::error_code& ec) const override;

  /// True when the users file would check a password hash (not cached, not rate-limited).
  bool slow(const credentials& creds) const override;

  /// Swaps the users file's authenticator (SIGHUP reload): logins that start from now on use
  /// `users` (and its empty credential cache); checks in flight finish on the old one. `users`
  /// must not be null, and a users file must have been configured. Thread-safe.
  void replace_users(std::shared_ptr<const authenticator> users);

 private:
  std::shared_ptr<const authenticator> pick(const credentials& creds) const noexcept;

  std::atomic<std::shared_ptr<const authenticator>> users_;
  std::shared_ptr<const authenticator> jwt_;
  mutable login_rate_limiter limiter_;  ///< internally synchronised
};

}  // namespace auth

#include "auth/chain.hpp"

#include <stdexcept>

#include "auth/error.hpp"
#include "auth/jwt.hpp"

namespace auth {

chain::chain(std::shared_ptr<const authenticator> users, std::shared_ptr<const authenticator> jwt,
             unsigned failed_logins_per_minute, login_rate_limiter::clock now)
    : users_(std::move(users)),
      jwt_(std::move(jwt)),
      limiter_(failed_logins_per_minute, std::move(now)) {
  if (!users_.load() && !jwt_) {
    throw std::invalid_argument("auth::chain needs a users file or JWT configuration");
  }
}

std::shared_ptr<const authenticator> chain::pick(const credentials& creds) const noexcept {
  if (!creds.bearer.empty()) return jwt_;
  if (jwt_ && looks_like_jwt(creds.passcode)) return jwt_;
  auto users = users_.load();
  return users ? users : jwt_;
}

std::optional<principal> chain::authenticate(const credentials& creds, std::error_code& ec) const {
  if (!limiter_.allow(creds.peer_address)) {
    ec = error::rate_limited;
    return std::nullopt;
  }
  std::optional<principal> who;
  if (const auto method = pick(creds)) {
    who = method->authenticate(creds, ec);
  } else {
    ec = error::method_not_configured;
  }
  if (!who) limiter_.record_failure(creds.peer_address);
  return who;
}

// A refusal by the limiter is quick: only a check the limiter lets through may be slow.
bool chain::slow(const credentials& creds) const {
  if (!limiter_.allow(creds.peer_address)) return false;
  const auto method = pick(creds);
  return method && method->slow(creds);
}

void chain::replace_users(std::shared_ptr<const authenticator> users) {
  if (!users) throw std::invalid_argument("auth::chain::replace_users: null");
  if (!users_.load()) throw std::logic_error("auth::chain::replace_users: no users file");
  users_.store(std::move(users));
}

}  // namespace auth

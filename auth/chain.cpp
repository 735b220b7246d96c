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
  if (!users_ && !jwt_) {
    throw std::invalid_argument("auth::chain needs a users file or JWT configuration");
  }
}

const authenticator* chain::pick(const credentials& creds) const noexcept {
  if (!creds.bearer.empty()) return jwt_.get();
  if (jwt_ && looks_like_jwt(creds.passcode)) return jwt_.get();
  return users_ ? users_.get() : jwt_.get();
}

std::optional<principal> chain::authenticate(const credentials& creds, std::error_code& ec) const {
  if (!limiter_.allow(creds.peer_address)) {
    ec = error::rate_limited;
    return std::nullopt;
  }
  std::optional<principal> who;
  if (const auto* method = pick(creds)) {
    who = method->authenticate(creds, ec);
  } else {
    ec = error::method_not_configured;
  }
  if (!who) limiter_.record_failure(creds.peer_address);
  return who;
}

}  // namespace auth

#include "auth/error.hpp"

#include <string>

namespace auth {
namespace {

class error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "auth"; }

  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::missing_credentials:
        return "no credentials offered";
      case error::unknown_user:
        return "unknown user";
      case error::bad_password:
        return "wrong password";
      case error::malformed_hash:
        return "malformed password hash";
      case error::rate_limited:
        return "too many failed logins from this address";
      case error::method_not_configured:
        return "authentication method not configured";
      case error::token_too_large:
        return "token too large";
      case error::token_malformed:
        return "malformed token";
      case error::token_algorithm_refused:
        return "token algorithm refused";
      case error::token_bad_signature:
        return "token signature invalid";
      case error::token_missing_expiry:
        return "token has no exp claim";
      case error::token_expired:
        return "token expired";
      case error::token_not_yet_valid:
        return "token not yet valid";
      case error::token_wrong_issuer:
        return "token issuer mismatch";
      case error::token_wrong_audience:
        return "token audience mismatch";
      case error::token_missing_name:
        return "token has no user name claim";
      case error::token_bad_roles:
        return "token roles claim malformed";
    }
    return "unknown auth error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const error_category instance;
  return instance;
}

std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace auth

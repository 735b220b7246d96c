// Regressions found by fuzz/jwt_fuzzer.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/error.hpp"
#include "auth/jwt.hpp"
#include "token_maker.hpp"

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace t = auth::test;

const std::string secret = "0123456789abcdef0123456789abcdef-secret";
const auto now = std::chrono::system_clock::time_point{} + 1'700'000'000s;

std::error_code refusal(json::object claims) {
  auth::jwt_config config;
  config.hmac_secret = secret;
  const auth::jwt_authenticator jwt(config, [] { return now; });
  const auto input = t::signing_input(R"({"alg":"HS256"})", json::serialize(claims));
  std::error_code ec;
  const auto who = jwt.verify(t::compact(input, t::sign_hs256(secret, input)), ec);
  EXPECT_EQ(who.has_value(), !ec);
  return ec;
}

// system_clock counts nanoseconds in 64 bits (until 2262): a NumericDate clamped to year 9999
// overflowed (undefined behaviour; in practice it wrapped to 1816).
TEST(JwtRegression, FarFutureExpiryIsNotExpired) {
  for (double exp : {253402300799.0, 1e11, 1e308}) {
    EXPECT_EQ(refusal({{"sub", "alice"}, {"exp", exp}}), std::error_code{}) << exp;
  }
}

TEST(JwtRegression, FarFutureNotBeforeIsNotYetValid) {
  for (double nbf : {253402300799.0, 1e11, 1e308}) {
    EXPECT_EQ(refusal({{"sub", "alice"}, {"exp", 1'800'000'000}, {"nbf", nbf}}),
              auth::error::token_not_yet_valid)
        << nbf;
  }
}

TEST(JwtRegression, FarPastExpiryIsExpired) {
  for (double exp : {-253402300799.0, -1e308}) {
    EXPECT_EQ(refusal({{"sub", "alice"}, {"exp", exp}}), auth::error::token_expired) << exp;
  }
}

}  // namespace

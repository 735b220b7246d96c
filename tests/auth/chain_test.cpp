#include "auth/chain.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/error.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/users_file.hpp"
#include "token_maker.hpp"

namespace {

using namespace std::chrono_literals;
using auth::error;
namespace t = auth::test;

const std::string secret = "chain-test-secret-chain-test-secret!";

std::shared_ptr<const auth::authenticator> users() {
  return std::make_shared<auth::users_file_authenticator>(std::vector<auth::user_record>{
      {"alice", auth::hash_password("alice-pw", auth::min_pbkdf2_iterations), {"user"}}});
}

std::shared_ptr<const auth::authenticator> jwt() {
  auth::jwt_config config;
  config.hmac_secret = secret;
  return std::make_shared<auth::jwt_authenticator>(config);
}

std::string token(std::string_view sub) {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                       (std::chrono::system_clock::now() + 1h).time_since_epoch())
                       .count();
  const auto input =
      t::signing_input(R"({"alg":"HS256"})",
                       boost::json::serialize(boost::json::object{{"sub", sub}, {"exp", exp}}));
  return t::compact(input, t::sign_hs256(secret, input));
}

struct manual_clock {
  std::chrono::steady_clock::time_point now{};
  auth::login_rate_limiter::clock fn() {
    return [this] { return now; };
  }
};

std::optional<auth::principal> login(const auth::authenticator& a, auth::credentials c,
                                     std::error_code& ec) {
  return a.authenticate(c, ec);
}

TEST(Chain, PasswordsGoToTheUsersFileAndTokensToJwt) {
  const auth::chain both(users(), jwt());
  std::error_code ec;
  auto who = login(both, {"alice", "alice-pw", "", "10.0.0.1:5"}, ec);
  ASSERT_TRUE(who) << ec.message();
  EXPECT_EQ(who->name, "alice");
  who = login(both, {"", "", token("bob"), "10.0.0.1:5"}, ec);
  ASSERT_TRUE(who) << ec.message();
  EXPECT_EQ(who->name, "bob");
  EXPECT_TRUE(who->expires);
  who = login(both, {"bob", token("bob"), "", "10.0.0.1:5"}, ec);
  ASSERT_TRUE(who) << ec.message();
  EXPECT_EQ(who->name, "bob");
  EXPECT_FALSE(login(both, {"alice", "wrong", "", "10.0.0.1:5"}, ec));
  EXPECT_EQ(ec, error::bad_password);
}

TEST(Chain, WithoutJwtABearerTokenIsRefused) {
  const auth::chain only_users(users(), nullptr);
  std::error_code ec;
  EXPECT_FALSE(login(only_users, {"", "", token("bob"), "10.0.0.1:5"}, ec));
  EXPECT_EQ(ec, error::method_not_configured);
  // A JWT-looking passcode goes to the users file, where it is just a wrong password.
  EXPECT_FALSE(login(only_users, {"alice", token("alice"), "", "10.0.0.1:5"}, ec));
  EXPECT_EQ(ec, error::bad_password);
}

TEST(Chain, WithoutUsersFileEverythingGoesToJwt) {
  const auth::chain only_jwt(nullptr, jwt());
  std::error_code ec;
  EXPECT_FALSE(login(only_jwt, {"alice", "alice-pw", "", "10.0.0.1:5"}, ec));
  EXPECT_EQ(ec, error::token_malformed);
  EXPECT_THROW(auth::chain(nullptr, nullptr), std::invalid_argument);
}

TEST(Chain, RateLimitsFailuresPerIpWithoutCheckingThePassword) {
  manual_clock clock;
  const auth::chain both(users(), jwt(), 3, clock.fn());
  std::error_code ec;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(login(both, {"alice", "guess", "", "[2001:db8::1]:" + std::to_string(i)}, ec));
    EXPECT_EQ(ec, error::bad_password);
  }
  // Even the right password is not checked now.
  EXPECT_FALSE(login(both, {"alice", "alice-pw", "", "[2001:db8::1]:99"}, ec));
  EXPECT_EQ(ec, error::rate_limited);
  EXPECT_FALSE(login(both, {"", "", token("bob"), "[2001:db8::1]:99"}, ec));
  EXPECT_EQ(ec, error::rate_limited);
  // Another address is unaffected.
  EXPECT_TRUE(login(both, {"alice", "alice-pw", "", "[2001:db8::2]:1"}, ec));
  clock.now += 20s;  // 3/min: one attempt back after 20 s
  EXPECT_TRUE(login(both, {"alice", "alice-pw", "", "[2001:db8::1]:100"}, ec)) << ec.message();
}

TEST(Chain, SuccessfulLoginsDoNotSpendTheBudget) {
  manual_clock clock;
  const auth::chain both(users(), jwt(), 2, clock.fn());
  std::error_code ec;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(login(both, {"alice", "alice-pw", "", "10.9.9.9:1"}, ec));
}

}  // namespace

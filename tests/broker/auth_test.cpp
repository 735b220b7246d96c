// Authentication wiring (users file, JWT, development mode), the default authorization rules and
// credential expiry closing sessions through broker::tick().
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <chrono>

#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/users_file.hpp"
#include "user_fixture.hpp"

namespace {

using namespace broker_test;
using broker::close_reason;
using namespace std::chrono_literals;

std::string base64url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

const std::string secret = "0123456789abcdef0123456789abcdef";

std::string hs256(const std::string& header, const std::string& claims) {
  const std::string input = base64url(header) + "." + base64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + base64url(std::string_view(reinterpret_cast<char*>(mac), len));
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string token_for(const std::string& user, std::int64_t exp) {
  return hs256(R"({"alg":"HS256","typ":"JWT"})",
               R"({"sub":")" + user + R"(","exp":)" + std::to_string(exp) + "}");
}

struct Auth : users {
  Auth() {
    auto hash = [](const char* pw) { return auth::hash_password(pw, auth::min_pbkdf2_iterations); };
    users_ = std::make_shared<auth::users_file_authenticator>(std::vector<auth::user_record>{
        {"alice", hash("alice-pw"), {"user"}}, {"backend", hash("backend-pw"), {"publisher"}}});
    auth::jwt_config j;
    j.hmac_secret = secret;
    j.leeway = 0s;
    jwt_ = std::make_shared<auth::jwt_authenticator>(j);
  }
  void with(std::shared_ptr<const auth::authenticator> a) {
    broker::config cfg;
    cfg.authenticator = std::move(a);
    cfg.clock = [this] { return std::chrono::system_clock::now() + skew.load(); };
    start(cfg);
  }
  client& connect_with(std::initializer_list<std::pair<std::string, std::string>> headers) {
    clients.push_back(std::make_unique<client>(*b, q));
    last_reply = clients.back()->connect("1.2", headers);
    return *clients.back();
  }
  void expect_refused(client& c) {
    EXPECT_EQ(last_reply.command, "ERROR");
    EXPECT_EQ(last_reply.get("message"), "access refused");
    EXPECT_EQ(last_reply.body, "access refused");  // no hint of why
    EXPECT_EQ(c.conn->closes(), std::vector{close_reason::auth_failed});
  }

  std::shared_ptr<auth::users_file_authenticator> users_;
  std::shared_ptr<auth::jwt_authenticator> jwt_;
  std::atomic<std::chrono::seconds> skew{0s};
};

TEST_F(Auth, PasswordLoginFromTheUsersFile) {
  with(users_);
  connect_with({{"login", "alice"}, {"passcode", "alice-pw"}});
  EXPECT_EQ(last_reply.get("user-name"), "alice");
  client& wrong = connect_with({{"login", "alice"}, {"passcode", "nope"}});
  expect_refused(wrong);
  client& unknown = connect_with({{"login", "mallory"}, {"passcode", "alice-pw"}});
  expect_refused(unknown);
  EXPECT_EQ(b->stats().auth_failures.load(), 2u);
  EXPECT_EQ(b->stats().closes[static_cast<std::size_t>(close_reason::auth_failed)].load(), 2u);
}

TEST_F(Auth, JwtLoginGoodExpiredAndAlgNone) {
  with(jwt_);
  connect_with({{"passcode", token_for("carol", unix_now() + 3600)}});
  EXPECT_EQ(last_reply.get("user-name"), "carol");
  client& bearer = connect_with({{"Authorization", "Bearer " + token_for("dave", unix_now() + 60)}});
  EXPECT_EQ(last_reply.get("user-name"), "dave");
  EXPECT_TRUE(bearer.conn->closes().empty());
  client& expired = connect_with({{"passcode", token_for("carol", unix_now() - 3600)}});
  expect_refused(expired);
  const std::string none = base64url(R"({"alg":"none","typ":"JWT"})") + "." +
                           base64url(R"({"sub":"carol","exp":)" +
                                     std::to_string(unix_now() + 3600) + "}") + ".";
  client& unsigned_token = connect_with({{"passcode", none}});
  expect_refused(unsigned_token);
}

TEST_F(Auth, ExpiredTokenClosesTheSessionOnTick) {
  with(jwt_);
  client& c = connect_with({{"passcode", token_for("carol", unix_now() + 60)}});
  ASSERT_EQ(last_reply.command, "CONNECTED");
  b->tick();
  q.drain();
  EXPECT_TRUE(c.conn->closes().empty());  // not yet
  skew = 120s;
  b->tick();
  q.drain();
  const stomp::frame e = c.take_one();
  EXPECT_EQ(e.command, "ERROR");
  EXPECT_EQ(e.get("message"), "token expired");
  EXPECT_EQ(c.conn->closes(), std::vector{close_reason::auth_failed});
  EXPECT_EQ(b->stats().tokens_expired.load(), 1u);
}

TEST_F(Auth, SessionsWithoutExpiryAreLeftAlone) {
  with(users_);
  client& c = connect_with({{"login", "alice"}, {"passcode", "alice-pw"}});
  skew = std::chrono::hours(24 * 365);
  b->tick();
  q.drain();
  EXPECT_TRUE(c.conn->closes().empty());
}

// auth::default_acl(), applied when config::authorizer is null.
struct DefaultRules : Auth {
  DefaultRules() { with(users_); }
  client& alice() { return connect_with({{"login", "alice"}, {"passcode", "alice-pw"}}); }
  client& backend() { return connect_with({{"login", "backend"}, {"passcode", "backend-pw"}}); }
  /// True when `f` was accepted (a RECEIPT), false when refused (ERROR "not authorized").
  bool accepted(client& c, stomp::frame f) {
    f.add("receipt", "r");
    c.send(f);
    settle();
    const stomp::frame reply = c.take_one();
    if (reply.command == "ERROR") {
      EXPECT_EQ(reply.get("message"), "not authorized");
      EXPECT_EQ(c.conn->closes(), std::vector{close_reason::protocol_error});
    }
    return reply.command == "RECEIPT";
  }
  bool can_subscribe(client& c, const std::string& d) {
    return accepted(c, make("SUBSCRIBE", {{"destination", d}, {"id", "s"}}));
  }
  bool can_send(client& c, const std::string& d) {
    return accepted(c, make("SEND", {{"destination", d}}, "x"));
  }
};

TEST_F(DefaultRules, EveryoneMayUseTopicsAndQueues) {
  EXPECT_TRUE(can_subscribe(alice(), "/topic/news"));
  EXPECT_TRUE(can_subscribe(alice(), "/topic/news.#"));
  EXPECT_TRUE(can_subscribe(alice(), "/queue/jobs"));
  EXPECT_TRUE(can_send(alice(), "/topic/news"));
  EXPECT_TRUE(can_send(alice(), "/queue/jobs"));
}

TEST_F(DefaultRules, UsersSubscribeToTheirOwnUserDestinationsOnly) {
  EXPECT_TRUE(can_subscribe(alice(), "/user/queue/inbox"));
  EXPECT_TRUE(can_subscribe(alice(), "/user/topic/ticks"));
  EXPECT_TRUE(can_subscribe(alice(), "/user/alice/queue/inbox"));
  client& spy = alice();
  EXPECT_FALSE(can_subscribe(spy, "/user/bob/queue/inbox"));
  EXPECT_NE(spy.conn->sent().back().head.find("/user/bob/queue/inbox"), std::string::npos)
      << "the ERROR names the destination";
  EXPECT_FALSE(can_subscribe(backend(), "/user/alice/queue/inbox"));
  EXPECT_GE(b->stats().forbidden.load(), 2u);
}

TEST_F(DefaultRules, OnlyPublishersSendToUserDestinations) {
  EXPECT_FALSE(can_send(alice(), "/user/bob/queue/inbox"));
  EXPECT_FALSE(can_send(alice(), "/user/alice/queue/inbox"));  // not even to herself
  EXPECT_TRUE(can_send(backend(), "/user/alice/queue/inbox"));
  EXPECT_TRUE(can_send(backend(), "/user/bob/topic/ticks"));
}

TEST_F(DefaultRules, DevelopmentPrincipalsArePublishers) {
  start(broker::config{});
  EXPECT_TRUE(can_send(as("dev"), "/user/alice/queue/inbox"));
  EXPECT_TRUE(can_subscribe(as("dev"), "/user/queue/inbox"));
}

}  // namespace

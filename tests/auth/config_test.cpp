#include "auth/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "auth/error.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/rules_authorizer.hpp"
#include "token_maker.hpp"

namespace {

namespace fs = std::filesystem;

/// A fresh directory under the temp dir, removed at the end of the test.
struct temp_dir {
  fs::path path =
      fs::temp_directory_path() /
      ("stompbox_auth_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
};

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(JwtConfig, AbsentTableMeansJwtOff) {
  EXPECT_FALSE(auth::parse_jwt_config("[auth]\nusers_file = \"u.toml\"\n", "broker.toml"));
}

TEST(JwtConfig, ReadsEveryKey) {
  const auto config = auth::parse_jwt_config(R"(
[jwt]
algorithms = "HS256"
secret = "0123456789abcdef0123456789abcdef"
issuer = "https://id.example"
audience = "stompbox"
leeway_seconds = 5
user_claim = "email"
roles_claim = "groups"
require_exp = false
max_token_bytes = 4096
)",
                                             "broker.toml");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->algorithms, std::vector<std::string>{"HS256"});
  EXPECT_EQ(config->hmac_secret, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(config->issuer, "https://id.example");
  EXPECT_EQ(config->audience, "stompbox");
  EXPECT_EQ(config->leeway, std::chrono::seconds{5});
  EXPECT_EQ(config->user_claim, "email");
  EXPECT_EQ(config->roles_claim, "groups");
  EXPECT_FALSE(config->require_expiry);
  EXPECT_EQ(config->max_token_bytes, 4096u);
}

TEST(JwtConfig, ReadsKeyFilesRelativeToTheConfigFile) {
  const temp_dir dir;
  const auto key = auth::test::make_ec_key();
  dir.write("jwt.pem", key.public_pem);
  dir.write("jwt.secret", "0123456789abcdef0123456789abcdef\n");
  const auto file = dir.write(
      "broker.toml", "[jwt]\npublic_key_file = \"jwt.pem\"\nsecret_file = \"jwt.secret\"\n");
  const auto config = auth::load_jwt_config(file);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->public_key_pem, key.public_pem);
  EXPECT_EQ(config->hmac_secret, "0123456789abcdef0123456789abcdef");
  const auth::jwt_authenticator jwt(*config);  // both keys usable: HS256 and ES256
}

TEST(JwtConfig, BadTablesNameTheProblem) {
  const struct {
    const char* text;
    const char* expected;
  } cases[] = {
      {"[jwt]\nissuer = \"x\"\n", "needs a secret or a public key"},
      {"[jwt]\nsecret = \"s\"\nsecret_file = \"f\"\n", "secret or secret_file"},
      {"[jwt]\nsecret = \"s\"\nleeway_seconds = -1\n", "leeway_seconds"},
      {"[jwt]\nsecret = \"s\"\nalgorithm = \"HS256\"\n", "`algorithm` is not a known key"},
      {"[jwt]\npublic_key_file = \"/nonexistent/key.pem\"\n", "cannot open"},
      {"jwt = 1\n", "must be a table"},
  };
  for (const auto& c : cases) {
    const auto msg = error_of([&] { auth::parse_jwt_config(c.text, "broker.toml"); });
    EXPECT_NE(msg.find(c.expected), std::string::npos) << c.text << " -> " << msg;
  }
}

TEST(AuthSettings, DefaultsAndValues) {
  auto settings = auth::parse_auth_settings("", "broker.toml");
  EXPECT_TRUE(settings.users_file.empty());
  EXPECT_EQ(settings.failed_logins_per_minute, 10u);
  settings = auth::parse_auth_settings(
      "[auth]\nusers_file = \"users.toml\"\nfailed_logins_per_minute = 0\n", "broker.toml",
      "/etc/stompbox");
  EXPECT_EQ(settings.users_file, fs::path("/etc/stompbox/users.toml"));
  EXPECT_EQ(settings.failed_logins_per_minute, 0u);
  EXPECT_THROW(auth::parse_auth_settings("[auth]\nusers = \"x\"\n", "b.toml"), std::runtime_error);
}

TEST(AuthSettings, LoginThreadsAndCredentialCache) {
  auto settings = auth::parse_auth_settings("", "broker.toml");
  EXPECT_EQ(settings.verify_threads, 1u);
  EXPECT_EQ(settings.verify_queue, 1000u);
  EXPECT_EQ(settings.credential_cache.max_entries, 10'000u);
  EXPECT_EQ(settings.credential_cache.max_age, std::chrono::seconds(300));
  settings = auth::parse_auth_settings(
      "[auth]\nverify_threads = 2\nverify_queue = 5\ncredential_cache_size = 0\n"
      "credential_cache_seconds = 30\n",
      "broker.toml");
  EXPECT_EQ(settings.verify_threads, 2u);
  EXPECT_EQ(settings.verify_queue, 5u);
  EXPECT_EQ(settings.credential_cache.max_entries, 0u);
  EXPECT_EQ(settings.credential_cache.max_age, std::chrono::seconds(30));
  EXPECT_THROW(auth::parse_auth_settings("[auth]\nverify_threads = 0\n", "b.toml"),
               std::runtime_error);
  EXPECT_THROW(auth::parse_auth_settings("[auth]\nverify_queue = 0\n", "b.toml"),
               std::runtime_error);
}

TEST(MakeAuthenticator, NullWhenNothingIsConfigured) {
  EXPECT_EQ(auth::make_authenticator(std::nullopt, std::nullopt), nullptr);
}

TEST(MakeAuthenticator, WiresUsersFileThroughTheChain) {
  std::vector<auth::user_record> users{
      {"alice", auth::hash_password("pw", auth::min_pbkdf2_iterations), {}}};
  const auto a = auth::make_authenticator(users, std::nullopt, 1);
  ASSERT_NE(a, nullptr);
  std::error_code ec;
  EXPECT_TRUE(a->authenticate({"alice", "pw", "", "10.0.0.1:1"}, ec));
  EXPECT_FALSE(a->authenticate({"alice", "no", "", "10.0.0.1:1"}, ec));
  EXPECT_FALSE(a->authenticate({"alice", "pw", "", "10.0.0.1:1"}, ec));
  EXPECT_EQ(ec, auth::error::rate_limited);
}

TEST(AclConfig, ParsesRules) {
  const auto rules = auth::parse_acl(R"(
[[acl]]
who = "role:admin"
destinations = "/**"
actions = ["subscribe", "send"]

[[acl]]
who = "*"
destinations = ["/topic/public/**", "/user/{user}/**"]
actions = "subscribe"
allow = false
)",
                                     "broker.toml");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].who, "role:admin");
  EXPECT_EQ(rules[0].destinations, std::vector<std::string>{"/**"});
  EXPECT_EQ(rules[0].actions,
            (std::vector<auth::action>{auth::action::subscribe, auth::action::send}));
  EXPECT_TRUE(rules[0].allow);
  EXPECT_EQ(rules[1].destinations.size(), 2u);
  EXPECT_EQ(rules[1].actions, std::vector<auth::action>{auth::action::subscribe});
  EXPECT_FALSE(rules[1].allow);
  EXPECT_TRUE(auth::parse_acl("", "broker.toml").empty());
}

TEST(AclConfig, BadRulesNameTheProblem) {
  const struct {
    const char* text;
    const char* expected;
  } cases[] = {
      {"[[acl]]\ndestinations = \"/a\"\nactions = \"send\"\n", "`who` is required"},
      {"[[acl]]\nwho = \"*\"\nactions = \"send\"\n", "`destinations` is required"},
      {"[[acl]]\nwho = \"*\"\ndestinations = \"/a\"\n", "`actions` is required"},
      {"[[acl]]\nwho = \"*\"\ndestinations = \"/a\"\nactions = \"publish\"\n", "unknown action"},
      {"[[acl]]\nwho = \"*\"\ndestinations = \"/a/../b\"\nactions = \"send\"\n", "bad destination"},
      {"[[acl]]\nwho = \"*\"\ndestinations = \"/a*\"\nactions = \"send\"\n", "bad destination"},
      {"[[acl]]\nwho = \"*\"\ndestinations = \"topic\"\nactions = \"send\"\n", "bad destination"},
      {"[[acl]]\nwho = \"*\"\ndestinations = \"/a\"\nactions = \"send\"\nallow = \"yes\"\n",
       "true or false"},
      {"[[acl]]\nwho = \"*\"\ndestination = \"/a\"\nactions = \"send\"\n", "not a known key"},
  };
  for (const auto& c : cases) {
    const auto msg = error_of([&] { auth::parse_acl(c.text, "broker.toml"); });
    EXPECT_NE(msg.find(c.expected), std::string::npos) << c.text << " -> " << msg;
    EXPECT_NE(msg.find("[[acl]] #1"), std::string::npos) << msg;
  }
}

}  // namespace

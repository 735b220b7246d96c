// The binary's security and storage settings: [auth], [jwt], [[acl]], [store], [api], --users,
// --data-dir, development mode, and what app::wire_broker builds from them.
#include "app/wiring.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "app/config.hpp"
#include "auth/password.hpp"

namespace {

namespace fs = std::filesystem;

class Wiring : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stompbox-wiring-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  std::optional<int> parse(std::vector<std::string> args, app::settings& s) {
    args.insert(args.begin(), "stompbox");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return app::parse_command_line(static_cast<int>(argv.size()), argv.data(), s);
  }

  std::string users_file() {
    return write("users.toml", "[[user]]\nname = \"alice\"\npassword = \"" +
                                   auth::hash_password("pw", auth::min_pbkdf2_iterations) +
                                   "\"\nroles = [\"user\"]\n");
  }

  fs::path dir_;
};

TEST_F(Wiring, FileReadsStoreApiAuthJwtAndAcl) {
  app::settings s;
  app::load_config_file(write("c.toml", R"(
[api]
enabled = false
path = "/publish"
max_body_bytes = 1234
[auth]
users_file = "users.toml"
failed_logins_per_minute = 3
[jwt]
secret = "0123456789abcdef0123456789abcdef"
issuer = "me"
[[acl]]
who = "*"
destinations = ["/topic/**"]
actions = ["send"]
[store]
data_dir = ":memory:"
user_queue_max_messages = 5
user_queue_max_age_seconds = 60
idempotency_window_seconds = 30
idempotency_max_keys = 7
delivery_window = 9
delivery_window_bytes = 4096
commit_delay_us = 250
)"), s);
  EXPECT_FALSE(s.server.api_enabled);
  EXPECT_EQ(s.server.api_path, "/publish");
  EXPECT_EQ(s.server.api_max_body_bytes, 1234u);
  EXPECT_EQ(s.auth.users_file, dir_ / "users.toml");  // relative to the config file
  EXPECT_EQ(s.auth.failed_logins_per_minute, 3u);
  ASSERT_TRUE(s.jwt);
  EXPECT_EQ(s.jwt->issuer, "me");
  ASSERT_EQ(s.acl.size(), 1u);
  EXPECT_EQ(s.acl[0].who, "*");
  EXPECT_EQ(s.data_dir, ":memory:");
  EXPECT_EQ(s.broker.user_queue_max_messages, 5u);
  EXPECT_EQ(s.broker.user_queue_max_age, std::chrono::seconds(60));
  EXPECT_EQ(s.broker.idempotency_window, std::chrono::seconds(30));
  EXPECT_EQ(s.broker.idempotency_max_keys, 7u);
  EXPECT_EQ(s.broker.delivery_window, 9u);
  EXPECT_EQ(s.broker.delivery_window_bytes, 4096u);
  EXPECT_EQ(s.commit_delay_us, 250u);
}

TEST_F(Wiring, TyposInTheNewTablesAreErrors) {
  app::settings s;
  EXPECT_THROW(app::load_config_file(write("a.toml", "[auth]\nuser_file = \"x\"\n"), s),
               app::config_error);
  EXPECT_THROW(app::load_config_file(write("b.toml", "[jwt]\nsecrets = \"x\"\n"), s),
               app::config_error);
  EXPECT_THROW(app::load_config_file(write("c.toml", "[store]\ndatadir = \"x\"\n"), s),
               app::config_error);
  EXPECT_THROW(app::load_config_file(write("d.toml", "[api]\nmax_body = 1\n"), s),
               app::config_error);
  EXPECT_THROW(app::load_config_file(write("f.toml", "[store]\ncommit_delay_us = 100001\n"), s),
               app::config_error);
  EXPECT_THROW(app::load_config_file(write("e.toml", "[store]\nuser_queue_max_age_seconds = -1\n"),
                                     s),
               app::config_error);
}

TEST_F(Wiring, UsersAndDataDirFlagsOverrideTheFile) {
  const auto users = users_file();
  const auto file = write("c.toml", "[store]\ndata_dir = \"/nonexistent\"\n");
  app::settings s;
  EXPECT_FALSE(parse({"--config", file, "--users", users, "--data-dir", ":memory:"}, s));
  EXPECT_EQ(s.auth.users_file, users);
  EXPECT_EQ(s.data_dir, ":memory:");
  EXPECT_FALSE(app::development_mode(s));
}

TEST_F(Wiring, DevelopmentModeBindsLoopbackUnlessAnAddressIsGiven) {
  app::settings quiet;
  EXPECT_FALSE(parse({}, quiet));
  ASSERT_TRUE(app::development_mode(quiet));
  app::apply_development_defaults(quiet);
  EXPECT_EQ(quiet.server.ws_host, "127.0.0.1");
  EXPECT_EQ(quiet.server.tcp_host, "127.0.0.1");
  EXPECT_NE(app::development_warning(quiet).find("WARNING"), std::string::npos);

  app::settings given;
  EXPECT_FALSE(parse({"--ws", "0.0.0.0:15674"}, given));
  app::apply_development_defaults(given);
  EXPECT_EQ(given.server.ws_host, "0.0.0.0");     // explicit: kept, and the warning says so
  EXPECT_EQ(given.server.tcp_host, "127.0.0.1");  // not given: loopback
  EXPECT_NE(app::development_warning(given).find("NON-LOOPBACK"), std::string::npos);

  app::settings secured;
  EXPECT_FALSE(parse({"--users", users_file()}, secured));
  app::apply_development_defaults(secured);
  EXPECT_EQ(secured.server.ws_host, "0.0.0.0");  // not development mode: defaults untouched
  EXPECT_FALSE(secured.server.loopback_origins);
  EXPECT_TRUE(quiet.server.loopback_origins);  // the developer's page on another local port
}

TEST_F(Wiring, AllowedOriginFlagsReplaceTheConfigList) {
  const auto file = write("o.toml", "[websocket]\nallowed_origins = [\"https://file.example\"]\n");
  app::settings from_file;
  EXPECT_FALSE(parse({"--config", file}, from_file));
  EXPECT_EQ(from_file.server.allowed_origins, std::vector<std::string>{"https://file.example"});
  app::settings s;
  EXPECT_FALSE(parse({"--config", file, "--allowed-origin", "https://a.example",
                      "--allowed-origin", "https://b.example"}, s));
  EXPECT_EQ(s.server.allowed_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
}

TEST_F(Wiring, WireBrokerBuildsAuthenticatorAuthorizerAndStore) {
  app::settings s;
  EXPECT_FALSE(parse({"--users", users_file(), "--data-dir", (dir_ / "data").string()}, s));
  app::wire_broker(s);
  ASSERT_TRUE(s.broker.authenticator);
  ASSERT_TRUE(s.broker.authorizer);
  ASSERT_TRUE(s.broker.store);
  EXPECT_TRUE(fs::exists(dir_ / "data" / "stompbox.db"));
  std::error_code ec;
  EXPECT_TRUE(s.broker.authenticator->authenticate({"alice", "pw", "", "1.2.3.4:5"}, ec));
  EXPECT_FALSE(s.broker.authenticator->authenticate({"alice", "nope", "", "1.2.3.4:5"}, ec));
  const auth::principal alice{"alice", {"user"}, std::nullopt};
  EXPECT_TRUE(s.broker.authorizer->allowed(alice, auth::action::subscribe, "/user/alice/queue/x"));
  EXPECT_FALSE(s.broker.authorizer->allowed(alice, auth::action::send, "/user/bob/queue/x"));
}

TEST_F(Wiring, LoginThreadsAndCacheReachTheBroker) {
  app::settings s;
  app::load_config_file(write("c.toml", "[auth]\nusers_file = \"" + users_file() +
                                            "\"\nverify_threads = 3\nverify_queue = 17\n"
                                            "credential_cache_size = 0\n"),
                        s);
  s.data_dir = ":memory:";
  app::wire_broker(s);
  EXPECT_EQ(s.broker.verify_threads, 3u);
  EXPECT_EQ(s.broker.verify_queue, 17u);
  ASSERT_TRUE(s.logins);
  EXPECT_EQ(s.broker.authenticator, s.logins);
  const auth::credentials alice{"alice", "pw", "", "1.2.3.4:5"};
  std::error_code ec;
  EXPECT_TRUE(s.logins->authenticate(alice, ec));
  EXPECT_TRUE(s.logins->slow(alice)) << "credential_cache_size = 0: every login is checked";
}

TEST_F(Wiring, DevelopmentModeHasNoAuthenticator) {
  app::settings s;
  s.data_dir = ":memory:";
  app::wire_broker(s);
  EXPECT_FALSE(s.broker.authenticator);
  EXPECT_TRUE(s.broker.store);
}

TEST_F(Wiring, BadUsersFileIsAConfigError) {
  app::settings s;
  s.data_dir = ":memory:";
  s.auth.users_file = write("bad.toml", "[[user]]\nname = \"x\"\npassword = \"plain\"\n");
  EXPECT_THROW(app::wire_broker(s), app::config_error);
}

}  // namespace

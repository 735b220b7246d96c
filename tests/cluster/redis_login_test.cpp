// The one Redis connection layer (cluster/redis/) against a real redis-server started with a
// password (requirepass), an ACL user and TLS (a CA and a server certificate generated here
// with the openssl CLI): both users, the async connection of the cluster link and the blocking
// link of the Redis store, log in, refuse wrong credentials with one clear log line, verify the
// server's certificate, and reconnect on READONLY.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "cluster/redis/connection.hpp"
#include "tests/cluster/redis_async_client.hpp"
#include "cluster/store/detail/redis_link.hpp"
#include "tests/support/log_capture.hpp"
#include "tests/support/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using cluster::redis::options;
using test_support::async_client;
namespace fs = std::filesystem;

constexpr const char* password = "hunter2";

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

bool sh(const std::string& command) { return std::system((command + " 2>/dev/null").c_str()) == 0; }

// A CA, a server certificate it signed (for 127.0.0.1 and localhost), and another CA.
bool make_certificates(const fs::path& d) {
  const std::string p = d.string() + "/";
  return sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout " + p +
            "ca.key -out " + p + "ca.pem") &&
         sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout " + p +
            "other.key -out " + p + "other.pem") &&
         sh("openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout " + p +
            "server.key -out " + p + "server.csr") &&
         sh("printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > " + p + "san.ext") &&
         sh("openssl x509 -req -in " + p + "server.csr -CA " + p + "ca.pem -CAkey " + p +
            "ca.key -CAcreateserial -days 2 -extfile " + p + "san.ext -out " + p + "server.pem");
}

class RedisLogin : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    if (test_support::redis_server::executable().empty()) return;
    dir_ = fs::temp_directory_path() / ("stompbox_redis_login_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    if (!make_certificates(dir_)) return;
    server_ = std::make_unique<test_support::redis_server>(dir_.string());
    server_->add_args({"--requirepass", password, "--user", "alice", "on", ">secret", "~*", "&*",
                       "+@all"});
    server_->enable_tls((dir_ / "server.pem").string(), (dir_ / "server.key").string(),
                        (dir_ / "ca.pem").string());
    server_->start();
  }
  static void TearDownTestSuite() {
    server_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

 protected:
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "redis-server or openssl missing";
    log_.emplace();
  }

  static options plain(std::string user, std::string pw) {
    options o;
    o.addresses = {{"127.0.0.1", server_->port()}};
    o.user = std::move(user);
    o.password = std::move(pw);
    return o;
  }
  static options tls(std::string ca) {
    options o = plain("", password);
    o.addresses = {{"127.0.0.1", server_->tls_port()}};
    o.tls = true;
    o.ca_file = (dir_ / ca).string();
    return o;
  }

  /// Log lines containing `text`.
  int logged(const std::string& text) const {
    return static_cast<int>(log_->lines_with(text).size());
  }

  /// The blocking link's answer to PING, or its error.
  static std::string ping_blocking(const options& o) {
    cluster::detail::redis_link link(o, 2s);
    if (auto ec = link.connect()) return "error: " + link.last_error();
    std::error_code ec;
    auto r = link.command({"PING"}, ec);
    return ec ? "error: " + ec.message() : std::string(cluster::redis::reply_text(r.get()));
  }

  static fs::path dir_;
  static std::unique_ptr<test_support::redis_server> server_;
  std::optional<test_support::log_capture> log_;  // from SetUp, once the test runs
};

fs::path RedisLogin::dir_;
std::unique_ptr<test_support::redis_server> RedisLogin::server_;


TEST_F(RedisLogin, AsyncConnectionLogsInWithThePassword) {
  async_client c(plain("", password));
  ASSERT_TRUE(eventually([&] { return c->up(); }));
  EXPECT_EQ(c.run({"SET", "k", "v"}), "OK");
  EXPECT_EQ(c.run({"GET", "k"}), "v");
}

TEST_F(RedisLogin, AsyncConnectionLogsInAsAnAclUser) {
  async_client c(plain("alice", "secret"));
  ASSERT_TRUE(eventually([&] { return c->up(); }));
  EXPECT_EQ(c.run({"ACL", "WHOAMI"}), "alice");
}

TEST_F(RedisLogin, WrongPasswordStaysDownAndIsLoggedOnce) {
  {
    async_client c(plain("", "wrong"));
    // 100, 200, 400, 800 ms: five attempts and more within two seconds.
    std::this_thread::sleep_for(2s);
    EXPECT_FALSE(c->up());
    EXPECT_EQ(c->connects(), 0u);
  }
  const std::string where = "redis 127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(logged(where + " refused AUTH: WRONGPASS"), 1);
}

TEST_F(RedisLogin, WithoutPasswordCommandsAreRefused) {
  EXPECT_NE(ping_blocking(plain("", "")), "PONG");  // NOAUTH: no silent success
  EXPECT_EQ(ping_blocking(plain("", password)), "PONG");
  EXPECT_EQ(ping_blocking(plain("alice", "secret")), "PONG");
}

TEST_F(RedisLogin, BlockingLinkRefusedAuthNamesTheServerAndTheReply) {
  const std::string answer = ping_blocking(plain("alice", "wrong"));
  EXPECT_NE(answer.find("127.0.0.1:" + std::to_string(server_->port()) + " refused AUTH: WRONGPASS"),
            std::string::npos)
      << answer;
}

TEST_F(RedisLogin, TlsWithTheRightCa) {
  EXPECT_EQ(ping_blocking(tls("ca.pem")), "PONG");
  async_client c(tls("ca.pem"));
  ASSERT_TRUE(eventually([&] { return c->up(); }));
  EXPECT_EQ(c.run({"PING"}), "PONG");
}

TEST_F(RedisLogin, TlsWithAWrongCaIsRefused) {
  const std::string answer = ping_blocking(tls("other.pem"));
  EXPECT_NE(answer.find("certificate verify failed"), std::string::npos) << answer;
  async_client c(tls("other.pem"));
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(c->up());
  EXPECT_EQ(logged("certificate verify failed"), 1);
}

TEST_F(RedisLogin, TlsChecksTheServerName) {
  auto o = tls("ca.pem");
  o.server_name = "localhost";  // in the certificate
  EXPECT_EQ(ping_blocking(o), "PONG");
  o.server_name = "redis.example.com";  // not in it
  EXPECT_NE(ping_blocking(o).find("certificate verify failed"), std::string::npos);
}

TEST_F(RedisLogin, TlsWithAWrongPassword) {
  auto o = tls("ca.pem");
  o.password = "wrong";
  EXPECT_NE(ping_blocking(o).find("refused AUTH"), std::string::npos);
}

TEST_F(RedisLogin, PlainTcpToTheTlsPortFails) {
  auto o = plain("", password);
  o.addresses = {{"127.0.0.1", server_->tls_port()}};
  EXPECT_NE(ping_blocking(o).rfind("error: ", 0), std::string::npos);
}

// The master we write to became a replica (failover): the connection drops and reconnects.
TEST_F(RedisLogin, ReadonlyReplyReconnects) {
  async_client c(plain("", password));
  ASSERT_TRUE(eventually([&] { return c->up(); }));
  const auto before = c->connects();
  ASSERT_EQ(c.run({"REPLICAOF", "127.0.0.1", "1"}), "OK");  // a master that is not there
  const std::string answer = c.run({"SET", "k", "v"});
  c.run({"REPLICAOF", "NO", "ONE"});  // may be "(not sent)": the reset is already under way
  EXPECT_EQ(answer.rfind("READONLY", 0), 0u) << answer;
  EXPECT_TRUE(eventually([&] { return c->connects() > before; }));
  if (c.run({"REPLICAOF", "NO", "ONE"}) != "OK") {
    ASSERT_TRUE(eventually([&] { return c->up() && c.run({"REPLICAOF", "NO", "ONE"}) == "OK"; }));
  }
  EXPECT_EQ(c.run({"SET", "k", "v"}), "OK");
}

// The script cache is empty (SCRIPT FLUSH, a new master): EVALSHA meets NOSCRIPT, EVAL with the
// text runs it once and caches it, and the next call goes by SHA alone.
// A script's text goes once per connection, first (pipelined uses of it behind it never meet
// NOSCRIPT, so they keep their order), EVALSHA afterwards, and the text again after NOSCRIPT.
TEST_F(RedisLogin, EvalSendsTheTextFirstThenEvalshaAndAgainOnNoscript) {
  async_client c(plain("", password));
  ASSERT_TRUE(eventually([&] { return c->up(); }));
  ASSERT_EQ(c.run({"SCRIPT", "FLUSH"}), "OK");
  ASSERT_EQ(c.run({"CONFIG", "RESETSTAT"}), "OK");
  const cluster::redis::script twice("return ARGV[1] .. ARGV[1]");
  EXPECT_EQ(twice.sha.size(), 40u);
  auto run_twice = [&](const std::string& arg) {
    std::promise<std::string> answer;
    c.on_strand([&] {
      ASSERT_TRUE(c->eval(twice, {"0", arg}, [&](const redisReply* r) {
        answer.set_value(r ? std::string(cluster::redis::reply_text(r)) : "(null)");
      }));
    });
    return answer.get_future().get();
  };
  // Five pipelined in one strand step on a cache Redis never had the script in: in order.
  std::vector<std::promise<std::string>> answers(5);
  c.on_strand([&] {
    for (std::size_t i = 0; i < answers.size(); ++i)
      ASSERT_TRUE(c->eval(twice, {"0", std::to_string(i)}, [&answers, i](const redisReply* r) {
        answers[i].set_value(r ? std::string(cluster::redis::reply_text(r)) : "(null)");
      }));
  });
  for (std::size_t i = 0; i < answers.size(); ++i)
    EXPECT_EQ(answers[i].get_future().get(), std::to_string(i) + std::to_string(i));
  EXPECT_EQ(c->script_texts(), 1u);
  ASSERT_EQ(c.run({"SCRIPT", "FLUSH"}), "OK");
  EXPECT_EQ(run_twice("ab"), "abab");  // NOSCRIPT, then the text
  EXPECT_EQ(c->script_texts(), 2u);
  std::error_code ec;
  cluster::detail::redis_link admin(plain("", password), 2s);
  ASSERT_FALSE(admin.connect());
  auto info = admin.command({"INFO", "commandstats"}, ec);
  ASSERT_FALSE(ec);
  const std::string stats(cluster::redis::reply_text(info.get()));
  EXPECT_NE(stats.find("cmdstat_evalsha:calls=5"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_eval:calls=2"), std::string::npos) << stats;
}

// The store's blocking link drops a connection that answered READONLY: the next connect finds
// the master again.
TEST_F(RedisLogin, BlockingLinkClosesOnReadonly) {
  cluster::detail::redis_link link(plain("", password), 2s);
  ASSERT_FALSE(link.connect());
  std::error_code ec;
  ASSERT_EQ(cluster::redis::reply_text(link.command({"REPLICAOF", "127.0.0.1", "1"}, ec).get()), "OK");
  auto r = link.command({"SET", "k", "v"}, ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(cluster::redis::is_error(r.get(), "READONLY"));
  EXPECT_FALSE(link.connected());
  ASSERT_FALSE(link.connect());
  link.command({"REPLICAOF", "NO", "ONE"}, ec);
  EXPECT_FALSE(ec);
}

}  // namespace

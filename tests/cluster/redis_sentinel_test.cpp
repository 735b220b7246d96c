// Sentinel mode of the Redis connection layer against real processes (a master, a replica and
// one redis-server --sentinel): the master is found by asking the sentinels in order (a dead one
// first), an unknown master name keeps the connection down, and a failover (SENTINEL FAILOVER:
// +switch-master) moves the connection to the new master.
#include <gtest/gtest.h>

#include <chrono>
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
#include "tests/support/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using cluster::redis::options;
using test_support::async_client;
namespace fs = std::filesystem;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// One command on a fresh blocking connection to 127.0.0.1:`port`: the reply's text, or for an
// array its first element's.
std::string ask(int port, std::vector<std::string_view> args) {
  options o;
  o.addresses = {{"127.0.0.1", port}};
  cluster::detail::redis_link link(o, 2s);
  if (link.connect()) return "(down)";
  std::error_code ec;
  auto r = link.command(args, ec);
  if (ec) return "(failed)";
  if (r->type == REDIS_REPLY_ARRAY) return r->elements ? std::string(cluster::redis::reply_text(r->element[0])) : "";
  return std::string(cluster::redis::reply_text(r.get()));
}

class RedisSentinel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test_support::redis_server::executable().empty()) GTEST_SKIP() << "no redis-server";
    dir_ = fs::temp_directory_path() / ("stompbox_sentinel_" + std::to_string(::getpid()));
    for (const char* d : {"master", "replica", "sentinel", "dead"}) fs::create_directories(dir_ / d);
    master_ = std::make_unique<test_support::redis_server>((dir_ / "master").string());
    master_->start();
    replica_ = std::make_unique<test_support::redis_server>((dir_ / "replica").string());
    replica_->add_args({"--replicaof", "127.0.0.1", std::to_string(master_->port())});
    replica_->start();
    sentinel_ = std::make_unique<test_support::redis_server>((dir_ / "sentinel").string());
    sentinel_->sentinel_of("mymaster", master_->port());
    sentinel_->start();
    dead_ = std::make_unique<test_support::redis_server>((dir_ / "dead").string());  // not started
  }
  void TearDown() override {
    sentinel_.reset();
    replica_.reset();
    master_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  options via_sentinels(const std::string& master) const {
    options o;
    o.addresses = {{"127.0.0.1", dead_->port()}, {"127.0.0.1", sentinel_->port()}};
    o.sentinel_master = master;
    return o;
  }

  fs::path dir_;
  std::unique_ptr<test_support::redis_server> master_, replica_, sentinel_, dead_;
};


TEST_F(RedisSentinel, FindsTheMasterAskingTheSentinelsInOrder) {
  async_client c(via_sentinels("mymaster"));
  ASSERT_TRUE(eventually([&] { return c->up(); }, 10s));
  EXPECT_EQ(c.run({"SET", "where", "here"}), "OK");
  EXPECT_EQ(ask(master_->port(), {"GET", "where"}), "here");
  // The blocking link of the store opens the same way.
  cluster::detail::redis_link link(via_sentinels("mymaster"), 2s);
  ASSERT_FALSE(link.connect()) << link.last_error();
  std::error_code ec;
  auto r = link.command({"GET", "where"}, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(cluster::redis::reply_text(r.get()), "here");
}

TEST_F(RedisSentinel, UnknownMasterNameStaysDown) {
  cluster::detail::redis_link link(via_sentinels("nosuchmaster"), 2s);
  EXPECT_TRUE(link.connect());
  EXPECT_NE(link.last_error().find("does not know master 'nosuchmaster'"), std::string::npos)
      << link.last_error();
}

TEST_F(RedisSentinel, FollowsAFailoverToTheNewMaster) {
  async_client c(via_sentinels("mymaster"));
  ASSERT_TRUE(eventually([&] { return c->up(); }, 10s));
  const auto before = c->connects();
  // The sentinel must know the replica (it asks the master's INFO) before it can promote it.
  ASSERT_TRUE(eventually([&] { return ask(sentinel_->port(), {"SENTINEL", "FAILOVER", "mymaster"}) == "OK"; }, 15s));
  ASSERT_TRUE(eventually([&] { return ask(replica_->port(), {"ROLE"}) == "master"; }, 15s));
  EXPECT_TRUE(eventually([&] { return c->connects() > before && c->up(); }, 15s));
  ASSERT_TRUE(eventually([&] { return c.run({"SET", "after", "failover"}) == "OK"; }, 10s));
  EXPECT_EQ(ask(replica_->port(), {"GET", "after"}), "failover");  // the new master has it
}

}  // namespace

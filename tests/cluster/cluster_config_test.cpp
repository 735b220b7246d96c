// --cluster-redis and [cluster] redis: read, flag over file, a bad URL refused at start-up.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "app/config.hpp"

namespace {

namespace fs = std::filesystem;

class ClusterConfig : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = fs::temp_directory_path() /
            ("stompbox-cluster-config-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override { fs::remove(path_); }

  // Runs parse_command_line on `args` (program name added).
  std::optional<int> parse(std::vector<std::string> args, app::settings& s) {
    args.insert(args.begin(), "stompbox");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return app::parse_command_line(static_cast<int>(argv.size()), argv.data(), s);
  }
  fs::path path_;
};

TEST_F(ClusterConfig, DefaultIsASingleNode) {
  app::settings s;
  EXPECT_FALSE(parse({}, s));
  EXPECT_TRUE(s.cluster_redis.empty());
}

TEST_F(ClusterConfig, FileKeyAndFlagOverIt) {
  const std::string file = write("[cluster]\nredis = \"redis://10.0.0.7:6379/2\"\n");
  app::settings s;
  EXPECT_FALSE(parse({"--config", file}, s));
  EXPECT_EQ(s.cluster_redis, "redis://10.0.0.7:6379/2");
  app::settings t;
  EXPECT_FALSE(parse({"--config", file, "--cluster-redis", "redis://127.0.0.1:7000"}, t));
  EXPECT_EQ(t.cluster_redis, "redis://127.0.0.1:7000");
}

TEST_F(ClusterConfig, BadUrlIsRefusedAtStartUp) {
  app::settings s;
  EXPECT_THROW(parse({"--cluster-redis", "http://10.0.0.7:6379"}, s), app::config_error);
  app::settings t;
  EXPECT_THROW(parse({"--cluster-redis", "redis://host:notaport"}, t), app::config_error);
}

TEST_F(ClusterConfig, QueueClaimAfterDefaultsTo30SecondsAndHasAFloor) {
  app::settings s;
  EXPECT_FALSE(parse({}, s));
  EXPECT_EQ(s.cluster_queue_claim, std::chrono::seconds(30));
  app::settings t;
  EXPECT_FALSE(parse({"--config", write("[cluster]\nqueue_claim_ms = 5000\n")}, t));
  EXPECT_EQ(t.cluster_queue_claim, std::chrono::seconds(5));
  app::settings u;
  EXPECT_THROW(parse({"--config", write("[cluster]\nqueue_claim_ms = 100\n")}, u),
               app::config_error);
}

TEST_F(ClusterConfig, MinReplicasDefaultsToNoWaitAndIsBounded) {
  app::settings s;
  EXPECT_FALSE(parse({}, s));
  EXPECT_EQ(s.cluster_min_replicas, 0u);
  EXPECT_EQ(s.cluster_min_replicas_timeout, std::chrono::milliseconds(1000));
  app::settings t;
  EXPECT_FALSE(parse(
      {"--config", write("[cluster]\nmin_replicas = 2\nmin_replicas_timeout_ms = 250\n")}, t));
  EXPECT_EQ(t.cluster_min_replicas, 2u);
  EXPECT_EQ(t.cluster_min_replicas_timeout, std::chrono::milliseconds(250));
  app::settings u;
  EXPECT_THROW(parse({"--config", write("[cluster]\nmin_replicas = -1\n")}, u),
               app::config_error);
  app::settings v;
  EXPECT_THROW(parse({"--config", write("[cluster]\nmin_replicas_timeout_ms = 0\n")}, v),
               app::config_error);
}

TEST_F(ClusterConfig, UnknownKeyInTheTableIsATypo) {
  app::settings s;
  EXPECT_THROW(app::load_config_file(write("[cluster]\nredis_url = \"redis://x\"\n"), s),
               app::config_error);
}

}  // namespace

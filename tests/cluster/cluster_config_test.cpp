// --cluster-redis and [cluster] redis: read, flag over file, a bad URL refused at start-up; the
// password from a file or the environment, the TLS files.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <stdlib.h>
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

TEST_F(ClusterConfig, BadUrlErrorNeverEchoesThePassword) {
  app::settings s;
  try {
    parse({"--cluster-redis", "redis://u:s3cret@host:notaport"}, s);
    FAIL() << "accepted";
  } catch (const app::config_error& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
  }
}

TEST_F(ClusterConfig, UrlFormsReachTheRedisOptions) {
  app::settings s;
  EXPECT_FALSE(parse({"--cluster-redis", "rediss://alice:pw@cache:6380/2"}, s));
  EXPECT_TRUE(s.cluster_redis_options.tls);
  EXPECT_EQ(s.cluster_redis_options.user, "alice");
  EXPECT_EQ(s.cluster_redis_options.password, "pw");
  EXPECT_EQ(s.cluster_redis_options.first().port, 6380);
  EXPECT_EQ(s.cluster_redis_options.db, 2);
  app::settings t;
  EXPECT_FALSE(parse({"--cluster-redis", "redis-sentinel://s1,s2:26380/mymaster"}, t));
  EXPECT_EQ(t.cluster_redis_options.sentinel_master, "mymaster");
  EXPECT_EQ(t.cluster_redis_options.addresses.size(), 2u);
}

TEST_F(ClusterConfig, PasswordFromAFileWinsOverTheUrls) {
  const auto pw = fs::temp_directory_path() / ("stompbox-redis-pw-" + std::to_string(::getpid()));
  std::ofstream(pw) << "from-file\n";
  app::settings s;
  EXPECT_FALSE(parse({"--config",
                      write("[cluster]\nredis = \"redis://:from-url@h\"\nredis_password_file = \"" +
                            pw.string() + "\"\n")},
                     s));
  EXPECT_EQ(s.cluster_redis_options.password, "from-file");
  fs::remove(pw);
  app::settings t;  // the file is gone: refused at start-up
  EXPECT_THROW(parse({"--config", write("[cluster]\nredis = \"redis://h\"\nredis_password_file = \"" +
                                        pw.string() + "\"\n")},
                     t),
               app::config_error);
}

TEST_F(ClusterConfig, PasswordFromTheEnvironment) {
  ::setenv("STOMPBOX_TEST_REDIS_PASSWORD", "from-env", 1);
  const std::string file =
      write("[cluster]\nredis = \"redis://h\"\nredis_password_env = \"STOMPBOX_TEST_REDIS_PASSWORD\"\n");
  app::settings s;
  EXPECT_FALSE(parse({"--config", file}, s));
  EXPECT_EQ(s.cluster_redis_options.password, "from-env");
  ::unsetenv("STOMPBOX_TEST_REDIS_PASSWORD");
  app::settings t;  // not set: refused at start-up
  EXPECT_THROW(parse({"--config", file}, t), app::config_error);
}

TEST_F(ClusterConfig, TlsFilesAreCheckedAndCarried) {
  const auto ca = fs::temp_directory_path() / ("stompbox-redis-ca-" + std::to_string(::getpid()));
  std::ofstream(ca) << "not checked here\n";
  app::settings s;
  EXPECT_FALSE(parse({"--config", write("[cluster]\nredis = \"rediss://h\"\nredis_tls_ca_file = \"" +
                                        ca.string() + "\"\nredis_tls_server_name = \"redis.internal\"\n")},
                     s));
  EXPECT_EQ(s.cluster_redis_options.ca_file, ca.string());
  EXPECT_EQ(s.cluster_redis_options.server_name, "redis.internal");
  EXPECT_TRUE(s.cluster_redis_options.cert_file.empty());
  app::settings t;  // a certificate without its key
  EXPECT_THROW(parse({"--config", write("[cluster]\nredis = \"rediss://h\"\nredis_tls_cert_file = \"" +
                                        ca.string() + "\"\n")},
                     t),
               app::config_error);
  fs::remove(ca);
  app::settings u;  // a CA file that is not there
  EXPECT_THROW(parse({"--config", write("[cluster]\nredis = \"rediss://h\"\nredis_tls_ca_file = \"" +
                                        ca.string() + "\"\n")},
                     u),
               app::config_error);
}

TEST_F(ClusterConfig, UnknownKeyInTheTableIsATypo) {
  app::settings s;
  EXPECT_THROW(app::load_config_file(write("[cluster]\nredis_url = \"redis://x\"\n"), s),
               app::config_error);
}

}  // namespace

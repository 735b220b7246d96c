// The one Redis URL parser (cluster/redis/options): every form, the bad ones, passwords from a
// file or the environment, and the log form that never shows a password.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cluster/redis/options.hpp"

namespace {

using cluster::redis::options;
using cluster::redis::parse_url;

options parsed(const std::string& url) {
  options o;
  std::string why;
  EXPECT_FALSE(parse_url(url, o, why)) << url << ": " << why;
  return o;
}

TEST(RedisUrl, HostPortDb) {
  const auto o = parsed("redis://10.0.0.5:6380/3");
  ASSERT_EQ(o.addresses.size(), 1u);
  EXPECT_EQ(o.first().host, "10.0.0.5");
  EXPECT_EQ(o.first().port, 6380);
  EXPECT_EQ(o.db, 3);
  EXPECT_FALSE(o.tls);
  EXPECT_TRUE(o.sentinel_master.empty());
  EXPECT_TRUE(o.password.empty());
  const auto d = parsed("redis://cache");
  EXPECT_EQ(d.first().host, "cache");
  EXPECT_EQ(d.first().port, 6379);
  EXPECT_EQ(d.db, 0);
  const auto v6 = parsed("redis://[::1]:7000");
  EXPECT_EQ(v6.first().host, "::1");
  EXPECT_EQ(v6.first().port, 7000);
}

TEST(RedisUrl, UserAndPassword) {
  const auto full = parsed("redis://app:s3cr@t@redis.internal:6379/2");
  EXPECT_EQ(full.user, "app");
  EXPECT_EQ(full.password, "s3cr@t");  // the last '@' ends the password
  EXPECT_EQ(full.first().host, "redis.internal");
  EXPECT_EQ(full.db, 2);
  const auto alone = parsed("redis://:pw@[::1]/1");
  EXPECT_EQ(alone.user, "");
  EXPECT_EQ(alone.password, "pw");
  EXPECT_EQ(alone.first().host, "::1");
  EXPECT_EQ(alone.first().port, 6379);
  const auto bare = parsed("redis://pw@h");
  EXPECT_EQ(bare.password, "pw");
  EXPECT_EQ(bare.user, "");
}

TEST(RedisUrl, TlsScheme) {
  const auto o = parsed("rediss://u:p@cache.example.com:6380");
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.first().host, "cache.example.com");
  EXPECT_EQ(o.first().port, 6380);
  EXPECT_EQ(o.user, "u");
}

TEST(RedisUrl, SentinelListMasterAndDb) {
  const auto o = parsed("redis-sentinel://u:p@s1:26380,s2,[::1]:26381/mymaster/4");
  ASSERT_EQ(o.addresses.size(), 3u);
  EXPECT_EQ(o.addresses[0].host, "s1");
  EXPECT_EQ(o.addresses[0].port, 26380);
  EXPECT_EQ(o.addresses[1].host, "s2");
  EXPECT_EQ(o.addresses[1].port, 26379);  // the sentinels' default port
  EXPECT_EQ(o.addresses[2].host, "::1");
  EXPECT_EQ(o.sentinel_master, "mymaster");
  EXPECT_EQ(o.db, 4);
  EXPECT_EQ(o.password, "p");
  EXPECT_FALSE(o.tls);
  const auto t = parsed("rediss-sentinel://s1/m");
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.sentinel_master, "m");
  EXPECT_EQ(t.db, 0);
}

TEST(RedisUrl, KeepsTlsFilesAlreadySet) {
  options o;
  o.ca_file = "/ca.pem";
  o.server_name = "redis.internal";
  std::string why;
  ASSERT_FALSE(parse_url("rediss://h", o, why));
  EXPECT_EQ(o.ca_file, "/ca.pem");
  EXPECT_EQ(o.server_name, "redis.internal");
}

TEST(RedisUrl, RefusesMalformed) {
  for (const char* bad :
       {"http://x:1", "redis://", "redis://:6379", "redis://h:0", "redis://h:99999",
        "redis://h:12x", "redis://h/x", "redis://h:", "redis://[::1", "redis://[::1]x",
        "redis://h1,h2", "redis-sentinel://s1", "redis-sentinel://s1/", "redis-sentinel://s1,/m",
        "redis-sentinel://s1/m/x", "rediss://", "redis://u:p@"}) {
    options o;
    std::string why;
    EXPECT_TRUE(parse_url(bad, o, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(RedisUrl, PrintableNeverShowsThePassword) {
  const auto o = parsed("redis://app:s3cret@h:7000/2");
  const std::string p = cluster::redis::printable(o);
  EXPECT_EQ(p, "redis://app:***@h:7000/2");
  EXPECT_EQ(p.find("s3cret"), std::string::npos);
  EXPECT_EQ(cluster::redis::printable(parsed("rediss-sentinel://:x@s1,[::1]:2/m")),
            "rediss-sentinel://:***@s1:26379,[::1]:2/m/0");
}

TEST(RedisPassword, FirstLineOfTheFile) {
  const auto path = std::filesystem::temp_directory_path() / "stompbox_redis_password_test";
  {
    std::ofstream f(path);
    f << "from-file\r\nsecond line\n";
  }
  std::string pw, why;
  EXPECT_TRUE(cluster::redis::read_password_file(path.string(), pw, why));
  EXPECT_EQ(pw, "from-file");
  std::filesystem::remove(path);
  EXPECT_FALSE(cluster::redis::read_password_file(path.string(), pw, why));
  EXPECT_NE(why.find(path.string()), std::string::npos);
}

TEST(RedisPassword, FromTheEnvironment) {
  ::setenv("STOMPBOX_TEST_REDIS_PW", "from-env", 1);
  std::string pw, why;
  EXPECT_TRUE(cluster::redis::read_password_env("STOMPBOX_TEST_REDIS_PW", pw, why));
  EXPECT_EQ(pw, "from-env");
  ::unsetenv("STOMPBOX_TEST_REDIS_PW");
  EXPECT_FALSE(cluster::redis::read_password_env("STOMPBOX_TEST_REDIS_PW", pw, why));
  EXPECT_NE(why.find("STOMPBOX_TEST_REDIS_PW"), std::string::npos);
}

}  // namespace

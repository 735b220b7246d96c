#include "transport/proxy/forwarded.hpp"

#include <gtest/gtest.h>

using namespace transport::proxy;

namespace {

const cidr_set& proxies() {
  static const cidr_set set = *cidr_set::parse({"10.0.0.0/8", "127.0.0.1"});
  return set;
}

forwarded_client xff(std::vector<std::string_view> lines) {
  return pick_client({{}, std::move(lines)}, "127.0.0.1", proxies());
}

forwarded_client fwd(std::vector<std::string_view> lines) {
  return pick_client({std::move(lines), {"198.51.100.99"}}, "127.0.0.1", proxies());
}

}  // namespace

TEST(PickClient, RightmostUntrustedHopOfXForwardedFor) {
  EXPECT_EQ(xff({"203.0.113.7"}).ip, "203.0.113.7");
  // The client wrote 1.2.3.4 itself; our proxies appended the rest.
  EXPECT_EQ(xff({"1.2.3.4, 203.0.113.7, 10.1.1.1"}).ip, "203.0.113.7");
  EXPECT_EQ(xff({"1.2.3.4", "203.0.113.7,10.1.1.1"}).ip, "203.0.113.7");  // several lines
  EXPECT_TRUE(xff({"203.0.113.7"}).found);
}

TEST(PickClient, AllHopsTrustedGivesTheLeftmost) {
  EXPECT_EQ(xff({"10.9.9.9, 10.1.1.1"}).ip, "10.9.9.9");
}

TEST(PickClient, AcceptsPortsAndIpv6InXForwardedFor) {
  EXPECT_EQ(xff({"203.0.113.7:5555"}).ip, "203.0.113.7");
  EXPECT_EQ(xff({"2001:db8::7"}).ip, "2001:db8::7");
  EXPECT_EQ(xff({"[2001:db8::7]:443"}).ip, "2001:db8::7");
}

TEST(PickClient, ForwardedIsPreferredAndParsed) {
  EXPECT_EQ(fwd({"for=192.0.2.60;proto=http;by=203.0.113.43"}).ip, "192.0.2.60");
  EXPECT_EQ(fwd({"for=\"[2001:db8:cafe::17]:4711\""}).ip, "2001:db8:cafe::17");
  EXPECT_EQ(fwd({"For=192.0.2.43, for=198.51.100.17"}).ip, "198.51.100.17");
  EXPECT_EQ(fwd({"for=192.0.2.43", "for=10.0.0.5;proto=https"}).ip, "192.0.2.43");
  EXPECT_EQ(fwd({"proto=http;for=\"192.0.2.1:80\""}).ip, "192.0.2.1");
}

TEST(PickClient, GarbageFallsBackToTheSocketAddress) {
  for (std::string_view bad : {"not-an-ip", "203.0.113.7 extra", "", "1.2.3.4,,", "[::1",
                               "\r\nfake log line", "999.1.1.1"}) {
    const auto c = xff({bad});
    EXPECT_EQ(c.ip, "127.0.0.1") << bad;
    EXPECT_FALSE(c.found) << bad;
    EXPECT_FALSE(c.problem.empty()) << bad;
  }
  for (std::string_view bad : {"for=unknown", "for=_hidden", "proto=http", "for=\"[::1\""}) {
    const auto c = fwd({bad});
    EXPECT_EQ(c.ip, "127.0.0.1") << bad;
    EXPECT_FALSE(c.found) << bad;
  }
}

TEST(PickClient, GarbageLeftOfTheClientIsIgnored) {
  // Only hops from the client rightwards matter: what the client wrote further left is noise.
  EXPECT_EQ(xff({"garbage, 203.0.113.7, 10.1.1.1"}).ip, "203.0.113.7");
}

TEST(PickClient, NoHeaderKeepsTheSocketAddress) {
  const auto c = xff({});
  EXPECT_EQ(c.ip, "127.0.0.1");
  EXPECT_FALSE(c.found);
  EXPECT_TRUE(c.problem.empty());
}

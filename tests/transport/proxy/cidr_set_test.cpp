#include "transport/proxy/cidr_set.hpp"

#include <gtest/gtest.h>

using transport::proxy::cidr_set;
using transport::proxy::parse_ip;

TEST(CidrSet, MatchesAddressesAndRangesOfBothFamilies) {
  auto set = cidr_set::parse({"10.0.0.0/8", "127.0.0.1", "fd00::/8", "2001:db8::1"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains(std::string_view("10.255.3.4")));
  EXPECT_TRUE(set->contains(std::string_view("127.0.0.1")));
  EXPECT_FALSE(set->contains(std::string_view("127.0.0.2")));
  EXPECT_FALSE(set->contains(std::string_view("11.0.0.1")));
  EXPECT_TRUE(set->contains(std::string_view("fd12:3456::1")));
  EXPECT_TRUE(set->contains(std::string_view("2001:db8::1")));
  EXPECT_FALSE(set->contains(std::string_view("2001:db8::2")));
  EXPECT_TRUE(set->contains(std::string_view("::ffff:10.1.2.3")));  // IPv4-mapped
}

TEST(CidrSet, PrefixBoundaries) {
  auto set = cidr_set::parse({"192.0.2.128/25", "0.0.0.0/0"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains(std::string_view("8.8.8.8")));  // /0: every IPv4 address
  EXPECT_FALSE(set->contains(std::string_view("::1")));     // but no IPv6 one
  auto half = cidr_set::parse({"192.0.2.128/25"});
  EXPECT_TRUE(half->contains(std::string_view("192.0.2.128")));
  EXPECT_TRUE(half->contains(std::string_view("192.0.2.255")));
  EXPECT_FALSE(half->contains(std::string_view("192.0.2.127")));
  auto v6 = cidr_set::parse({"2001:db8::/127"});
  EXPECT_TRUE(v6->contains(std::string_view("2001:db8::1")));
  EXPECT_FALSE(v6->contains(std::string_view("2001:db8::2")));
}

TEST(CidrSet, RefusesMalformedEntries) {
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/8x",
                          "example.com", "", "1.2.3.4/-1", "[::1]", "10.0.0.1:80"}) {
    std::string which;
    EXPECT_FALSE(cidr_set::parse({"127.0.0.1", bad}, &which)) << bad;
    EXPECT_EQ(which, bad);
  }
}

TEST(CidrSet, EmptySetTrustsNobody) {
  cidr_set none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.contains(std::string_view("127.0.0.1")));
  EXPECT_FALSE(none.contains(std::string_view("garbage")));
}

TEST(ParseIp, PrintsCanonically) {
  EXPECT_EQ(transport::proxy::to_string(*parse_ip("::ffff:192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(transport::proxy::to_string(*parse_ip("2001:0db8:0000::0001")), "2001:db8::1");
  EXPECT_FALSE(parse_ip("1.2.3.4 "));
  EXPECT_FALSE(parse_ip("fe80::1%eth0"));
}

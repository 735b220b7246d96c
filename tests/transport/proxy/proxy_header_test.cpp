#include "transport/proxy/proxy_header.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace transport::proxy;
using status = proxy_header::status;

namespace {

const std::string sig{"\r\n\r\n\0\r\nQUIT\n", 12};

/// Feeds `wire` the way the reader does (exactly `need` bytes at a time) and returns the end
/// state, checking that no read ever goes past the header.
proxy_header read_like_the_reader(const std::string& wire, std::size_t header_size) {
  std::string got;
  for (;;) {
    auto h = parse_proxy_header(got);
    if (h.state != status::need_more) return h;
    EXPECT_GT(h.need, 0u);
    EXPECT_LE(got.size() + h.need, header_size) << "would read past the header";
    if (got.size() + h.need > wire.size()) return h;
    got += wire.substr(got.size(), h.need);
  }
}

std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& payload) {
  std::string s = sig;
  s += static_cast<char>(ver_cmd);
  s += static_cast<char>(fam);
  s += static_cast<char>(payload.size() >> 8);
  s += static_cast<char>(payload.size() & 0xff);
  return s + payload;
}

}  // namespace

TEST(ProxyHeader, V1Tcp4) {
  const std::string header = "PROXY TCP4 192.0.2.7 10.0.0.1 56324 61613\r\n";
  const auto h = read_like_the_reader(header + "CONNECT\n", header.size());
  ASSERT_EQ(h.state, status::done);
  EXPECT_EQ(h.length, header.size());
  ASSERT_TRUE(h.has_source);
  EXPECT_EQ(printable_source(h), "192.0.2.7:56324");
}

TEST(ProxyHeader, V1Tcp6AndUnknown) {
  const std::string six = "PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n";
  const auto h = read_like_the_reader(six + "\x16\x03\x01", six.size());
  ASSERT_EQ(h.state, status::done);
  EXPECT_EQ(printable_source(h), "[2001:db8::7]:1");
  const std::string unknown = "PROXY UNKNOWN\r\n";
  const auto u = read_like_the_reader(unknown + "GET / HTTP/1.1\r\n", unknown.size());
  ASSERT_EQ(u.state, status::done);
  EXPECT_EQ(u.length, unknown.size());
  EXPECT_FALSE(u.has_source);
}

TEST(ProxyHeader, V1Malformed) {
  for (const std::string& bad : std::vector<std::string>{"PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n",
                          "PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n",
                          "PROXY TCP6 192.0.2.7 10.0.0.1 1 2\r\n",
                          "PROXY TCP4 192.0.2.7 10.0.0.1 65536 2\r\n",
                          "PROXY TCP4 192.0.2.7 10.0.0.1 01 2\r\n",
                          "PROXY TCP4  192.0.2.7 10.0.0.1 1 2\r\n",
                          "PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n",
                          "PROXY TCP4 192.0.2.7 10.0.0.1 1 2\n",
                          "PROXY " + std::string(120, 'A') + "\r\n", "GET / HTTP/1.1\r\n",
                          "CONNECT\naccept-version:1.2\n\n", std::string("\x16\x03\x01\x02\x00", 5)}) {
    EXPECT_EQ(read_like_the_reader(bad + "xxxxxxxx", SIZE_MAX).state, status::invalid) << bad;
  }
}

TEST(ProxyHeader, V2Tcp4SkipsTlvs) {
  std::string payload = {char(192), 0, 2, 7, 10, 0, 0, 1, char(0xdc), 0x04, char(0xf0), 0x2d};
  payload += std::string("\x04\x00\x03" "abc", 6);  // one TLV (NOOP)
  const auto header = v2(0x21, 0x11, payload);
  const auto h = read_like_the_reader(header + "CONNECT\n", header.size());
  ASSERT_EQ(h.state, status::done);
  EXPECT_EQ(h.length, header.size());
  EXPECT_EQ(printable_source(h), "192.0.2.7:56324");
}

TEST(ProxyHeader, V2Tcp6) {
  std::string payload(36, '\0');
  payload[0] = 0x20; payload[1] = 0x01; payload[2] = 0x0d; payload[3] = char(0xb8);
  payload[15] = 7;
  payload[32] = 0x01; payload[33] = 0x02;
  const auto header = v2(0x21, 0x21, payload);
  const auto h = read_like_the_reader(header, header.size());
  ASSERT_EQ(h.state, status::done);
  EXPECT_EQ(printable_source(h), "[2001:db8::7]:258");
}

TEST(ProxyHeader, V2LocalAndUnspecCarryNoSource) {
  const auto local = v2(0x20, 0x00, "");
  auto h = read_like_the_reader(local + "x", local.size());
  ASSERT_EQ(h.state, status::done);
  EXPECT_EQ(h.length, 16u);
  EXPECT_FALSE(h.has_source);
  const auto local_with_addr = v2(0x20, 0x11, std::string(12, '\1'));
  h = read_like_the_reader(local_with_addr, local_with_addr.size());
  ASSERT_EQ(h.state, status::done);
  EXPECT_FALSE(h.has_source);
  const auto unspec = v2(0x21, 0x00, "");
  EXPECT_FALSE(read_like_the_reader(unspec, unspec.size()).has_source);
}

TEST(ProxyHeader, V2Malformed) {
  EXPECT_EQ(parse_proxy_header(v2(0x11, 0x11, std::string(12, 0))).state, status::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x22, 0x11, std::string(12, 0))).state, status::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, std::string(11, 0))).state, status::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x21, std::string(35, 0))).state, status::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x41, std::string(12, 0))).state, status::invalid);
  // Longer than we hold: refused from the fixed part alone, before reading the rest.
  std::string huge = sig + "\x21\x11\x10\x01";
  EXPECT_EQ(parse_proxy_header(huge).state, status::invalid);
  std::string wrong_sig = sig;
  wrong_sig[11] = 'X';
  EXPECT_EQ(parse_proxy_header(wrong_sig).state, status::invalid);
}

TEST(ProxyHeader, EarlyBytesAreJudgedEarly) {
  EXPECT_EQ(parse_proxy_header("G").state, status::invalid);
  EXPECT_EQ(parse_proxy_header("P").state, status::need_more);
  EXPECT_EQ(parse_proxy_header("").need, 8u);
}

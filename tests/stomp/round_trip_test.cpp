// serialize -> parse gives the frame back, on generated frames (fixed seed) in every version.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>

#include "stomp/parser.hpp"
#include "stomp/serializer.hpp"
#include "tests/stomp/feed.hpp"

namespace stomp::test {
namespace {

constexpr std::array<std::string_view, 15> commands{
    "SEND",       "SUBSCRIBE", "UNSUBSCRIBE", "BEGIN",     "COMMIT",  "ABORT",   "ACK",  "NACK",
    "DISCONNECT", "CONNECT",   "STOMP",       "CONNECTED", "MESSAGE", "RECEIPT", "ERROR"};

class generator {
 public:
  explicit generator(unsigned seed) : rng_(seed) {}

  frame next(version v) {
    frame f;
    f.command = std::string(commands[pick(commands.size())]);
    const bool escaped = escapes_headers(f.command, v);
    const std::size_t n = pick(8);
    for (std::size_t i = 0; i < n; ++i) {
      // A small name pool makes repeated headers common.
      std::string name = pick(3) == 0 ? "dup" : text(1 + pick(6), escaped, true);
      f.add(std::move(name), text(pick(12), escaped, false));
    }
    f.body = text(pick(3) == 0 ? 0 : pick(40), true, false);
    return f;
  }

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  // Special octets a header may hold; unescaped headers cannot carry LF, names no ':' there.
  std::string text(std::size_t len, bool escaped, bool name) {
    static constexpr std::string_view specials = std::string_view("\\:\n\r\0 \t\xc3\xa9\xff", 11);
    std::string s;
    for (std::size_t i = 0; i < len; ++i) {
      char c = pick(3) == 0 ? specials[pick(specials.size())] : static_cast<char>('a' + pick(26));
      if (!escaped && (c == '\n' || (name && c == ':'))) c = 'x';
      if (name && i == 0 && c == '\0') c = 'x';  // a NUL there ends the frame (parser.cpp dev. 4)
      s += c;
    }
    return s;
  }

  std::mt19937 rng_;
};

// What parsing must give back: content-length is the serializer's, written last.
// and of a repeated name only the first occurrence is kept.
frame expected_after_round_trip(frame f) {
  std::vector<header> first_of_each;
  for (header& h : f.headers) {
    const bool seen = std::any_of(first_of_each.begin(), first_of_each.end(),
                                  [&](const header& k) { return k.name == h.name; });
    if (!seen) first_of_each.push_back(std::move(h));
  }
  f.headers = std::move(first_of_each);
  f.erase("content-length");
  if (!f.body.empty()) f.add("content-length", std::to_string(f.body.size()));
  return f;
}

TEST(RoundTrip, GeneratedFramesEveryVersionEverySplit) {
  generator gen(20240601);
  for (version v : {version::v1_0, version::v1_1, version::v1_2}) {
    for (int i = 0; i < 150; ++i) {
      const frame f = gen.next(v);
      const std::string wire = serialize(f, v);
      EXPECT_EQ(parse_one(wire, v), expected_after_round_trip(f)) << testing::PrintToString(wire);
    }
  }
}

TEST(RoundTrip, GeneratedStreamWithHeartBeats) {
  generator gen(7);
  for (version v : {version::v1_0, version::v1_1, version::v1_2}) {
    std::string stream;
    std::vector<frame> expected;
    for (int i = 0; i < 300; ++i) {
      const frame f = gen.next(v);
      serialize(f, v, stream);
      stream += i % 3 == 0 ? "\n" : (i % 3 == 1 ? "\r\n\n" : "");
      expected.push_back(expected_after_round_trip(f));
    }
    const parse_result whole = parse_chunks({stream}, v, {});
    EXPECT_EQ(whole.frames, expected);
    EXPECT_EQ(whole.last, parse_status::need_more);
    std::vector<std::string_view> pieces;  // uneven chunks, as a socket delivers them
    for (std::size_t at = 0, n = 1; at < stream.size(); at += n, n = n * 7 % 61 + 1) {
      pieces.push_back(std::string_view(stream).substr(at, n));
    }
    EXPECT_EQ(parse_chunks(pieces, v, {}), whole);
  }
}

TEST(RoundTrip, TrailingCrInUnescapedValueSurvives) {
  for (version v : {version::v1_0, version::v1_1}) {
    const frame f{"SEND", {{"a", "x\r"}, {"b", "\r"}, {"c", "y\r\r"}}, ""};
    EXPECT_EQ(parse_one(serialize(f, v), v), f);
  }
  const frame connect{"CONNECT", {{"passcode", "p\r"}}, ""};
  EXPECT_EQ(parse_one(serialize(connect, version::v1_2), version::v1_2), connect);
}

}  // namespace
}  // namespace stomp::test

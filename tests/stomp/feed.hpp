#pragma once

// Test helper: every parser test goes through parse_all_ways(), which feeds the input whole, one
// byte at a time and split in two at every point, and checks that all ways give the same result.

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "stomp/parser.hpp"

namespace stomp {

/// Readable frames in gtest failure messages.
inline void PrintTo(const frame& f, std::ostream* os) {
  *os << "frame{" << testing::PrintToString(f.command) << ", {";
  for (const header& h : f.headers) {
    *os << testing::PrintToString(h.name) << ':' << testing::PrintToString(h.value) << ' ';
  }
  *os << "}, " << testing::PrintToString(f.body) << '}';
}

namespace test {

/// What a parser made of some input: the frames, then how it stopped.
struct parse_result {
  std::vector<frame> frames;
  parse_status last = parse_status::need_more;  // need_more or error once input ran out
  std::error_code error;
  std::size_t buffered = 0;  // bytes of an unfinished frame left in the parser

  friend bool operator==(const parse_result&, const parse_result&) = default;
  friend void PrintTo(const parse_result& r, std::ostream* os) {
    *os << r.frames.size() << " frames " << testing::PrintToString(r.frames) << ", last "
        << static_cast<int>(r.last) << ", error '" << r.error.message() << "', buffered "
        << r.buffered;
  }
};

/// Feeds `chunks` in order to one parser, collecting frames until an error.
inline parse_result parse_chunks(const std::vector<std::string_view>& chunks, version v,
                                 const limits& l) {
  parser p(l);
  p.set_version(v);
  parse_result r;
  frame f;
  for (std::string_view chunk : chunks) {
    while (true) {
      const parse_status s = p.feed(chunk, f);
      if (s == parse_status::frame) {
        r.frames.push_back(f);
        continue;
      }
      r.last = s;
      if (s == parse_status::error) {
        r.error = p.error();
        return r;
      }
      EXPECT_TRUE(chunk.empty()) << "need_more with input left";
      break;
    }
  }
  r.buffered = p.buffered();
  return r;
}

/// Parses `input` whole, byte by byte and split at every point; expects the same result from
/// every way and returns it.
inline parse_result parse_all_ways(std::string_view input, version v = version::v1_2,
                                   const limits& l = {}) {
  const parse_result whole = parse_chunks({input}, v, l);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  EXPECT_EQ(parse_chunks(bytes, v, l), whole) << "fed byte by byte";
  for (std::size_t i = 0; i <= input.size(); ++i) {
    EXPECT_EQ(parse_chunks({input.substr(0, i), input.substr(i)}, v, l), whole) << "split at " << i;
  }
  return whole;
}

/// The only frame parsed from `input` (all ways); fails the test if there is not exactly one.
inline frame parse_one(std::string_view input, version v = version::v1_2, const limits& l = {}) {
  const parse_result r = parse_all_ways(input, v, l);
  EXPECT_EQ(r.last, parse_status::need_more) << r.error.message();
  EXPECT_EQ(r.frames.size(), 1u);
  return r.frames.empty() ? frame{} : r.frames.front();
}

/// The error `input` fails with (all ways); success if it does not fail.
inline std::error_code parse_error(std::string_view input, version v = version::v1_2,
                                   const limits& l = {}) {
  return parse_all_ways(input, v, l).error;
}

/// A string from a literal that may contain NULs: bytes("a\0b").
template <std::size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

}  // namespace test
}  // namespace stomp

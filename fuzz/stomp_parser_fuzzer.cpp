// Fuzzes stomp::parser. Input layout: byte 0 picks the version (bits 0-1) and the limits (bits
// 2-3); byte 1 seeds the chunk sizes; the rest is fed to one parser whole and to another in
// chunks. Aborts when
//  - the two parsers disagree (frames, final status or error): splitting must not matter;
//  - the parser holds more than its limits allow;
//  - a parsed frame does not survive serialize -> parse. "Same" means: same command, same body,
//    same headers in the same order once every content-length header is removed from both, and
//    the re-parsed frame has a content-length header equal to the body size iff the body is not
//    empty (the serializer rewrites content-length; see serializer.hpp).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "stomp/parser.hpp"
#include "stomp/serializer.hpp"

namespace {

using namespace stomp;

struct outcome {
  std::vector<frame> frames;
  parse_status last = parse_status::need_more;
  std::error_code error;
  bool operator==(const outcome&) const = default;
};

limits pick_limits(std::uint8_t b) {
  switch ((b >> 2) & 3) {
    case 0:
      return limits{};
    case 1:
      return pre_connect_limits();
    case 2:
      return limits{8, 32, 4, 64, 128};
    default:
      return limits{5, 6, 1, 3, 16};
  }
}

void check_bounded(const parser& p, const limits& l) {
  if (p.buffered() > l.max_frame + std::max(l.max_command, l.max_header_line) + 2) std::abort();
}

// Feeds `chunks` to a fresh parser until error or the input runs out.
outcome run(const std::vector<std::string_view>& chunks, version v, const limits& l) {
  parser p(l);
  p.set_version(v);
  outcome o;
  frame f;
  for (std::string_view chunk : chunks) {
    for (;;) {
      o.last = p.feed(chunk, f);
      check_bounded(p, l);
      if (o.last == parse_status::frame) {
        o.frames.push_back(f);
        continue;
      }
      if (o.last == parse_status::error) {
        o.error = p.error();
        return o;
      }
      break;
    }
  }
  return o;
}

std::vector<header> without_content_length(std::vector<header> hs) {
  std::erase_if(hs, [](const header& h) { return h.name == "content-length"; });
  return hs;
}

void check_round_trip(const frame& f, version v) {
  const std::string wire = serialize(f, v);
  limits roomy;
  roomy.max_body = roomy.max_frame = wire.size() + 1;
  roomy.max_header_line = wire.size() + 1;
  roomy.max_headers = f.headers.size() + 1;
  parser p(roomy);
  p.set_version(v);
  std::string_view in = wire;
  frame again;
  if (p.feed(in, again) != parse_status::frame || !in.empty()) std::abort();
  if (again.command != f.command || again.body != f.body) std::abort();
  if (without_content_length(again.headers) != without_content_length(f.headers)) std::abort();
  const auto length = again.get("content-length");
  if (f.body.empty() ? length.has_value() : length != std::to_string(f.body.size())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const version v = static_cast<version>(data[0] % 3);
  const limits l = pick_limits(data[0]);
  std::uint32_t seed = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::vector<std::string_view> chunks;
  for (std::size_t at = 0; at < input.size();) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t n = 1 + (seed >> 16) % 17;  // 1..17 bytes: many split points
    chunks.push_back(input.substr(at, n));
    at += n;
  }
  const outcome whole = run({input}, v, l);
  if (!(run(chunks, v, l) == whole)) std::abort();
  for (const frame& f : whole.frames) check_round_trip(f, v);
  return 0;
}

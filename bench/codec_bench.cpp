// Codec throughput: parse and serialize a typical 200-byte SEND and a 4 KiB MESSAGE, and the
// fan-out path (one shared tail, one small head per subscriber). Figures in docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "stomp/parser.hpp"
#include "stomp/serializer.hpp"

namespace {

using namespace stomp;

// A SEND as stomp.js / Spring clients write it, padded to exactly `size` bytes on the wire.
frame typical_send(std::size_t size) {
  frame f{"SEND",
          {{"destination", "/app/chat.room.42"},
           {"content-type", "application/json;charset=UTF-8"},
           {"receipt", "receipt-17"}},
          R"({"from":"alice","text":"hello"})"};
  // Grow then trim: the content-length digits change with the body size.
  while (serialize(f, version::v1_2).size() < size) f.body += 'x';
  while (serialize(f, version::v1_2).size() > size) f.body.pop_back();
  return f;
}

frame message_4k() {
  return frame{"MESSAGE",
               {{"destination", "/topic/prices"},
                {"message-id", "stompbox-1-123456"},
                {"subscription", "sub-0"},
                {"content-type", "application/octet-stream"}},
               std::string(4096, '\x01')};
}

void parse_frames(benchmark::State& state, const std::string& wire) {
  parser p;
  p.set_version(version::v1_2);
  frame f;
  for (auto _ : state) {
    std::string_view in = wire;
    if (p.feed(in, f) != parse_status::frame) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}

void BM_parse_send_200(benchmark::State& state) {
  parse_frames(state, serialize(typical_send(200), version::v1_2));
}
BENCHMARK(BM_parse_send_200);

void BM_parse_message_4k(benchmark::State& state) {
  parse_frames(state, serialize(message_4k(), version::v1_2));
}
BENCHMARK(BM_parse_message_4k);

// The slow path: every frame straddles two reads, so its first half is buffered.
void BM_parse_send_200_split(benchmark::State& state) {
  const std::string wire = serialize(typical_send(200), version::v1_2);
  const std::string_view first = std::string_view(wire).substr(0, 101);
  const std::string_view second = std::string_view(wire).substr(101);
  parser p;
  p.set_version(version::v1_2);
  frame f;
  for (auto _ : state) {
    std::string_view a = first, b = second;
    if (p.feed(a, f) != parse_status::need_more || p.feed(b, f) != parse_status::frame) {
      state.SkipWithError("parse failed");
    }
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(BM_parse_send_200_split);

void serialize_frames(benchmark::State& state, const frame& f) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    serialize(f, version::v1_2, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}

void BM_serialize_send_200(benchmark::State& state) { serialize_frames(state, typical_send(200)); }
BENCHMARK(BM_serialize_send_200);

void BM_serialize_message_4k(benchmark::State& state) { serialize_frames(state, message_4k()); }
BENCHMARK(BM_serialize_message_4k);

// One MESSAGE to N subscribers: the tail is built once, each subscriber costs one small head.
// Items are deliveries.
void BM_shared_message_fanout(benchmark::State& state) {
  frame common = message_4k();
  common.erase("subscription");
  const auto subscribers = state.range(0);
  std::string head;
  for (auto _ : state) {
    const shared_message m(common);
    const std::string& tail = m.tail(version::v1_2);
    for (std::int64_t i = 0; i < subscribers; ++i) {
      head.clear();
      message_head("sub-" + std::to_string(i), "", version::v1_2, head);
      benchmark::DoNotOptimize(head.data());
    }
    benchmark::DoNotOptimize(tail.data());
  }
  state.SetItemsProcessed(state.iterations() * subscribers);
}
BENCHMARK(BM_shared_message_fanout)->Arg(1)->Arg(100)->Arg(10000);

}  // namespace

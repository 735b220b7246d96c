// Message stamps, latency histogram and the exactly-once check shared by every scenario.
#include "bench/load/delivery.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>

namespace load {

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

template <class Int>
void append_number(Int v, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
  out.push_back(' ');
}

}  // namespace

void append_body(const stamp& s, std::size_t size, std::string& out) {
  // "p s t " in decimal, then padding: cheap to write and to read back with from_chars.
  const std::size_t before = out.size();
  append_number(s.publisher, out);
  append_number(s.seq, out);
  append_number(s.sent_ns, out);
  const std::size_t n = out.size() - before;
  if (size > n) out.append(size - n, 'x');
}

bool parse_body(std::string_view body, stamp& out) noexcept {
  const char* p = body.data();
  const char* end = p + body.size();
  auto r = std::from_chars(p, end, out.publisher);
  if (r.ec != std::errc{} || r.ptr == end || *r.ptr != ' ') return false;
  r = std::from_chars(r.ptr + 1, end, out.seq);
  if (r.ec != std::errc{} || r.ptr == end || *r.ptr != ' ') return false;
  r = std::from_chars(r.ptr + 1, end, out.sent_ns);
  return r.ec == std::errc{};
}

namespace {

constexpr std::size_t sub_bits = 5;  // 32 buckets per power of two

std::size_t bucket_of(std::uint64_t v) noexcept {
  if (v < (1u << sub_bits)) return static_cast<std::size_t>(v);
  const auto shift = static_cast<std::size_t>(std::bit_width(v)) - sub_bits - 1;
  return (shift + 1) * (1u << sub_bits) + static_cast<std::size_t>((v >> shift) - (1u << sub_bits));
}

std::int64_t value_of(std::size_t bucket) noexcept {
  const std::size_t n = 1u << sub_bits;
  if (bucket < n) return static_cast<std::int64_t>(bucket);
  const std::size_t shift = bucket / n - 1;
  return static_cast<std::int64_t>((n + bucket % n) << shift);
}

}  // namespace

void latency_histogram::record(std::int64_t ns) noexcept {
  const auto b = bucket_of(ns < 0 ? 0 : static_cast<std::uint64_t>(ns));
  buckets_[b < buckets_.size() ? b : buckets_.size() - 1].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t latency_histogram::count() const noexcept {
  std::uint64_t n = 0;
  for (auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

std::int64_t latency_histogram::percentile(double q) const noexcept {
  const std::uint64_t total = count();
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total));
  if (rank >= total) rank = total - 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen > rank) return value_of(i);
  }
  return value_of(buckets_.size() - 1);
}

void receiver_state::on_message(const stamp& s) noexcept {
  ++received;
  if (s.publisher >= next.size()) {
    ++malformed;
    return;
  }
  auto& expected = next[s.publisher];
  if (s.seq == expected) {
    ++expected;
  } else if (s.seq < expected) {
    ++duplicates;
  } else {
    ++gaps;
    expected = s.seq + 1;
  }
}

void delivery_report::add(const receiver_state& r, const std::vector<std::uint64_t>& sent) {
  std::uint64_t want = 0;
  for (auto n : sent) want += n;
  expected += want;
  received += r.received;
  duplicates += r.duplicates;
  out_of_order += r.gaps;
  malformed += r.malformed;
  const std::uint64_t unique = r.received - r.duplicates - r.malformed;
  if (want > unique) lost += want - unique;
}

void consumer_log::on_message(const stamp& s) {
  if (s.publisher >= seqs.size()) {
    ++malformed;
    return;
  }
  seqs[s.publisher].push_back(s.seq);
}

void delivery_report::add_competing(const std::vector<consumer_log>& consumers,
                                    const std::vector<std::uint64_t>& sent) {
  for (const consumer_log& c : consumers) {
    malformed += c.malformed;
    for (const auto& got : c.seqs) {
      for (std::size_t i = 1; i < got.size(); ++i) out_of_order += got[i] < got[i - 1] ? 1 : 0;
    }
  }
  for (std::size_t p = 0; p < sent.size(); ++p) {
    std::vector<std::uint64_t> all;
    for (const consumer_log& c : consumers) {
      if (p < c.seqs.size()) all.insert(all.end(), c.seqs[p].begin(), c.seqs[p].end());
    }
    std::sort(all.begin(), all.end());
    expected += sent[p];
    received += all.size();
    std::uint64_t unique = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i] == 0 || all[i] > sent[p]) {
        ++malformed;
      } else if (i > 0 && all[i] == all[i - 1]) {
        ++duplicates;
      } else {
        ++unique;
      }
    }
    lost += sent[p] - std::min(sent[p], unique);
  }
}

}  // namespace load

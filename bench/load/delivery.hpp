#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace load {

/// What every benchmark message body carries: who sent it, its sequence number (from 1, per
/// publisher and receiver set) and the steady_clock time of sending in ns.
struct stamp {
  std::uint32_t publisher = 0;
  std::uint64_t seq = 0;
  std::int64_t sent_ns = 0;
};

/// steady_clock now in ns (CLOCK_MONOTONIC: comparable between processes of one machine).
std::int64_t now_ns() noexcept;

/// Appends a body of exactly max(size, the fields' length) bytes holding `s`, padded with 'x'.
void append_body(const stamp& s, std::size_t size, std::string& out);
/// Reads the fields back. False when the body is not ours.
bool parse_body(std::string_view body, stamp& out) noexcept;

/// Log-linear latency histogram (about 3% resolution) with atomic buckets: any thread records.
class latency_histogram {
 public:
  /// Records one latency in ns (negative counts as 0). Thread-safe.
  void record(std::int64_t ns) noexcept;
  /// The latency in ns at fraction `q` (0..1) of the recorded ones; 0 when empty.
  std::int64_t percentile(double q) const noexcept;
  /// Number of recorded values.
  std::uint64_t count() const noexcept;

 private:
  static constexpr std::size_t sub = 32;  // buckets per power of two
  std::array<std::atomic<std::uint64_t>, 64 * sub> buckets_{};
};

/// Exactly-once bookkeeping of one receiver (one subscription): per publisher the next expected
/// sequence. Touched only on the receiver's strand.
struct receiver_state {
  std::vector<std::uint64_t> next;  ///< index: publisher id; next expected seq (from 1)
  std::uint64_t received = 0;       ///< messages counted (ours, in order or not)
  std::uint64_t duplicates = 0;     ///< seq below the expected one (repeat or late reorder)
  std::uint64_t gaps = 0;           ///< seq above the expected one (a skip: out of order)
  std::uint64_t malformed = 0;      ///< body not ours or unknown publisher

  /// Checks one message body against the expectations.
  void on_message(const stamp& s) noexcept;
};

/// What one of several competing consumers (a /queue/) got: per publisher the sequence numbers
/// in arrival order. Touched only on the consumer's strand; merged by delivery_report.
struct consumer_log {
  std::vector<std::vector<std::uint64_t>> seqs;  ///< index: publisher id
  std::uint64_t malformed = 0;                   ///< body not ours or unknown publisher
  void on_message(const stamp& s);
};

/// The run's exactly-once verdict.
struct delivery_report {
  std::uint64_t expected = 0;     ///< messages that should have arrived
  std::uint64_t received = 0;     ///< messages that did arrive
  std::uint64_t lost = 0;         ///< expected but never seen
  std::uint64_t duplicates = 0;   ///< seen more than once or behind order
  std::uint64_t out_of_order = 0; ///< arrived after a later one
  std::uint64_t malformed = 0;    ///< bodies we did not send

  /// Adds one receiver whose publishers sent `sent[p]` messages meant for it.
  void add(const receiver_state& r, const std::vector<std::uint64_t>& sent);
  /// Adds competing consumers: each of the sent[p] messages of publisher p must reach exactly
  /// one of them, and each consumer must see a publisher's messages in order (a gap is another
  /// consumer's message, not a loss).
  void add_competing(const std::vector<consumer_log>& consumers,
                     const std::vector<std::uint64_t>& sent);
  /// True when every expected message arrived once, in order.
  bool ok() const noexcept { return lost + duplicates + out_of_order + malformed == 0; }
};

}  // namespace load

#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "bench/load/options.hpp"
#include "bench/load/stomp_client.hpp"

namespace load {

/// Exit codes of stompbox-bench.
enum exit_code : int {
  exit_ok = 0,
  exit_violation = 1,    ///< exactly-once check failed
  exit_failure = 2,      ///< connection failure, timeout, bad flags
  exit_error_frame = 3,  ///< the broker answered with an ERROR frame (e.g. unsupported feature)
};

/// The generator's connections and the io threads that drive them, plus the first failure any
/// of them met. Clients are created and started from the main thread; their callbacks run on
/// the io threads. Stop (or destroy) before reading per-connection state.
class fleet {
 public:
  explicit fleet(const options& o);
  ~fleet();
  fleet(const fleet&) = delete;
  fleet& operator=(const fleet&) = delete;

  /// A new client, kept until stop(), for the next of opts().targets in turn (round-robin over
  /// the nodes of a cluster). Its on_fail reports to this fleet. Main thread only.
  std::shared_ptr<stomp_client> make_client();
  /// A client like make_client's that the fleet does not keep (a short-lived login): it lives
  /// as long as its pending operations. Main thread only.
  std::shared_ptr<stomp_client> make_transient_client();
  /// Starts `c` from the next source address (127.0.0.1 .. 127.0.0.250 in turn) with a CONNECT
  /// for `login` (the --login flag wins when set).
  void connect(stomp_client& c, const std::string& login, const std::string& heart_beat);

  /// Records a failure (the first one is kept). Thread-safe.
  void fail(const std::string& what, exit_code code = exit_failure);
  /// Reports an ERROR frame as a failure. Thread-safe.
  void fail_with_error_frame(const stomp::frame& f);
  bool failed() const noexcept { return failed_.load(); }
  /// The first failure and its exit code.
  std::pair<std::string, exit_code> failure() const;

  /// Clients that signalled readiness (CONNECTED / RECEIPT, as the scenario decides).
  std::atomic<std::size_t> ready{0};

  /// Calls open(i) for i in [0, n), keeping at most --parallel of them not yet ready; waits
  /// until `ready` has grown by n. Seconds taken, or a negative value on failure, timeout or
  /// when no client became ready for `stall_s` seconds (recorded as the failure).
  double ramp(std::size_t n, const std::function<void(std::size_t)>& open, double timeout_s);
  /// Sleeps until wall_seconds() >= t or a failure. False on failure.
  bool sleep_until(double t) const;

  /// Closes every client, stops the io threads and joins them. Idempotent.
  void stop();

  const options& opts() const noexcept { return opts_; }

 private:
  const options& opts_;
  boost::asio::io_context ioc_;
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<stomp_client>> clients_;
  static constexpr double stall_s = 30;
  std::size_t next_source_ = 0;
  std::size_t next_target_ = 0;
  std::atomic<bool> failed_{false};
  mutable std::mutex mutex_;  // guards failure_
  std::pair<std::string, exit_code> failure_{"", exit_ok};
};

/// CONNECT (STOMP 1.2) with login/passcode, host "/" (RabbitMQ reads it as the vhost).
std::string connect_frame(const std::string& login, const std::string& passcode,
                          const std::string& heart_beat);
/// SUBSCRIBE id:0 to `destination` (ack:auto) asking for RECEIPT `receipt`.
std::string subscribe_frame(const std::string& destination, const std::string& receipt);
/// Appends a SEND to `destination` with `body` and its content-length.
void append_send(const std::string& destination, std::string_view body, std::string& out);

/// Ordered results: printed as "key: value" lines, or as one JSON object line.
class results {
 public:
  void add(std::string key, double value);
  void add(std::string key, std::string value);
  void print(bool json) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;  // value already JSON-encoded
};

}  // namespace load

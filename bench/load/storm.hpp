#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "bench/load/delivery.hpp"
#include "bench/load/fleet.hpp"
#include "bench/load/options.hpp"

namespace load {

/// A login storm beside a scenario (fanout --storm N): N clients, each logging in (connect,
/// CONNECT with --passcode as storm<k % --storm-users>, CONNECTED, close) every
/// --storm-interval seconds, on a fleet and a thread of its own. Each storm user logs in once
/// first (warm-up, one at a time), as clients that were connected before a network blip.
class login_storm {
 public:
  explicit login_storm(const options& o);
  ~login_storm();  ///< stop()

  /// Runs the warm-up, then the storm, on its own thread until stop().
  void start();
  /// True once the warm-up is done and the storm runs.
  bool storming() const noexcept { return storming_.load(); }
  /// Ends the storm and adds its figures (storm_*) to `out`. Idempotent.
  void stop(results* out = nullptr);

 private:
  struct counts {
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::uint64_t> ok{0};
    std::atomic<std::uint64_t> refused{0};  ///< ERROR frames (access refused, server busy)
    std::atomic<std::uint64_t> failed{0};   ///< connection failures
    latency_histogram login;                ///< connect start to CONNECTED
  };
  void run();
  void login_once(std::size_t k);
  void wait_in_flight() const;

  options opts_;  ///< a copy without --login: the storm has its own logins
  counts n_;      // before the fleet: its io threads touch it until the fleet stops
  fleet fleet_;
  std::thread thread_;
  std::atomic<bool> storming_{false};
  std::atomic<bool> stopping_{false};
  std::uint64_t started_ = 0, skipped_ = 0;
  double t0_ = 0, t1_ = 0, broker_cpu_ = 0;
};

}  // namespace load

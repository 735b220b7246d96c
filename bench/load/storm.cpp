// The login storm beside a scenario (fanout --storm N), see storm.hpp and docs/benchmarks.md
// "Login storm".
#include "bench/load/storm.hpp"

#include <algorithm>
#include <chrono>

#include "bench/load/process_stats.hpp"

namespace load {

namespace {

options storm_options(const options& o) {
  options s = o;
  s.login.clear();
  s.threads = 1;
  return s;
}

}  // namespace

login_storm::login_storm(const options& o) : opts_(storm_options(o)), fleet_(opts_) {}

login_storm::~login_storm() { stop(); }

void login_storm::start() {
  thread_ = std::thread([this] { run(); });
}

void login_storm::login_once(std::size_t k) {
  auto c = fleet_.make_transient_client();
  const std::int64_t started = now_ns();
  n_.in_flight.fetch_add(1);
  c->on_frame = [this, started](stomp_client& self, const stomp::frame& fr) {
    if (fr.command == "CONNECTED") {
      n_.login.record(now_ns() - started);
      n_.ok.fetch_add(1);
    } else {
      n_.refused.fetch_add(1);
    }
    n_.in_flight.fetch_sub(1);
    self.close();
  };
  c->on_fail = [this](stomp_client&, const std::string&) {
    n_.failed.fetch_add(1);
    n_.in_flight.fetch_sub(1);
  };
  const std::size_t users = std::max<std::size_t>(opts_.storm_users, 1);
  fleet_.connect(*c, opts_.name_prefix + "storm" + std::to_string(k % users), "0,0");
}

void login_storm::wait_in_flight() const {
  while (n_.in_flight.load() > 0 && !stopping_.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Open loop: login number i starts at t0 + i * interval / N, unless N are already in flight.
void login_storm::run() {
  for (std::size_t k = 0; k < std::min(opts_.storm_users, opts_.storm) && !stopping_; ++k) {
    login_once(k);
    wait_in_flight();
  }
  n_.ok = 0;
  n_.refused = 0;
  n_.failed = 0;
  t0_ = wall_seconds();
  broker_cpu_ = cpu_seconds(opts_.broker_pid);
  storming_ = true;
  const double per_login = opts_.storm_interval / static_cast<double>(opts_.storm);
  while (!stopping_.load()) {
    const auto due = static_cast<std::uint64_t>((wall_seconds() - t0_) / per_login);
    for (; started_ < due; ++started_) {
      if (n_.in_flight.load() >= opts_.storm) {
        ++skipped_;
        continue;
      }
      login_once(static_cast<std::size_t>(started_ % opts_.storm));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  t1_ = wall_seconds();
}

void login_storm::stop(results* out) {
  if (!thread_.joinable()) return;
  const double broker1 = cpu_seconds(opts_.broker_pid);
  stopping_ = true;
  thread_.join();
  fleet_.stop();
  if (!out) return;
  const double wall = std::max(t1_ - t0_, 1e-9);
  out->add("storm_clients", static_cast<double>(opts_.storm));
  out->add("storm_users", static_cast<double>(opts_.storm_users));
  out->add("storm_offered_per_s", static_cast<double>(started_) / wall);
  out->add("storm_logins_per_s", static_cast<double>(n_.ok.load()) / wall);
  out->add("storm_refused", static_cast<double>(n_.refused.load()));
  out->add("storm_conn_failures", static_cast<double>(n_.failed.load()));
  out->add("storm_skipped_in_flight", static_cast<double>(skipped_));
  out->add("storm_login_p50_ms", static_cast<double>(n_.login.percentile(0.5)) / 1e6);
  out->add("storm_login_p99_ms", static_cast<double>(n_.login.percentile(0.99)) / 1e6);
  if (opts_.broker_pid > 0) out->add("storm_broker_cpu_pct", 100.0 * (broker1 - broker_cpu_) / wall);
}

}  // namespace load

// idle: how much memory and CPU the broker spends on connections that do nothing but
// heart-beat, and how fast it accepts them (upgrade + CONNECT + SUBSCRIBE + RECEIPT).
#include <algorithm>
#include <chrono>

#include "bench/load/fleet.hpp"
#include "bench/load/process_stats.hpp"
#include "bench/load/scenarios.hpp"
#include "stomp/negotiation.hpp"

namespace load {

namespace {

/// Connects one idle client: heart-beats as negotiated, subscribes, counts RECEIPT as ready.
void open_idle(fleet& f, std::size_t i) {
  auto c = f.make_client();
  c->on_frame = [&f](stomp_client& self, const stomp::frame& fr) {
    if (fr.command == "CONNECTED") {
      const auto mine = stomp::parse_heart_beat(f.opts().heart_beat).value_or(stomp::heart_beat{});
      const auto theirs =
          stomp::parse_heart_beat(fr.get("heart-beat").value_or("0,0")).value_or(stomp::heart_beat{});
      self.start_heartbeat(stomp::negotiate_heart_beat(mine, theirs).send);
      self.send(subscribe_frame(f.opts().destination, "sub"));
    } else if (fr.command == "RECEIPT") {
      f.ready.fetch_add(1);
    } else if (fr.command == "ERROR") {
      f.fail_with_error_frame(fr);
    }
  };
  f.connect(*c, f.opts().name_prefix + "idle" + std::to_string(i), f.opts().heart_beat);
}

}  // namespace

int run_idle(const options& o) {
  results out;
  out.add("scenario", "idle");
  out.add("transport", o.where.websocket ? "ws" : "tcp");
  out.add("connections", static_cast<double>(o.connections));
  out.add("fd_limit", static_cast<double>(raise_fd_limit()));
  fleet f(o);
  const double rss0 = static_cast<double>(rss_bytes(o.broker_pid));
  const double self0 = self_cpu_seconds();
  const double setup = f.ramp(o.connections, [&](std::size_t i) { open_idle(f, i); }, 600);
  if (setup >= 0) {
    out.add("setup_s", setup);
    out.add("conn_per_s", static_cast<double>(o.connections) / std::max(setup, 1e-9));
    out.add("gen_cpu_pct_ramp", 100.0 * (self_cpu_seconds() - self0) / std::max(setup, 1e-9));
    // Let the broker finish the work the ramp queued before the idle reading starts.
    f.sleep_until(wall_seconds() + 2);
    const double t0 = wall_seconds(), broker0 = cpu_seconds(o.broker_pid);
    const double cpu0 = self_cpu_seconds();
    f.sleep_until(t0 + o.hold);
    const double wall = wall_seconds() - t0;
    const double rss1 = static_cast<double>(rss_bytes(o.broker_pid));
    if (o.broker_pid > 0) {
      out.add("broker_rss_before_mb", rss0 / 1048576.0);
      out.add("broker_rss_after_mb", rss1 / 1048576.0);
      out.add("bytes_per_conn", (rss1 - rss0) / static_cast<double>(o.connections));
      out.add("broker_idle_cpu_pct", 100.0 * (cpu_seconds(o.broker_pid) - broker0) / wall);
    }
    out.add("hold_s", wall);
    out.add("gen_cpu_pct", 100.0 * (self_cpu_seconds() - cpu0) / wall);
  }
  f.stop();
  int code = exit_ok;
  if (f.failed()) {
    out.add("error", f.failure().first);
    code = f.failure().second;
  }
  out.add("status", code == exit_ok ? "ok" : "error");
  out.print(o.json);
  return code;
}

}  // namespace load

// fanout, notify and queue: receivers subscribe, publishers send stamped messages for
// --duration seconds, then we drain and check exactly-once delivery: per (publisher, receiver),
// or for a queue's competing consumers per publisher over all of them.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench/load/delivery.hpp"
#include "bench/load/fleet.hpp"
#include "bench/load/process_stats.hpp"
#include "bench/load/scenarios.hpp"
#include "bench/load/storm.hpp"

namespace load {

namespace net = boost::asio;

namespace {

/// What differs between fanout, notify and queue.
struct plan {
  bool fanout = true;               // every message to every receiver, or to one receiver
  bool competing = false;           // queue: one destination, each message to any one receiver
  std::size_t receivers = 0;
  std::vector<std::string> logins;  // per receiver
  std::vector<std::string> subscribe_to;  // per receiver
  std::vector<std::string> send_to;       // notify: per receiver; fanout: one entry
};

/// State shared by every connection of one run. Counters are atomics; per-receiver and
/// per-publisher vectors are touched only on their own connection's strand.
struct run_state {
  const options& opts;
  const plan& p;
  fleet& f;
  std::vector<receiver_state> receivers;
  std::vector<consumer_log> consumers;  // queue: per receiver
  latency_histogram latency;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::size_t> publishers_done{0};
  std::uint64_t window = 0;  // deliveries in flight allowed (see run_traffic)

  std::uint64_t outstanding() const noexcept {
    const std::uint64_t s = sent.load(std::memory_order_relaxed);
    const std::uint64_t want = p.fanout ? s * p.receivers : s;
    return want - std::min(want, delivered.load(std::memory_order_relaxed));
  }
};

/// One publishing connection: paced by a timer on its strand, bounded by the run's window of
/// deliveries in flight so a slow broker shows up as lower throughput, not as a growing queue.
class publisher : public std::enable_shared_from_this<publisher> {
 public:
  publisher(run_state& rs, std::shared_ptr<stomp_client> c, std::uint32_t id)
      : rs_(rs), client_(std::move(c)), id_(id), timer_(client_->executor()), rng_(id + 1) {
    if (!rs_.p.fanout && !rs_.p.competing) per_receiver_.assign(rs_.p.receivers, 0);
  }

  void start(double start, double deadline, double rate) {
    start_ = start;
    deadline_ = deadline;
    rate_ = rate;
    net::post(client_->executor(), [self = shared_from_this()] { self->tick(); });
  }

  std::uint64_t sent() const noexcept { return sent_; }
  /// Messages this publisher sent to receiver r (read after the fleet stopped).
  std::uint64_t sent_to(std::size_t r) const noexcept {
    return rs_.p.fanout || rs_.p.competing ? sent_ : per_receiver_[r];
  }

 private:
  void tick() {
    const double now = wall_seconds();
    if (now >= deadline_) {
      rs_.publishers_done.fetch_add(1);
      return;
    }
    std::uint64_t budget = 256;
    if (rate_ > 0) {
      const double due = (now - start_) * rate_ - static_cast<double>(sent_);
      budget = due <= 0 ? 0 : std::min<std::uint64_t>(static_cast<std::uint64_t>(due), 4096);
    }
    std::uint64_t n = 0;
    while (n < budget && client_->queued() < 64 && rs_.outstanding() < rs_.window) {
      send_one();
      ++n;
    }
    if (rate_ <= 0 && n > 0)
      return net::post(client_->executor(), [self = shared_from_this()] { self->tick(); });
    timer_.expires_after(std::chrono::microseconds(rate_ > 0 ? 1000 : 50));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->tick();
    });
  }

  void send_one() {
    std::size_t target = 0;
    std::uint64_t seq = ++sent_;
    if (!rs_.p.fanout && !rs_.p.competing) {
      target = std::uniform_int_distribution<std::size_t>(0, rs_.p.receivers - 1)(rng_);
      seq = ++per_receiver_[target];
    }
    body_.clear();
    append_body(stamp{id_, seq, now_ns()}, rs_.opts.size, body_);
    std::string frame;
    frame.reserve(body_.size() + 96);
    append_send(rs_.p.send_to[target], body_, frame);
    rs_.sent.fetch_add(1, std::memory_order_relaxed);
    client_->send(std::move(frame));
  }

  run_state& rs_;
  std::shared_ptr<stomp_client> client_;
  std::uint32_t id_;
  net::steady_timer timer_;
  std::minstd_rand rng_;
  double start_ = 0, deadline_ = 0, rate_ = 0;
  std::uint64_t sent_ = 0;
  std::vector<std::uint64_t> per_receiver_;  // notify: seq per target receiver
  std::string body_;
};

void open_receiver(run_state& rs, std::size_t i) {
  auto c = rs.f.make_client();
  c->tag = i;
  c->on_frame = [&rs](stomp_client& self, const stomp::frame& fr) {
    if (fr.command == "MESSAGE") {
      stamp s;
      if (!parse_body(fr.body, s)) {
        ++rs.receivers[self.tag].malformed;
        return;
      }
      rs.latency.record(now_ns() - s.sent_ns);
      if (rs.p.competing) {
        rs.consumers[self.tag].on_message(s);
      } else {
        rs.receivers[self.tag].on_message(s);
      }
      rs.delivered.fetch_add(1, std::memory_order_relaxed);
    } else if (fr.command == "CONNECTED") {
      self.send(subscribe_frame(rs.p.subscribe_to[self.tag], "sub"));
    } else if (fr.command == "RECEIPT") {
      rs.f.ready.fetch_add(1);
    } else if (fr.command == "ERROR") {
      rs.f.fail_with_error_frame(fr);
    }
  };
  rs.f.connect(*c, rs.p.logins[i], "0,0");
}

std::shared_ptr<publisher> open_publisher(run_state& rs, std::uint32_t id) {
  auto c = rs.f.make_client();
  c->on_frame = [&rs](stomp_client&, const stomp::frame& fr) {
    if (fr.command == "CONNECTED") rs.f.ready.fetch_add(1);
    if (fr.command == "ERROR") rs.f.fail_with_error_frame(fr);
  };
  rs.f.connect(*c, rs.opts.name_prefix + "publisher" + std::to_string(id), "0,0");
  return std::make_shared<publisher>(rs, c, id);
}

/// Waits until every expected delivery arrived or nothing arrived for --drain seconds.
void drain(run_state& rs) {
  const std::uint64_t expected = rs.p.fanout ? rs.sent.load() * rs.p.receivers : rs.sent.load();
  std::uint64_t last = rs.delivered.load();
  double last_progress = wall_seconds();
  while (rs.delivered.load() < expected && !rs.f.failed()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const std::uint64_t now = rs.delivered.load();
    if (now != last) {
      last = now;
      last_progress = wall_seconds();
    } else if (wall_seconds() - last_progress > rs.opts.drain) {
      break;
    }
  }
}

int report(run_state& rs, const std::vector<std::shared_ptr<publisher>>& pubs,
           results& out) {
  delivery_report verdict;
  std::vector<std::uint64_t> sent(pubs.size());
  if (rs.p.competing) {
    for (std::size_t i = 0; i < pubs.size(); ++i) sent[i] = pubs[i]->sent();
    verdict.add_competing(rs.consumers, sent);
  }
  for (std::size_t r = 0; r < rs.p.receivers && !rs.p.competing; ++r) {
    for (std::size_t i = 0; i < pubs.size(); ++i) sent[i] = pubs[i]->sent_to(r);
    verdict.add(rs.receivers[r], sent);
  }
  auto us = [&](double q) { return static_cast<double>(rs.latency.percentile(q)) / 1e3; };
  out.add("lat_p50_us", us(0.5));
  out.add("lat_p90_us", us(0.9));
  out.add("lat_p99_us", us(0.99));
  out.add("lat_p999_us", us(0.999));
  out.add("lat_max_us", us(1.0));
  out.add("expected", static_cast<double>(verdict.expected));
  out.add("received", static_cast<double>(verdict.received));
  out.add("lost", static_cast<double>(verdict.lost));
  out.add("duplicates", static_cast<double>(verdict.duplicates));
  out.add("out_of_order", static_cast<double>(verdict.out_of_order));
  out.add("malformed", static_cast<double>(verdict.malformed));
  return verdict.ok() ? exit_ok : exit_violation;
}

int run_traffic(const options& o, const plan& p, const char* name) {
  fleet f(o);
  run_state rs{o, p, f, {}, {}, {}, {}, {}};
  rs.receivers.assign(p.receivers, receiver_state{std::vector<std::uint64_t>(o.publishers, 1)});
  if (p.competing) {
    rs.consumers.assign(p.receivers,
                        consumer_log{std::vector<std::vector<std::uint64_t>>(o.publishers)});
  }
  // A big fan-out still gets a few messages in flight, or the broker would idle between them.
  rs.window = std::max<std::uint64_t>(o.window, p.fanout ? 16 * p.receivers : 16);
  results out;
  out.add("scenario", name);
  out.add("transport", o.where.websocket ? "ws" : "tcp");
  out.add("receivers", static_cast<double>(p.receivers));
  out.add("publishers", static_cast<double>(o.publishers));
  out.add("rate_offered", o.rate);
  out.add("size", static_cast<double>(o.size));
  std::unique_ptr<login_storm> storm;
  if (o.storm > 0) storm = std::make_unique<login_storm>(o);
  const double setup = f.ramp(p.receivers, [&](std::size_t i) { open_receiver(rs, i); }, 300);
  std::vector<std::shared_ptr<publisher>> pubs;
  if (setup >= 0 && f.ramp(o.publishers, [&](std::size_t i) {
        pubs.push_back(open_publisher(rs, static_cast<std::uint32_t>(i)));
      }, 60) >= 0) {
    out.add("setup_conn_per_s", static_cast<double>(p.receivers) / std::max(setup, 1e-9));
    if (storm) {  // publishing starts once the storm runs (warm-up done) and a second into it
      storm->start();
      while (!storm->storming() && !f.failed()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      f.sleep_until(wall_seconds() + 1);
    }
    const double cpu0 = self_cpu_seconds(), broker0 = cpu_seconds(o.broker_pid);
    const double t0 = wall_seconds();
    for (auto& pub : pubs) pub->start(t0, t0 + o.duration, o.rate / static_cast<double>(pubs.size()));
    f.sleep_until(t0 + o.duration);
    const double wall = wall_seconds() - t0;
    const double delivered = static_cast<double>(rs.delivered.load());
    const double cpu1 = self_cpu_seconds(), broker1 = cpu_seconds(o.broker_pid);
    if (storm) storm->stop(&out);
    while (rs.publishers_done.load() < pubs.size() && !f.failed())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    drain(rs);
    out.add("duration_s", wall);
    out.add("sent", static_cast<double>(rs.sent.load()));
    out.add("sent_per_s", static_cast<double>(rs.sent.load()) / wall);
    out.add("delivered_per_s", delivered / wall);
    out.add("gen_cpu_pct", 100.0 * (cpu1 - cpu0) / wall);
    if (o.broker_pid > 0) out.add("broker_cpu_pct", 100.0 * (broker1 - broker0) / wall);
  }
  f.stop();
  int code = report(rs, pubs, out);
  if (f.failed()) {
    out.add("error", f.failure().first);
    code = f.failure().second;
  }
  out.add("status", code == exit_ok ? "ok" : code == exit_violation ? "violation" : "error");
  out.print(o.json);
  return code;
}

std::string replace_user(std::string pattern, const std::string& user) {
  const auto at = pattern.find("{user}");
  if (at != std::string::npos) pattern.replace(at, 6, user);
  return pattern;
}

// --subscribers receivers (logins <prefix><stem><i>) all on --destination: each gets every
// message (fan-out), or each message goes to one of them (`competing`: a queue).
plan one_destination(const options& o, const char* login_stem, bool competing) {
  plan p;
  p.fanout = !competing;
  p.competing = competing;
  p.receivers = o.subscribers;
  for (std::size_t i = 0; i < p.receivers; ++i) {
    p.logins.push_back(o.name_prefix + login_stem + std::to_string(i));
    p.subscribe_to.push_back(o.destination);
  }
  p.send_to.push_back(o.destination);
  return p;
}

}  // namespace

int run_fanout(const options& o) {
  return run_traffic(o, one_destination(o, "subscriber", false), "fanout");
}

int run_queue(const options& o) {
  return run_traffic(o, one_destination(o, "consumer", true), "queue");
}

int run_notify(const options& o) {
  plan p;
  p.fanout = false;
  p.receivers = o.users;
  for (std::size_t i = 0; i < p.receivers; ++i) {
    const std::string user = o.name_prefix + "user" + std::to_string(i);
    p.logins.push_back(user);
    p.subscribe_to.push_back(replace_user(o.user_subscribe, user));
    p.send_to.push_back(replace_user(o.user_send, user));
  }
  return run_traffic(o, p, "notify");
}

}  // namespace load

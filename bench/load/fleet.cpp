// Connection fleet, frame builders and result printing shared by the scenarios.
#include "bench/load/fleet.hpp"

#include <chrono>
#include <cstdio>

#include <boost/asio/executor_work_guard.hpp>

#include "bench/load/process_stats.hpp"

namespace load {

namespace net = boost::asio;

fleet::fleet(const options& o) : opts_(o), ioc_(static_cast<int>(o.threads)) {
  for (unsigned i = 0; i < o.threads; ++i)
    threads_.emplace_back([this] {
      auto guard = net::make_work_guard(ioc_);
      ioc_.run();
    });
}

fleet::~fleet() { stop(); }

std::shared_ptr<stomp_client> fleet::make_client() {
  const target& where =
      opts_.targets.empty() ? opts_.where : opts_.targets[next_target_++ % opts_.targets.size()];
  auto c = std::make_shared<stomp_client>(ioc_, where);
  c->on_fail = [this](stomp_client&, const std::string& what) { fail(what); };
  clients_.push_back(c);
  return c;
}

std::shared_ptr<stomp_client> fleet::make_transient_client() {
  const target& where =
      opts_.targets.empty() ? opts_.where : opts_.targets[next_target_++ % opts_.targets.size()];
  return std::make_shared<stomp_client>(ioc_, where);
}

void fleet::connect(stomp_client& c, const std::string& login, const std::string& heart_beat) {
  const auto host = static_cast<unsigned char>(1 + next_source_++ % 250);
  const net::ip::address_v4 source(net::ip::address_v4::bytes_type{127, 0, 0, host});
  const std::string& who = opts_.login.empty() ? login : opts_.login;
  c.start(source, connect_frame(who, opts_.passcode, heart_beat));
}

void fleet::fail(const std::string& what, exit_code code) {
  std::lock_guard lock(mutex_);
  if (failed_.exchange(true)) return;
  failure_ = {what, code};
}

void fleet::fail_with_error_frame(const stomp::frame& f) {
  std::string what = "ERROR frame from broker: " + std::string(f.get("message").value_or(""));
  if (!f.body.empty()) what += " (" + f.body.substr(0, 200) + ")";
  fail(what, exit_error_frame);
}

std::pair<std::string, exit_code> fleet::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

double fleet::ramp(std::size_t n, const std::function<void(std::size_t)>& open,
                   double timeout_s) {
  const double start = wall_seconds();
  const std::size_t base = ready.load();
  std::size_t last_ready = 0;
  double last_progress = start;
  // False (after recording why) on failure, timeout, or no progress for stall_s seconds.
  auto waiting = [&] {
    const std::size_t now_ready = ready.load() - base;
    const double now = wall_seconds();
    if (now_ready != last_ready) {
      last_ready = now_ready;
      last_progress = now;
    }
    if (failed()) return false;
    if (now - start > timeout_s || now - last_progress > stall_s) {
      fail("ramp stopped: " + std::to_string(now_ready) + " of " + std::to_string(n) +
           " connections ready, none more in the last " +
           std::to_string(static_cast<int>(now - last_progress)) + " s");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    return true;
  };
  for (std::size_t i = 0; i < n; ++i) {
    // Back-pressure on our own ramp: a connect storm would overflow the listen backlog and
    // measure SYN retransmission timers instead of the broker.
    while (i - (ready.load() - base) >= opts_.parallel)
      if (!waiting()) return -1;
    open(i);
  }
  while (ready.load() - base < n)
    if (!waiting()) return -1;
  return wall_seconds() - start;
}

bool fleet::sleep_until(double t) const {
  while (wall_seconds() < t) {
    if (failed()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return !failed();
}

void fleet::stop() {
  if (threads_.empty()) return;
  for (auto& c : clients_) c->close();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

std::string connect_frame(const std::string& login, const std::string& passcode,
                          const std::string& heart_beat) {
  std::string f = "CONNECT\naccept-version:1.2\nhost:/\nlogin:" + login + "\npasscode:" +
                  passcode + "\nheart-beat:" + heart_beat + "\n\n";
  f.push_back('\0');
  return f;
}

std::string subscribe_frame(const std::string& destination, const std::string& receipt) {
  std::string f = "SUBSCRIBE\nid:0\nack:auto\ndestination:" + destination + "\nreceipt:" +
                  receipt + "\n\n";
  f.push_back('\0');
  return f;
}

void append_send(const std::string& destination, std::string_view body, std::string& out) {
  out += "SEND\ndestination:";
  out += destination;
  out += "\ncontent-length:";
  out += std::to_string(body.size());
  out += "\n\n";
  out += body;
  out.push_back('\0');
}

void results::add(std::string key, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  items_.emplace_back(std::move(key), buf);
}

void results::add(std::string key, std::string value) {
  std::string quoted = "\"";
  for (char ch : value) {
    if (ch == '"' || ch == '\\') quoted.push_back('\\');
    quoted.push_back(static_cast<unsigned char>(ch) < 0x20 ? ' ' : ch);
  }
  quoted.push_back('"');
  items_.emplace_back(std::move(key), std::move(quoted));
}

void results::print(bool json) const {
  if (!json) {
    for (const auto& [k, v] : items_) std::printf("%-24s %s\n", (k + ":").c_str(), v.c_str());
    return;
  }
  std::string line = "{";
  for (const auto& [k, v] : items_) {
    if (line.size() > 1) line += ",";
    line += "\"" + k + "\":" + v;
  }
  std::printf("%s}\n", line.c_str());
}

}  // namespace load

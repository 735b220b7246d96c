#include "fake_connection.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "stomp/parser.hpp"
#include "stomp/serializer.hpp"

namespace broker_test {

void post_queue::push(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  fns_.push_back(std::move(fn));
}

std::size_t post_queue::drain() { return drain(static_cast<std::size_t>(-1)); }

std::size_t post_queue::drain(std::size_t max) {
  std::size_t ran = 0;
  while (ran < max) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mutex_);
      if (fns_.empty()) return ran;
      fn = std::move(fns_.front());
      fns_.pop_front();
    }
    fn();
    ++ran;
  }
  return ran;
}

fake_connection::fake_connection(post_queue& q, broker::peer_info peer)
    : queue_(q), peer_(std::move(peer)) {}

void fake_connection::post(std::function<void()> fn) {
  queue_.push([self = weak_from_this(), fn = std::move(fn)] {
    if (auto c = self.lock(); c && !c->closed()) fn();
  });
}

void fake_connection::send(broker::outgoing frame) {
  if (on_send) on_send(frame);
  const std::uint64_t mark = frame.written_mark;
  {
    std::lock_guard lock(mutex_);
    sent_.push_back(std::move(frame));
    if (mark != 0 && hold_writes_) {
      held_marks_.push_back(mark);
      return;
    }
  }
  if (mark != 0) report_written(mark);
}

void fake_connection::report_written(std::uint64_t mark) {
  queue_.push([self = weak_from_this(), mark] {
    auto c = self.lock();
    if (!c || c->ended) return;
    if (auto s = c->writer_of.lock()) s->on_written(mark);
  });
}

void fake_connection::hold_writes(bool hold) {
  std::lock_guard lock(mutex_);
  hold_writes_ = hold;
}

void fake_connection::write_held() {
  std::vector<std::uint64_t> marks;
  {
    std::lock_guard lock(mutex_);
    marks.swap(held_marks_);
  }
  for (std::uint64_t mark : marks) report_written(mark);
}

void fake_connection::close(broker::close_reason why) {
  std::lock_guard lock(mutex_);
  closes_.push_back(why);
}

void fake_connection::connected(std::chrono::milliseconds send_every,
                                std::chrono::milliseconds expect_within) {
  std::lock_guard lock(mutex_);
  heart_beats_.emplace(send_every, expect_within);
}

std::vector<broker::outgoing> fake_connection::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

std::vector<broker::close_reason> fake_connection::closes() const {
  std::lock_guard lock(mutex_);
  return closes_;
}

std::optional<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>>
fake_connection::heart_beats() const {
  std::lock_guard lock(mutex_);
  return heart_beats_;
}

void fake_connection::pause_reading() {
  std::lock_guard lock(mutex_);
  ++paused_;
  ++pauses_;
}

void fake_connection::resume_reading() {
  std::lock_guard lock(mutex_);
  if (paused_ > 0) --paused_;
}

int fake_connection::paused() const {
  std::lock_guard lock(mutex_);
  return paused_;
}

int fake_connection::pauses() const {
  std::lock_guard lock(mutex_);
  return pauses_;
}

bool fake_connection::closed() const {
  std::lock_guard lock(mutex_);
  return !closes_.empty();
}

stomp::frame make(std::string command,
                  std::initializer_list<std::pair<std::string, std::string>> headers,
                  std::string body) {
  stomp::frame f;
  f.command = std::move(command);
  for (const auto& [name, value] : headers) f.add(name, value);
  f.body = std::move(body);
  return f;
}

stomp::frame parse(const broker::outgoing& out, stomp::version v) {
  stomp::limits big;
  big.max_frame = big.max_body = 64 * 1024 * 1024;
  stomp::parser p(big);
  p.set_version(v);
  std::string bytes = out.head + (out.tail ? *out.tail : std::string());
  std::string_view in = bytes;
  stomp::frame f;
  EXPECT_EQ(p.feed(in, f), stomp::parse_status::frame) << bytes;
  EXPECT_TRUE(in.empty()) << "more than one frame in one outgoing element: " << bytes;
  return f;
}

client::client(broker::broker& b, post_queue& q, broker::peer_info peer)
    : conn(std::make_shared<fake_connection>(q, std::move(peer))),
      session(b.open_session(conn)),
      queue_(q) {
  conn->writer_of = session;
}

void client::raw(std::string_view bytes) {
  session->on_bytes(bytes);
  notice_close();
}

void client::send(const stomp::frame& f) { raw(stomp::serialize(f, version)); }

stomp::frame client::connect(std::string versions,
                             std::initializer_list<std::pair<std::string, std::string>> extra) {
  stomp::frame f = make("CONNECT", extra);
  if (!versions.empty()) f.add("accept-version", versions);
  send(f);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (conn->sent().size() <= seen_ && std::chrono::steady_clock::now() < give_up) {
    if (queue_.drain() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  notice_close();
  stomp::frame reply = take_one();
  if (auto v = reply.get("version"); v && reply.command == "CONNECTED") {
    version = *v == "1.0"   ? stomp::version::v1_0
              : *v == "1.1" ? stomp::version::v1_1
                            : stomp::version::v1_2;
  }
  return reply;
}

std::vector<stomp::frame> client::take() {
  std::vector<broker::outgoing> all = conn->sent();
  std::vector<stomp::frame> out;
  for (std::size_t i = seen_; i < all.size(); ++i) out.push_back(parse(all[i], version));
  seen_ = all.size();
  return out;
}

std::vector<stomp::frame> client::take(std::string_view command) {
  std::vector<stomp::frame> out;
  for (stomp::frame& f : take()) {
    if (f.command == command) out.push_back(std::move(f));
  }
  return out;
}

stomp::frame client::take_one() {
  std::vector<stomp::frame> frames = take();
  EXPECT_EQ(frames.size(), 1u);
  return frames.empty() ? stomp::frame{} : frames.front();
}

// What the transport does: once the session closed the connection, report it closed (once).
void client::notice_close() {
  std::vector<broker::close_reason> closes = conn->closes();
  if (!closes.empty() && !closed_notified_) {
    closed_notified_ = true;
    conn->ended = true;
    session->on_closed(closes.front());
  }
}

}  // namespace broker_test

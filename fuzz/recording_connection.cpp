#include "recording_connection.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "stomp/parser.hpp"

namespace fuzz {
namespace {

[[noreturn]] void broken(const char* rule, std::string_view bytes) {
  std::fprintf(stderr, "recording_connection: %s\n--- frame (%zu bytes) ---\n%.*s\n---\n", rule,
               bytes.size(), static_cast<int>(bytes.size() > 512 ? 512 : bytes.size()),
               bytes.data());
  std::abort();
}

}  // namespace

void post_queue::push(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  fns_.push_back(std::move(fn));
}

void post_queue::drain() {
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mutex_);
      if (fns_.empty()) return;
      fn = std::move(fns_.front());
      fns_.pop_front();
    }
    fn();
  }
}

recording_connection::recording_connection(post_queue& q) : queue_(q) {}

void recording_connection::post(std::function<void()> fn) {
  queue_.push([self = weak_from_this(), fn = std::move(fn)] {
    auto c = self.lock();
    if (!c) return;
    {
      std::lock_guard lock(c->mutex_);
      if (c->finished_) return;
    }
    fn();
  });
}

void recording_connection::send(broker::outgoing frame) {
  const std::string bytes = frame.head + (frame.tail ? *frame.tail : std::string());
  std::lock_guard lock(mutex_);
  if (error_sent_) broken("a frame written after an ERROR frame", bytes);
  if (closed_) broken("a frame written after close()", bytes);
  check_one_frame(bytes);
  ++frames_;
}

// Every outgoing element must be one whole frame: the transport writes it as one WebSocket
// message, and a STOMP client parses it with the version CONNECTED announced.
void recording_connection::check_one_frame(const std::string& bytes) {
  stomp::limits roomy;
  roomy.max_frame = roomy.max_body = roomy.max_header_line = bytes.size() + 1;
  roomy.max_headers = bytes.size() + 1;
  stomp::parser p(roomy);
  p.set_version(version_);
  std::string_view in = bytes;
  stomp::frame f;
  if (p.feed(in, f) != stomp::parse_status::frame) broken("an outgoing element is not a frame", bytes);
  if (!in.empty()) broken("an outgoing element holds more than one frame", bytes);
  if (f.command == "ERROR") error_sent_ = true;
  if (f.command == "CONNECTED") {
    const auto v = f.get("version").value_or("1.0");
    version_ = v == "1.2" ? stomp::version::v1_2
               : v == "1.1" ? stomp::version::v1_1 : stomp::version::v1_0;
  }
}

void recording_connection::close(broker::close_reason why) {
  std::lock_guard lock(mutex_);
  if (!closed_) closed_ = why;
}

void recording_connection::connected(std::chrono::milliseconds, std::chrono::milliseconds) {}

std::optional<broker::close_reason> recording_connection::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

bool recording_connection::error_sent() const {
  std::lock_guard lock(mutex_);
  return error_sent_;
}

std::size_t recording_connection::frames() const {
  std::lock_guard lock(mutex_);
  return frames_;
}

void recording_connection::finish() {
  std::lock_guard lock(mutex_);
  finished_ = true;
}

}  // namespace fuzz

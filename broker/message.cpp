#include "broker/message.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

#include "broker/error.hpp"
#include "stomp/parser.hpp"

namespace broker {
namespace {

// Headers the broker owns on a MESSAGE, or that only mean something on the SEND.
bool dropped_from_send(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 8> names = {
      "destination", "message-id",  "subscription", "ack",
      "redelivered", "receipt",     "transaction",  "content-length"};
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

std::error_code parse_expires(const stomp::frame& send,
                              std::optional<std::chrono::system_clock::time_point>& out) {
  const auto value = send.get("expires");
  if (!value) return {};
  std::int64_t ms = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, ms);
  if (ec != std::errc{} || ptr != end || ms < 0) return error::invalid_expires;
  if (ms != 0) out = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  return {};
}

}  // namespace

void stamp_sender(stomp::frame& send, std::string_view header, std::string_view sender) {
  send.erase(header);
  if (!sender.empty()) send.add(std::string(header), std::string(sender));
}

bool valid_sender_header(std::string_view header) noexcept {
  if (header.empty() || dropped_from_send(header) || header == "expires") return false;
  // Sent unescaped as far as the names go: keep to characters that never need escaping.
  return std::all_of(header.begin(), header.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
  });
}

std::error_code make_message(stomp::frame send, destination target, std::string id,
                             message_ptr& out) {
  auto m = std::make_shared<message>();
  if (auto ec = parse_expires(send, m->expires)) return ec;
  stomp::frame common;
  common.command = "MESSAGE";
  common.headers.reserve(send.headers.size() + 2);
  common.add("destination", target.name);
  common.add("message-id", id);
  for (stomp::header& h : send.headers) {
    if (!dropped_from_send(h.name)) common.headers.push_back(std::move(h));
  }
  common.body = std::move(send.body);
  m->id = std::move(id);
  m->target = std::move(target);
  m->wire = std::make_shared<const stomp::shared_message>(std::move(common));
  out = std::move(m);
  return {};
}

std::size_t held_size(const stomp::frame& f) noexcept {
  std::size_t n = held_overhead + f.command.size() + f.body.size();
  for (const stomp::header& h : f.headers) n += h.name.size() + h.value.size();
  return n;
}

std::size_t held_size(const message& m) noexcept {
  return m.wire ? held_size(m.wire->common()) : held_overhead;
}

message_ptr redelivered_copy(const message_ptr& m) {
  if (m->redelivered) return m;
  auto copy = std::make_shared<message>(*m);
  stomp::frame common = m->wire->common();
  // Right after message-id, so broker headers stay together at the front.
  common.headers.insert(common.headers.begin() + 2, stomp::header{"redelivered", "true"});
  copy->wire = std::make_shared<const stomp::shared_message>(std::move(common));
  copy->redelivered = true;
  return copy;
}

message_ptr with_position(const message_ptr& m, std::string_view position) {
  auto copy = std::make_shared<message>(*m);
  stomp::frame common = m->wire->common();
  // The broker owns x-position on a topic with history: a sender's would mislead recovery.
  std::erase_if(common.headers, [](const stomp::header& h) { return h.name == "x-position"; });
  common.headers.insert(common.headers.begin() + 2,
                        stomp::header{"x-position", std::string(position)});
  copy->wire = std::make_shared<const stomp::shared_message>(std::move(common));
  return copy;
}

std::string stored_form(const message_ptr& m) {
  return stomp::serialize(m->wire->common(), stomp::version::v1_2);
}

bool restore_message(std::string_view payload, destination target, message_ptr& out) {
  stomp::limits any;  // stored by us, so never over the limits it was accepted under
  any.max_frame = any.max_body = payload.size() + 1;
  any.max_header_line = payload.size() + 1;
  any.max_headers = payload.size() + 1;
  stomp::parser p(any);
  p.set_version(stomp::version::v1_2);
  stomp::frame f;
  if (p.feed(payload, f) != stomp::parse_status::frame || !payload.empty()) return false;
  const auto id = f.get("message-id");
  if (f.command != "MESSAGE" || !id) return false;
  auto m = std::make_shared<message>();
  m->id = std::string(*id);
  if (parse_expires(f, m->expires)) return false;
  m->redelivered = f.get("redelivered") == "true";
  m->target = std::move(target);
  m->wire = std::make_shared<const stomp::shared_message>(std::move(f));
  out = std::move(m);
  return true;
}

std::int64_t expires_ms(const message_ptr& m) noexcept {
  if (!m->expires) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(m->expires->time_since_epoch())
      .count();
}

outgoing encode(const message_ptr& m, std::string_view subscription, std::string_view ack,
                stomp::version v) {
  outgoing out;
  stomp::message_head(subscription, ack, v, out.head);
  const std::string& tail = m->wire->tail(v);
  // Aliasing constructor: the tail lives as long as the shared message it belongs to.
  out.tail = std::shared_ptr<const std::string>(m->wire, &tail);
  out.text = m->wire->tail_is_utf8(v) && stomp::is_valid_utf8(out.head);
  // Live-only messages may be dropped for a slow consumer; queued and durable ones may not.
  out.droppable = m->target.kind == destination_kind::topic ||
                  m->target.kind == destination_kind::user_topic;
  return out;
}

}  // namespace broker

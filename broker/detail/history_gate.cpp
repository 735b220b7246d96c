// Topic history and recovery (x-position, x-recover-from): see docs/recovery.md for the client
// side. The ordering argument is in history_gate.hpp; what a wildcard recovery delivers is
// decided in read_pattern.
#include "broker/detail/history_gate.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace broker::detail {
namespace {

bool parse_topic(std::string_view raw, std::string& name) {
  destination d;
  if (parse_destination(raw, d) || d.kind != destination_kind::topic || d.wildcard) return false;
  name = std::move(d.name);
  return true;
}

}  // namespace

bool parse_recover_from(std::string_view value, recover_request& out) {
  out = {};
  // Empty: a wildcard subscriber that has seen no message yet (an empty list).
  if (!value.empty() && value.find('=') == std::string_view::npos) {
    history_position p;
    if (!parse_position(value, p)) return false;
    out.positions.emplace_back(std::string(), std::move(p));
    return true;
  }
  out.listed = true;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (item.empty()) continue;  // "a=e:1," from a client joining with a trailing comma
    const auto eq = item.find('=');
    std::string name;
    history_position p;
    if (eq == std::string_view::npos || !parse_topic(item.substr(0, eq), name) ||
        !parse_position(item.substr(eq + 1), p)) {
      return false;
    }
    out.positions.emplace_back(std::move(name), std::move(p));
  }
  return true;
}

history_gate::history_gate(std::shared_ptr<history> h, registry& reg)
    : history_(std::move(h)), reg_(reg) {}

bool history_gate::keeps(const destination& d) const {
  return history_ && d.kind == destination_kind::topic && !d.wildcard && history_->keeps(d.name);
}

std::mutex& history_gate::stripe(const std::string& name) {
  return stripes_[std::hash<std::string>{}(name) % stripes_.size()];
}

// The offset is taken, the message kept and its posts queued on every subscriber's strand
// before the next message of the topic gets its offset: strands run posts in order, so each
// subscriber sees the offsets of a topic in increasing order, and a recovering subscription
// (registered under the same lock) sees each of them either in its history read or live.
void history_gate::route(const message_ptr& m, std::chrono::system_clock::time_point now) {
  const std::string& name = m->target.name;
  std::shared_lock all(gate_);
  std::lock_guard one(stripe(name));
  const std::uint64_t offset = history_->next_offset(name);
  message_ptr stamped = with_position(m, format_position(history_->epoch(), offset));
  history_->append(name, offset, stamped, now);
  reg_.route(stamped);
}

recovery history_gate::subscribe(const subscriber& who, const destination& d,
                                 const recover_request& from,
                                 std::chrono::system_clock::time_point now,
                                 std::uint64_t& handle) {
  std::shared_ptr<queue> unused;  // topics have none
  if (d.wildcard) {
    std::unique_lock all(gate_);
    handle = reg_.subscribe(who, d, true, 0, unused);
    return read_pattern(d, from, now);
  }
  std::shared_lock all(gate_);
  std::lock_guard one(stripe(d.name));
  handle = reg_.subscribe(who, d, true, 0, unused);
  return read_one(d, from, now);
}

recovery history_gate::read_one(const destination& d, const recover_request& from,
                                std::chrono::system_clock::time_point now) {
  if (!keeps(d)) return {};
  const auto it = std::find_if(from.positions.begin(), from.positions.end(), [&](const auto& p) {
    return !from.listed || p.first == d.name;
  });
  if (it == from.positions.end() || it->second.epoch != history_->epoch()) return {};
  history_read r = history_->read_after(d.name, it->second.offset, now);
  if (!r.complete) return {};
  recovery out;
  out.recovered = true;
  for (kept_message& k : r.messages) out.messages.push_back(std::move(k.msg));
  return out;
}

// A wildcard subscription recovers per concrete topic. A topic the list names recovers after
// its offset, as a plain subscription does; any that cannot (another epoch, no history there,
// history no longer reaching back) makes the whole recovery incomplete. A matching topic with
// history that the list does not name is one the client never received a message of: it gets
// what was kept of it from the moment of the newest message the list names (the client was in
// step then); when none of the named messages is still kept, that moment is unknown and the
// recovery is incomplete if such a topic has any message. Incomplete: nothing from history.
// Messages of several topics come in the order they were kept.
recovery history_gate::read_pattern(const destination& d, const recover_request& from,
                                    std::chrono::system_clock::time_point now) {
  if (!history_) return {};
  const topic_matcher pattern(d.path());
  std::vector<kept_message> all;
  std::set<std::string> named;
  std::optional<std::chrono::system_clock::time_point> in_step;
  for (const auto& [name, pos] : from.positions) {
    destination topic;
    if (parse_destination(name, topic) || !pattern.matches(topic.path())) continue;  // not ours
    if (!keeps(topic) || pos.epoch != history_->epoch()) return {};
    history_read r = history_->read_after(name, pos.offset, now);
    if (!r.complete) return {};
    if (r.seen_at && (!in_step || *r.seen_at > *in_step)) in_step = r.seen_at;
    named.insert(name);
    std::move(r.messages.begin(), r.messages.end(), std::back_inserter(all));
  }
  for (const std::string& name : history_->topics_matching(pattern)) {
    if (named.contains(name)) continue;
    history_read r = history_->read_after(name, 0, now);
    if (r.messages.empty()) continue;
    if (!in_step) return {};
    for (kept_message& k : r.messages) {
      if (k.appended >= *in_step) all.push_back(std::move(k));
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const kept_message& a, const kept_message& b) {
                     return a.appended < b.appended;
                   });
  recovery out;
  out.recovered = true;
  for (kept_message& k : all) out.messages.push_back(std::move(k.msg));
  return out;
}

}  // namespace broker::detail

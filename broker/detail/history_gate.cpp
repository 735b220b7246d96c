// Topic history and recovery (x-position, x-recover-from): see docs/recovery.md for the client
// side. The ordering argument is in history_gate.hpp; what a wildcard recovery delivers is
// decided in read_pattern.
#include "broker/detail/history_gate.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>

namespace broker::detail {
namespace {

bool parse_topic(std::string_view raw, std::string& name) {
  destination d;
  if (parse_destination(raw, d) || d.kind != destination_kind::topic || d.wildcard) return false;
  name = std::move(d.name);
  return true;
}

// One concrete topic's read in a wildcard recovery; `named`: the client's list names it.
struct topic_read {
  std::string name;
  bool named = false;
  history_read read;
};

// A wildcard subscription recovers per concrete topic. A topic the list names recovers after
// its offset, as a plain subscription does; any that cannot (another epoch, no history there,
// history no longer reaching back) makes the whole recovery incomplete. A matching topic with
// history that the list does not name is one the client never received a message of: it gets
// what was kept of it from the moment of the newest message the list names (the client was in
// step then); when none of the named messages is still kept, that moment is unknown and the
// recovery is incomplete if such a topic has any message. Incomplete: nothing from history.
// Messages of several topics come in the order they were kept.
recovery combine_pattern(std::vector<topic_read>& reads) {
  std::vector<kept_message> all;
  std::optional<std::chrono::system_clock::time_point> in_step;
  for (topic_read& t : reads) {
    if (!t.named) continue;
    if (!t.read.complete) return {};
    if (t.read.seen_at && (!in_step || *t.read.seen_at > *in_step)) in_step = t.read.seen_at;
    std::move(t.read.messages.begin(), t.read.messages.end(), std::back_inserter(all));
  }
  for (topic_read& t : reads) {
    if (t.named || t.read.messages.empty()) continue;
    if (!in_step) return {};
    for (kept_message& k : t.read.messages) {
      if (k.appended >= *in_step) all.push_back(std::move(k));
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const kept_message& a, const kept_message& b) {
    return a.appended < b.appended;
  });
  recovery out;
  out.recovered = true;
  for (kept_message& k : all) out.messages.push_back(std::move(k.msg));
  return out;
}

bool position_of(const message_ptr& m, history_position& out) {
  const auto value = m->wire->common().get("x-position");
  return value && parse_position(*value, out);
}

}  // namespace

std::vector<message_ptr> live_after_recovery(const recover_request& from,
                                             const std::vector<message_ptr>& recovered,
                                             const std::vector<message_ptr>& held) {
  // A plain x-recover-from names the subscription's one topic: keyed "" for every message.
  const auto key = [&from](const message_ptr& m) {
    return from.listed ? m->target.name : std::string();
  };
  std::map<std::string, history_position> last;  // per topic: the newest the client has
  for (const auto& [name, pos] : from.positions) last[name] = pos;
  history_position p;
  for (const message_ptr& m : recovered) {
    if (position_of(m, p)) last[key(m)] = p;
  }
  std::vector<message_ptr> out;
  for (const message_ptr& m : held) {
    if (!position_of(m, p)) continue;
    auto [it, first] = last.try_emplace(key(m), p);
    if (!first) {
      if (p.epoch != it->second.epoch || p.offset <= it->second.offset) continue;  // had it
      it->second = p;
    }
    out.push_back(m);
  }
  return out;
}

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
  const history_position at = history_->next_position(name);
  message_ptr stamped = with_position(m, format_position(at.epoch, at.offset));
  history_->append(name, at, stamped, now);
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

void history_gate::purge(std::chrono::system_clock::time_point now) {
  if (!history_) return;
  std::unique_lock all(gate_);  // no topic step may see its ring go between its calls
  history_->purge(now);
}

recovery history_gate::read_one(const destination& d, const recover_request& from,
                                std::chrono::system_clock::time_point now) {
  if (!keeps(d)) return {};
  const auto it = std::find_if(from.positions.begin(), from.positions.end(), [&](const auto& p) {
    return !from.listed || p.first == d.name;
  });
  if (it == from.positions.end()) return {};
  history_read r = history_->read_after(d.name, it->second, now);
  if (!r.complete) return {};
  recovery out;
  out.recovered = true;
  for (kept_message& k : r.messages) out.messages.push_back(std::move(k.msg));
  return out;
}

// The rule is combine_pattern's; here the reads.
recovery history_gate::read_pattern(const destination& d, const recover_request& from,
                                    std::chrono::system_clock::time_point now) {
  if (!history_) return {};
  const topic_matcher pattern(d.path());
  std::vector<topic_read> reads;
  std::set<std::string> named;
  for (const auto& [name, pos] : from.positions) {
    destination topic;
    if (parse_destination(name, topic) || !pattern.matches(topic.path())) continue;  // not ours
    if (!keeps(topic)) return {};
    reads.push_back({name, true, history_->read_after(name, pos, now)});
    named.insert(name);
  }
  for (const std::string& name : history_->topics_matching(pattern)) {
    if (named.contains(name)) continue;
    reads.push_back({name, false, history_->read_after(name, history_position{}, now)});  // all
  }
  return combine_pattern(reads);
}

void history_gate::route_shared(const message_ptr& m, std::function<void(std::error_code)> done) {
  history_->append_shared(m, std::move(done));
}

void history_gate::subscribe_shared(const subscriber& who, const destination& d,
                                    const recover_request& from,
                                    std::chrono::system_clock::time_point now,
                                    std::uint64_t& handle, std::function<void(recovery)> done) {
  std::shared_ptr<queue> unused;  // topics have none
  // Registered first: the registry tells the cluster link, which subscribes on Redis before
  // the history answers the read (history::read_after_async).
  handle = reg_.subscribe(who, d, true, 0, unused);
  if (d.wildcard) return read_pattern_async(d, from, now, std::move(done));
  read_one_async(d, from, now, std::move(done));
}

void history_gate::read_one_async(const destination& d, const recover_request& from,
                                  std::chrono::system_clock::time_point now,
                                  std::function<void(recovery)> done) {
  if (!keeps(d)) return done({});
  const auto it = std::find_if(from.positions.begin(), from.positions.end(), [&](const auto& p) {
    return !from.listed || p.first == d.name;
  });
  if (it == from.positions.end()) return done({});
  history_->read_after_async(d.name, it->second, now, [done = std::move(done)](history_read r) {
    if (!r.complete) return done({});
    recovery out;
    out.recovered = true;
    for (kept_message& k : r.messages) out.messages.push_back(std::move(k.msg));
    done(std::move(out));
  });
}

// The named topics and the matching ones the history knows, each read asynchronously; the
// last answer decides (combine_pattern).
void history_gate::read_pattern_async(const destination& d, const recover_request& from,
                                      std::chrono::system_clock::time_point now,
                                      std::function<void(recovery)> done) {
  const topic_matcher pattern(d.path());
  auto reads = std::make_shared<std::vector<topic_read>>();
  auto positions = std::make_shared<std::vector<history_position>>();
  for (const auto& [name, pos] : from.positions) {
    destination topic;
    if (parse_destination(name, topic) || !pattern.matches(topic.path())) continue;  // not ours
    if (!keeps(topic)) return done({});
    reads->push_back({name, true, {}});
    positions->push_back(pos);
  }
  history_->topics_matching_async(pattern, [h = history_, reads, positions, now,
                                            done = std::move(done)](std::vector<std::string> names) {
    for (std::string& name : names) {
      const bool named = std::any_of(reads->begin(), reads->end(),
                                     [&](const topic_read& t) { return t.named && t.name == name; });
      if (named) continue;
      reads->push_back({std::move(name), false, {}});
      positions->push_back({});  // all kept
    }
    if (reads->empty()) return done(combine_pattern(*reads));
    auto left = std::make_shared<std::atomic<std::size_t>>(reads->size());
    for (std::size_t i = 0; i < reads->size(); ++i) {
      h->read_after_async((*reads)[i].name, (*positions)[i], now,
                          [reads, left, i, done](history_read r) {
                            (*reads)[i].read = std::move(r);
                            if (left->fetch_sub(1, std::memory_order_acq_rel) == 1) {
                              done(combine_pattern(*reads));
                            }
                          });
    }
  });
}

}  // namespace broker::detail

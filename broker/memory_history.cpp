#include "broker/memory_history.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>

#include "broker/error.hpp"

namespace broker {
namespace {

constexpr std::string_view topic_prefix = "/topic/";

// A restart of an in-memory history starts offsets again at 1: a new epoch tells clients that
// their positions mean nothing here any more.
std::string random_epoch() {
  std::random_device rd;
  char hex[9] = {};
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(rd()));
  return hex;
}

}  // namespace

bool parse_position(std::string_view text, history_position& out) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  const std::string_view digits = text.substr(colon + 1);
  std::uint64_t offset = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return false;
  out.epoch = std::string(text.substr(0, colon));
  out.offset = offset;
  return true;
}

std::string format_position(std::string_view epoch, std::uint64_t offset) {
  std::string s(epoch);
  s += ':';
  s += std::to_string(offset);
  return s;
}

// The history port's default for what only a shared history does: nothing is kept.
void history::append_shared(const message_ptr&, std::function<void(std::error_code)> done) {
  done(make_error_code(error::message_not_stored));
}

memory_history::memory_history(std::vector<history_rule> rules,
                               std::shared_ptr<byte_budget> held, std::string epoch)
    : rules_([&rules] {
        std::vector<rule_entry> out;
        out.reserve(rules.size());
        for (history_rule& r : rules) {
          std::string_view path(r.pattern);
          if (path.starts_with(topic_prefix)) path.remove_prefix(topic_prefix.size());
          topic_matcher m(path);
          out.push_back(rule_entry{std::move(r), std::move(m)});
        }
        return out;
      }()),
      held_(std::move(held)),
      epoch_(epoch.empty() ? random_epoch() : std::move(epoch)) {}

const history_rule* memory_history::rule_for(std::string_view name) const {
  if (!name.starts_with(topic_prefix)) return nullptr;
  const std::string_view path = name.substr(topic_prefix.size());
  for (const rule_entry& r : rules_) {
    if (r.matcher.matches(path)) return &r.rule;
  }
  return nullptr;
}

bool memory_history::keeps(std::string_view name) const {
  return !rules_.empty() && rule_for(name) != nullptr;
}

// Null for a topic no rule keeps.
memory_history::ring* memory_history::find_or_add_locked(const std::string& name) {
  auto it = topics_.find(name);
  if (it != topics_.end()) return &it->second;
  const history_rule* rule = rule_for(name);
  if (!rule) return nullptr;
  ring& r = topics_[name];
  r.rule = rule;
  r.epoch = purges_ == 0 ? epoch_ : epoch_ + "." + std::to_string(purges_);
  // Accepted even past the budget, as a message already accepted: the ring's own messages are
  // what give way (charge_locked), and purge ends this charge with them.
  if (held_) r.own = held_bytes(*held_, topic_overhead + name.size());
  return &r;
}

history_position memory_history::next_position(const std::string& name) {
  std::lock_guard lock(mutex_);
  const ring* r = find_or_add_locked(name);
  if (!r) return {};
  return {r->epoch, r->last + 1};
}

// Oldest first: past max_messages, or older than max_age.
void memory_history::trim_locked(ring& r, std::chrono::system_clock::time_point now) {
  const auto max_age = r.rule->max_age;
  while (!r.entries.empty() &&
         (r.entries.size() > r.rule->max_messages ||
          (max_age.count() > 0 && r.entries.front().kept.appended + max_age <= now))) {
    r.entries.pop_front();
    --kept_;
  }
}

// The server budget is shared with queues and publishers: history gives way first, dropping
// its own oldest messages of this topic to make room rather than growing past it.
bool memory_history::charge_locked(ring& r, std::size_t bytes, std::optional<held_bytes>& out) {
  if (!held_) {
    out.emplace();
    return true;
  }
  while (!(out = held_bytes::try_hold(*held_, bytes))) {
    if (r.entries.empty()) return false;
    r.entries.pop_front();
    --kept_;
  }
  return true;
}

void memory_history::append(const std::string& name, const history_position& at, message_ptr m,
                            std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  ring* found = find_or_add_locked(name);
  if (!found || found->epoch != at.epoch) return;  // not next_position's: never under the gate
  ring& r = *found;
  const std::uint64_t offset = at.offset;
  r.last = offset;
  // Never backwards within a topic, so the append times keep offset order.
  if (!r.entries.empty()) now = std::max(now, r.entries.back().kept.appended);
  std::optional<held_bytes> charged;
  if (!charge_locked(r, held_size(*m), charged)) return;  // none kept: a later read is incomplete
  r.entries.push_back(entry{kept_message{offset, now, std::move(m)}, std::move(*charged)});
  ++kept_;
  trim_locked(r, now);
}

history_read memory_history::read_after(const std::string& name, const history_position& from,
                                        std::chrono::system_clock::time_point now) {
  history_read out;
  const std::uint64_t offset = from.offset;
  std::lock_guard lock(mutex_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    out.complete = offset == 0;  // nothing kept, and the client saw nothing either
    return out;
  }
  ring& r = it->second;
  if (!from.epoch.empty() && from.epoch != r.epoch) return out;  // offsets of another history
  trim_locked(r, now);
  const std::uint64_t first = r.entries.empty() ? r.last + 1 : r.entries.front().kept.offset;
  out.complete = offset <= r.last && first <= offset + 1;
  for (const entry& e : r.entries) {
    if (e.kept.offset == offset) out.seen_at = e.kept.appended;
    if (e.kept.offset > offset) out.messages.push_back(e.kept);
  }
  return out;
}

std::vector<std::string> memory_history::topics_matching(const topic_matcher& pattern) {
  std::vector<std::string> out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, r] : topics_) {
    if (pattern.matches(std::string_view(name).substr(topic_prefix.size()))) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void memory_history::purge(std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  const std::size_t before = topics_.size();
  for (auto it = topics_.begin(); it != topics_.end();) {
    trim_locked(it->second, now);
    it = it->second.entries.empty() ? topics_.erase(it) : std::next(it);
  }
  if (topics_.size() != before) ++purges_;
}

std::size_t memory_history::topics() const {
  std::lock_guard lock(mutex_);
  return topics_.size();
}

std::size_t memory_history::kept() const {
  std::lock_guard lock(mutex_);
  return kept_;
}

}  // namespace broker

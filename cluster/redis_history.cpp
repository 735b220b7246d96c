#include "cluster/redis_history.hpp"

#include <cstdio>
#include <functional>
#include <random>

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "broker/destination.hpp"
#include "broker/error.hpp"
#include "broker/printable.hpp"
#include "cluster/channels.hpp"
#include "cluster/envelope.hpp"
#include "cluster/redis_link.hpp"

namespace cluster {
namespace {

constexpr std::string_view topic_prefix = "/topic/";

// One message of a topic with history, atomically: its offset (HINCRBY: global per topic), the
// topic's epoch (set the first time, a fresh random one whenever Redis lost the hash: a flush,
// a restart without persistence, or expiry once everything kept aged out), the stream entry
// (trimmed to about max_messages, and by age with MINID from Redis's clock), and the envelope
// on the topic's channel with the position. Redis runs scripts one at a time and a pub/sub
// connection receives in publish order, so every node sees a topic's offsets in order.
// KEYS: meta hash, stream, topics set. ARGV: epoch candidate, max_messages, max_age ms (0:
// none), channel, envelope head, stored frame, topic name.
constexpr std::string_view append_script = R"(
local o = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('HSETNX', KEYS[1], 'e', ARGV[1])
local e = redis.call('HGET', KEYS[1], 'e')
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'o', o, 'm', ARGV[6])
local age = tonumber(ARGV[3])
if age > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('XTRIM', KEYS[2], 'MINID', '~', now - age)
  redis.call('PEXPIRE', KEYS[1], 2 * age)
  redis.call('PEXPIRE', KEYS[2], 2 * age)
end
redis.call('SADD', KEYS[3], ARGV[7])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. e .. ':' .. o .. ' ' .. ARGV[7] .. '\n' .. ARGV[6])
return o)";

// The topic's epoch and last offset, then (offset, ms, stored frame) of each kept entry from
// offset ARGV[1] on (that one included: its time is the wildcard rule's "in step" moment) and
// not older than ARGV[2] ms, oldest first. Read newest first in pages, so a recovery after a
// short gap reads only the gap. KEYS: meta hash, stream.
constexpr std::string_view read_script = R"(
local e = redis.call('HGET', KEYS[1], 'e')
if not e then return {'', 0} end
local last = tonumber(redis.call('HGET', KEYS[1], 'o'))
local from = tonumber(ARGV[1])
local min = 0
local age = tonumber(ARGV[2])
if age > 0 then
  local t = redis.call('TIME')
  min = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - age
end
local found = {}
local hi = '+'
local done = false
while not done do
  local page = redis.call('XREVRANGE', KEYS[2], hi, '-', 'COUNT', 256)
  if #page == 0 then break end
  for _, entry in ipairs(page) do
    local ms = tonumber(string.match(entry[1], '^(%d+)'))
    local o = tonumber(entry[2][2])
    if o < from or ms < min then done = true break end
    found[#found + 1] = {o, ms, entry[2][4]}
    if o == from then done = true break end
  end
  hi = '(' .. page[#page][1]
end
local out = {e, last}
for i = #found, 1, -1 do
  out[#out + 1] = found[i][1]
  out[#out + 1] = found[i][2]
  out[#out + 1] = found[i][3]
end
return out)";

// The first node's rules stay; each node answers what is there to compare with its own.
constexpr std::string_view rules_script = R"(
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1]))";

// The topics that kept history (a set: SMEMBERS through the one script path of the link).
constexpr std::string_view topics_script = "return redis.call('SMEMBERS', KEYS[1])";

const redis::script& topics_lua() {
  static const redis::script s{std::string(topics_script)};
  return s;
}
const redis::script& append_lua() {
  static const redis::script s{std::string(append_script)};
  return s;
}
const redis::script& read_lua() {
  static const redis::script s{std::string(read_script)};
  return s;
}
const redis::script& rules_lua() {
  static const redis::script s{std::string(rules_script)};
  return s;
}

// Fresh per append (used only when the topic's hash is new): after Redis lost the data the
// epoch must differ from every earlier one, or old positions would look valid.
std::string random_epoch() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return fmt::format("{:016x}", gen());
}

std::string rules_text(const std::vector<broker::history_rule>& rules) {
  std::string out;
  for (const broker::history_rule& r : rules) {
    out += fmt::format("{} {} {};", r.pattern, r.max_messages, r.max_age.count());
  }
  return fmt::format("{:016x}", std::hash<std::string>{}(out));
}

std::vector<broker::topic_matcher> matchers_of(const std::vector<broker::history_rule>& rules) {
  std::vector<broker::topic_matcher> out;
  for (const broker::history_rule& r : rules) {
    std::string_view path(r.pattern);
    if (path.starts_with(topic_prefix)) path.remove_prefix(topic_prefix.size());
    out.emplace_back(path);
  }
  return out;
}

std::uint64_t integer_of(const redisReply* r) {
  return r->type == REDIS_REPLY_INTEGER ? static_cast<std::uint64_t>(r->integer) : 0;
}

// The read script's answer as history_read (see history::read_after for `complete`).
broker::history_read parse_read(const redisReply* r, const std::string& name,
                                const broker::history_position& from) {
  broker::history_read out;
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2 || (r->elements - 2) % 3 != 0) {
    return out;
  }
  const std::string epoch(reply_text(r->element[0]));
  const std::uint64_t last = integer_of(r->element[1]);
  if (epoch.empty()) {  // nothing kept, ever or since Redis lost it
    out.complete = from.epoch.empty();
    return out;
  }
  if (!from.epoch.empty() && (from.epoch != epoch || from.offset > last)) return out;
  broker::destination target;
  if (broker::parse_destination(name, target)) return out;
  bool intact = true;
  for (std::size_t i = 2; i + 2 < r->elements; i += 3) {
    const std::uint64_t offset = integer_of(r->element[i]);
    const auto at = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(integer_of(r->element[i + 1])));
    if (offset == from.offset && !from.epoch.empty()) {
      out.seen_at = at;
      continue;
    }
    broker::message_ptr m;
    if (!broker::restore_message(reply_text(r->element[i + 2]), target, m)) {
      intact = false;
      continue;
    }
    m = broker::with_position(m, broker::format_position(epoch, offset));
    out.messages.push_back(broker::kept_message{offset, at, std::move(m)});
  }
  out.complete = intact && (from.offset == last || (!out.messages.empty() &&
                                                    out.messages.front().offset == from.offset + 1));
  return out;
}

}  // namespace

redis_history::redis_history(std::vector<broker::history_rule> rules, int db)
    : rules_(std::move(rules)), matchers_(matchers_of(rules_)), db_(db) {}

void redis_history::attach(std::shared_ptr<redis_link> l) {
  {
    std::lock_guard lock(mutex_);
    link_ = l;
  }
  // Null at shutdown: nothing is posted then (the io_context has stopped); the link's
  // on_connected callback holds it weakly.
  if (!l) return;
  // On every connect (a Redis that lost its data has forgotten the first node's rules too):
  // cheap, and what a misconfigured node needs to be noticed.
  const std::string mine = rules_text(rules_);
  std::weak_ptr<redis_link> weak = l;
  l->on_connected([weak, db = db_, mine] {
    auto link = weak.lock();
    if (!link) return;
    link->eval(rules_lua(), {"1", history_rules(db), mine}, [mine](const redisReply* r) {
      if (!r || r->type != REDIS_REPLY_STRING || reply_text(r) == mine) return;
      spdlog::warn("cluster: this node's [[history]] rules differ from those of the cluster's "
                   "first node: every node must have the same (positions and recoveries would "
                   "disagree between nodes)");
    });
  });
}

std::shared_ptr<redis_link> redis_history::link() const {
  std::lock_guard lock(mutex_);
  return link_;
}

const broker::history_rule* redis_history::rule_for(std::string_view name) const {
  if (!name.starts_with(topic_prefix)) return nullptr;
  const std::string_view path = name.substr(topic_prefix.size());
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (matchers_[i].matches(path)) return &rules_[i];
  }
  return nullptr;
}

bool redis_history::keeps(std::string_view name) const { return rule_for(name) != nullptr; }

void redis_history::append_shared(const broker::message_ptr& m,
                                  std::function<void(std::error_code)> done) {
  const broker::history_rule* rule = rule_for(m->target.name);
  const auto l = link();
  if (!rule || !l) return done(broker::error::message_not_stored);
  const std::string& name = m->target.name;
  const auto age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(rule->max_age);
  l->eval(append_lua(),
          {"3", history_meta(db_, name), history_stream(db_, name), history_topics(db_),
           random_epoch(), std::to_string(rule->max_messages), std::to_string(age_ms.count()),
           topic_channel(db_, name), history_envelope_head(l->node_id()), broker::stored_form(m),
           name},
          [done = std::move(done)](const redisReply* r) {
            if (r && r->type == REDIS_REPLY_INTEGER) return done({});
            if (r) spdlog::warn("cluster: history append refused: {}",
                                broker::printable(reply_text(r), 200));
            done(broker::error::message_not_stored);
          });
}

// After when_subscribed: whatever the script publishes from then on reaches this node live,
// and whatever it published before is in the stream, so the read and the held live messages
// overlap (the session keeps each offset once: live_after_recovery).
void redis_history::read_after_async(const std::string& name,
                                     const broker::history_position& from,
                                     std::chrono::system_clock::time_point,
                                     std::function<void(broker::history_read)> done) {
  const broker::history_rule* rule = rule_for(name);
  const auto l = link();
  if (!rule || !l) return done({});
  const auto age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(rule->max_age);
  l->when_subscribed([l, db = db_, name, from, age = age_ms.count(),
                      done = std::move(done)](bool ok) mutable {
    if (!ok) return done({});
    l->eval(read_lua(),
            {"2", history_meta(db, name), history_stream(db, name), std::to_string(from.offset),
             std::to_string(age)},
            [name, from, done = std::move(done)](const redisReply* r) {
              done(parse_read(r, name, from));
            });
  });
}

void redis_history::topics_matching_async(const broker::topic_matcher& pattern,
                                          std::function<void(std::vector<std::string>)> done) {
  const auto l = link();
  if (!l) return done({});
  l->when_subscribed([l, db = db_, pattern, done = std::move(done)](bool) mutable {
    l->eval(topics_lua(), {"1", history_topics(db)},
            [pattern, done = std::move(done)](const redisReply* r) {
              std::vector<std::string> out;
              if (r && r->type == REDIS_REPLY_ARRAY) {
                for (std::size_t i = 0; i < r->elements; ++i) {
                  broker::destination d;
                  const std::string_view name = reply_text(r->element[i]);
                  if (!broker::parse_destination(name, d) && pattern.matches(d.path())) {
                    out.emplace_back(name);
                  }
                }
              }
              done(std::move(out));
            });
  });
}

}  // namespace cluster

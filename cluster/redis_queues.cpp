#include "cluster/redis_queues.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "broker/destination.hpp"
#include "broker/error.hpp"
#include "broker/message.hpp"
#include "broker/printable.hpp"
#include "broker/store/error.hpp"
#include "cluster/channels.hpp"
#include "cluster/redis/script.hpp"

namespace cluster {
namespace {

constexpr std::string_view group = "stompbox";
// Owner of given-back entries: no node reads as it, so they stay idle until a node claims them.
constexpr std::string_view returned_owner = "stompbox-returned";
constexpr std::string_view parked_idle_ms = "86400000";  // a day: older than any claim_after

// Bounded append and its announcement, atomically; answers the entries the stream holds now
// (flow control: the publisher pauses at the bound). FULL: the queue holds ARGV[2] entries
// (waiting and in flight: consumed entries are deleted).
constexpr std::string_view append_script = R"(
local n = redis.call('XLEN', KEYS[1])
if n >= tonumber(ARGV[2]) then
  return redis.error_reply('FULL the queue holds its maximum number of messages')
end
redis.call('XADD', KEYS[1], '*', 'm', ARGV[1])
redis.call('PUBLISH', ARGV[3], 'new')
return n + 1)";

// Answers the entries left (flow control: paused publishers of this node may resume).
constexpr std::string_view consume_script = R"(
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return redis.call('XLEN', KEYS[1]))";

// Whether entry ARGV[i] is pending with consumer ARGV[2] (group ARGV[1]): only its holder may
// renew or park an entry, so a node never takes back what another node claimed meanwhile.
constexpr std::string_view owned_fn = R"(
local function owned(i)
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  return p[1] ~= nil and p[1][2] == ARGV[2]
end
)";

// Renews the node's own entries ARGV[3..] (their idle time back to 0, written to the AOF like
// any XCLAIM), so nobody claims what a live node holds.
constexpr std::string_view renew_script = R"(
local n = 0
for i = 3, #ARGV do
  if owned(i) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    n = n + 1
  end
end
return n)";

// Parks entry ARGV[3] with owner ARGV[4], idle for ARGV[5] ms, and announces it on ARGV[6].
constexpr std::string_view give_back_script = R"(
if owned(3) then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[4], 0, ARGV[3], 'IDLE', ARGV[5], 'JUSTID')
  redis.call('PUBLISH', ARGV[6], 'claim')
end
return 1)";

// Each script with its SHA1, made once (static: the callbacks of run() refer to them).
const redis::script& append_lua() {
  static const redis::script s{std::string(append_script)};
  return s;
}
const redis::script& consume_lua() {
  static const redis::script s{std::string(consume_script)};
  return s;
}
const redis::script& renew_lua() {
  static const redis::script s{std::string(owned_fn) + std::string(renew_script)};
  return s;
}
const redis::script& give_back_lua() {
  static const redis::script s{std::string(owned_fn) + std::string(give_back_script)};
  return s;
}

// Removes consumer ARGV[2] from group ARGV[1] if it holds no pending entry: in one step, so an
// entry it was just given is never orphaned (a deleted consumer's pending entries are gone).
// -1: kept; else DELCONSUMER's answer (0 pending entries, or 0 consumers: already gone).
constexpr std::string_view prune_script = R"(
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]))";

const redis::script& prune_lua() {
  static const redis::script s{std::string(prune_script)};
  return s;
}

constexpr std::size_t renew_batch = 500;  // ids per renewal script: Redis runs scripts alone

bool is_error(const redisReply* r, std::string_view prefix = {}) {
  return r && r->type == REDIS_REPLY_ERROR && reply_text(r).starts_with(prefix);
}

// The "m" field of one entry's field list; empty when absent.
std::string_view payload_of(const redisReply* fields) {
  if (!fields || fields->type != REDIS_REPLY_ARRAY) return {};
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    if (reply_text(fields->element[i]) == "m") return reply_text(fields->element[i + 1]);
  }
  return {};
}

struct consumer_info {
  std::string name;
  long long pending = 0;
  long long idle_ms = 0;
};

// One entry of XINFO CONSUMERS: a flat list of field, value pairs (name, pending, idle...).
consumer_info consumer_of(const redisReply* fields) {
  consumer_info c;
  if (!fields || fields->type != REDIS_REPLY_ARRAY) return c;
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    const std::string_view key = reply_text(fields->element[i]);
    const redisReply* v = fields->element[i + 1];
    if (key == "name") c.name = std::string(reply_text(v));
    if (key == "pending" && v->type == REDIS_REPLY_INTEGER) c.pending = v->integer;
    if (key == "idle" && v->type == REDIS_REPLY_INTEGER) c.idle_ms = v->integer;
  }
  return c;
}

void family(std::string& out, std::string_view name, std::string_view help, std::uint64_t v) {
  fmt::format_to(std::back_inserter(out),
                 "# HELP stompbox_{0} {1}\n# TYPE stompbox_{0} counter\nstompbox_{0} {2}\n", name,
                 help, v);
}

}  // namespace

redis_queues::redis_queues(int db, std::string node_id, broker::broker& b,
                           std::chrono::milliseconds claim_after)
    : db_(db), node_id_(std::move(node_id)), broker_(b), claim_after_(claim_after) {}

void redis_queues::interest(const std::string& name, bool on) {
  queue_state& q = queues_[name];
  q.refs += on ? 1 : -1;
  if (q.refs <= 0) {
    queues_.erase(name);  // the local queue gives back what it still holds (settle)
    return;
  }
  if (on && q.refs == 1) {
    create_group(name);
    pull(name, true);
  }
}

// The group starts at the stream's beginning: what was sent before anyone listened is kept.
void redis_queues::create_group(const std::string& name) {
  if (!redis_->up()) return;  // reconnected() creates it
  redis_->command({"XGROUP", "CREATE", queue_stream(db_, name), group, "0", "MKSTREAM"},
                  [name](const redisReply* r) {
                    if (is_error(r) && !is_error(r, "BUSYGROUP")) {
                      spdlog::warn("cluster: no consumer group for {}: {}",
                                   broker::printable(name, 200),
                                   broker::printable(reply_text(r), 200));
                    }
                  });
}

void redis_queues::enqueue(const std::string& name, std::string payload, std::size_t max,
                           std::size_t refuse_at, append_done done) {
  const std::string refuse_text = std::to_string(refuse_at);
  auto self = shared_from_this();
  const bool sent = run(
      append_lua(),
      {"1", queue_stream(db_, name), std::move(payload), refuse_text, queue_channel(db_, name)},
      [self, max, done](const redisReply* r) {
        const bool ok = r && r->type == REDIS_REPLY_INTEGER;
        (ok ? self->stats_.appended : self->stats_.append_errors).fetch_add(1);
        const bool full = ok && static_cast<std::size_t>(r->integer) >= max;
        if (ok && self->appends_) return self->wait_replicas(done, full);
        if (ok) return done({}, full);
        if (is_error(r, "FULL")) return done(broker::error::queue_full, false);
        if (r) spdlog::warn("cluster: append refused: {}", broker::printable(reply_text(r), 200));
        done(broker::error::message_not_stored, false);
      },
      appends_.get());
  if (!sent) {
    stats_.append_errors.fetch_add(1);
    done(broker::error::message_not_stored, false);
  }
}

// After the append's reply, not pipelined behind it: the append may have gone again as EVAL
// (NOSCRIPT), and WAIT covers only what this connection wrote before it.
void redis_queues::wait_replicas(append_done done, bool full) {
  const std::string count = std::to_string(min_replicas_);
  const std::string ms = std::to_string(replicas_timeout_.count());
  auto self = shared_from_this();
  const bool sent = appends_->command({"WAIT", count, ms}, [self, done, full](const redisReply* r) {
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= self->min_replicas_) {
      return done({}, full);
    }
    self->stats_.replica_shortfalls.fetch_add(1);
    spdlog::warn("cluster: a /queue/ append reached {} of cluster.min_replicas = {} replicas "
                 "within {} ms: its SEND gets an ERROR",
                 r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0, self->min_replicas_,
                 self->replicas_timeout_.count());
    done(broker::store::error::too_few_replicas, false);
  });
  if (!sent) done(broker::error::message_not_stored, false);
}

void redis_queues::watch_room(const std::string& name, std::size_t low_watermark) {
  watched_.try_emplace(name, watch{low_watermark, false});
  poll_room();
}

// Paused publishers of this node wait on the stream's length, whichever node consumes: asked
// for every 100 ms (redis_link) while any waits, and learnt from this node's own consumes.
void redis_queues::poll_room() {
  if (!redis_->up()) return;
  auto self = shared_from_this();
  for (auto& [name, w] : watched_) {
    if (w.asking) continue;
    w.asking = redis_->command({"XLEN", queue_stream(db_, name)},
                               [self, name](const redisReply* r) {
                                 auto it = self->watched_.find(name);
                                 if (it == self->watched_.end()) return;
                                 it->second.asking = false;
                                 self->room_seen(name, r);
                               });
  }
}

// `r`, the stream's length, at or under the low watermark: the publishers paused on it resume.
void redis_queues::room_seen(const std::string& name, const redisReply* r) {
  auto it = watched_.find(name);
  if (it == watched_.end() || !r || r->type != REDIS_REPLY_INTEGER) return;
  if (static_cast<std::size_t>(r->integer) > it->second.low_watermark) return;
  watched_.erase(it);
  broker_.shared_queue_room(name);
}

// The entry stays in held_ (renewed, never claimed from us) until Redis has applied the
// settle; a failed one is tried again every second.
void redis_queues::settle(const std::string& name, const std::string& id, bool give_back) {
  auto self = shared_from_this();
  const std::string stream = queue_stream(db_, name);
  const auto applied = [self, name, id, give_back](const redisReply* r) {
    --self->settling_;
    if (!r || is_error(r)) {
      self->unsettled_.emplace_back(name, id, give_back);
      return;
    }
    if (!give_back) self->room_seen(name, r);
    self->forget(name, id);
    (give_back ? self->stats_.given_back : self->stats_.consumed).fetch_add(1);
  };
  const bool sent =
      give_back ? run(give_back_lua(),
                      {"1", stream, std::string(group), node_id_, id, std::string(returned_owner),
                       std::string(parked_idle_ms), queue_channel(db_, name)},
                      applied)
                : run(consume_lua(), {"1", stream, std::string(group), id}, applied);
  if (sent) {
    ++settling_;
  } else {
    unsettled_.emplace_back(name, id, give_back);
  }
}

// On the command connection unless `on` names another (the appends' one); EVALSHA once the
// text went on that connection (redis::connection::eval says why not at once).
bool redis_queues::run(const redis::script& script, std::vector<std::string> args,
                       redis_connection::reply_fn done, redis_connection* on) {
  redis_connection* conn = on ? on : redis_.get();
  return conn->eval(script, std::move(args), std::move(done));
}

void redis_queues::forget(const std::string& name, const std::string& id) {
  auto h = held_.find(name);
  if (h == held_.end()) return;
  h->second.erase(id);
  if (h->second.empty()) held_.erase(h);
}

void redis_queues::retry_unsettled() {
  std::vector<entry_list> again;
  again.swap(unsettled_);
  for (const auto& [name, id, give_back] : again) settle(name, id, give_back);
}

void redis_queues::announced(const std::string& name, bool claim) {
  auto it = queues_.find(name);
  if (it == queues_.end()) return;
  it->second.maybe_more = true;
  if (claim) it->second.claim_cursor = "0-0";  // the entries given back may be anywhere
  pull(name, claim);
}

void redis_queues::room_freed(const std::string& name) {
  auto it = queues_.find(name);
  if (it != queues_.end() && it->second.maybe_more) pull(name, false);
}

// Takes entries of `name` for local consumers, as many as they have room for; claims idle
// entries first when `claim_first`.
void redis_queues::pull(const std::string& name, bool claim_first) {
  auto it = queues_.find(name);
  if (it == queues_.end()) return;
  queue_state& q = it->second;
  if (q.reading) {
    q.again = true;
    q.claim_again = q.claim_again || claim_first;
    return;
  }
  if (!redis_->up()) return;
  const std::size_t room = broker_.queue_room(name);
  if (room == 0) return;  // a consumer with room again calls us back
  q.reading = true;
  if (claim_first && std::chrono::steady_clock::now() >= claims_from_) {
    claim(name, room);
  } else {
    read(name, room);
  }
}

void redis_queues::claim(const std::string& name, std::size_t room) {
  auto self = shared_from_this();
  const bool sent = redis_->command(
      {"XAUTOCLAIM", queue_stream(db_, name), group, node_id_,
       std::to_string(claim_after_.count()), queues_[name].claim_cursor, "COUNT",
       std::to_string(room)},
      [self, name, room](const redisReply* r) {
        std::size_t n = 0;
        // [next cursor, [entries], [deleted ids]]
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
          if (auto it = self->queues_.find(name); it != self->queues_.end()) {
            it->second.claim_cursor = reply_text(r->element[0]);
          }
          n = self->take(name, r->element[1], true);
          self->stats_.claimed.fetch_add(n);
        }
        if (is_error(r, "NOGROUP")) self->create_group(name);
        if (!r || is_error(r) || n >= room) return self->finish(name, n >= room);
        self->read(name, room - n);
      });
  if (!sent) finish(name, false);
}

void redis_queues::read(const std::string& name, std::size_t room) {
  auto self = shared_from_this();
  const bool sent = redis_->command(
      {"XREADGROUP", "GROUP", group, node_id_, "COUNT", std::to_string(room), "STREAMS",
       queue_stream(db_, name), ">"},
      [self, name, room](const redisReply* r) {
        std::size_t n = 0;
        // [[stream, [entries]]], or nil when nothing is new.
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
            r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2) {
          n = self->take(name, r->element[0]->element[1], false);
        }
        if (is_error(r, "NOGROUP")) {  // Redis lost it (restarted without its data)
          self->create_group(name);
          return self->finish(name, true);
        }
        self->finish(name, n >= room);  // a full batch: there may be more
      });
  if (!sent) finish(name, false);
}

void redis_queues::finish(const std::string& name, bool more) {
  auto it = queues_.find(name);
  if (it == queues_.end()) return;
  queue_state& q = it->second;
  q.reading = false;
  q.maybe_more = more || q.again;
  if (!more && !q.again) return;
  const bool claim_first = q.claim_again;
  q.again = q.claim_again = false;
  pull(name, claim_first);
}

// Hands each entry to the local queue; returns how many entries the reply held.
std::size_t redis_queues::take(const std::string& name, const redisReply* entries,
                               bool redelivered) {
  if (!entries || entries->type != REDIS_REPLY_ARRAY) return 0;
  broker::destination target;
  if (broker::parse_destination(name, target)) return 0;  // names come from our own registry
  for (std::size_t i = 0; i < entries->elements; ++i) {
    const redisReply* e = entries->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
    const std::string id(reply_text(e->element[0]));
    // Claimed back from ourselves (our renewal came late): it is here already.
    if (!held_[name].insert(id).second) continue;
    stats_.taken.fetch_add(1);
    broker::message_ptr restored;
    if (!broker::restore_message(payload_of(e->element[1]), target, restored)) {
      spdlog::warn("cluster: entry {} of {} is not a message; dropped", broker::printable(id),
                   broker::printable(name, 200));
      settle(name, id, false);
      continue;
    }
    auto m = std::make_shared<broker::message>(*restored);
    m->cluster_ref = id;
    broker::message_ptr out = std::move(m);
    broker_.deliver_remote_queued(redelivered ? broker::redelivered_copy(out) : out);
  }
  return entries->elements;
}

void redis_queues::tick() {
  if (!redis_->up()) return;
  if (!unsettled_.empty()) retry_unsettled();
  for (const auto& [name, q] : queues_) pull(name, true);
  if (std::chrono::steady_clock::now() - last_refresh_ >= claim_after_ / 3) {
    refresh_leases();
    for (const auto& [name, q] : queues_) prune(name);
  }
}

// Consumers of the group idle longer than claim_after are nodes gone (a live node that holds
// entries renews them, which touches its consumer): each is removed once its pending entries
// were claimed (XAUTOCLAIM in pull, by this node or another). A live node idle on this queue
// and holding nothing may be removed too; its next XREADGROUP creates it again.
void redis_queues::prune(const std::string& name) {
  auto self = shared_from_this();
  const std::string stream = queue_stream(db_, name);
  redis_->command({"XINFO", "CONSUMERS", stream, group}, [self, stream](const redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return;
    for (std::size_t i = 0; i < r->elements; ++i) {
      const consumer_info c = consumer_of(r->element[i]);
      if (c.name.empty() || c.name == self->node_id_ || c.name == returned_owner) continue;
      if (c.pending > 0 || c.idle_ms <= self->claim_after_.count()) continue;
      self->run(prune_lua(), {"1", stream, std::string(group), c.name},
                [self, stream, name = c.name](const redisReply* done) {
                  if (done && done->type == REDIS_REPLY_INTEGER && done->integer == 0) {
                    self->stats_.pruned.fetch_add(1);
                    spdlog::info("cluster: consumer {} of {} removed (idle longer than the "
                                 "claim time, nothing pending): a node gone",
                                 broker::printable(name, 64), broker::printable(stream, 200));
                  }
                });
    }
  });
}

// Renews exactly the entries this node holds; an entry it read but lost the reply of is not
// among them, so it is claimed (by any node, this one included) after claim_after.
void redis_queues::refresh_leases() {
  last_refresh_ = std::chrono::steady_clock::now();
  for (const auto& [name, ids] : held_) {
    const std::string stream = queue_stream(db_, name);
    for (auto it = ids.begin(); it != ids.end();) {
      std::vector<std::string> args{"1", stream, std::string(group), node_id_};
      for (std::size_t n = 0; n < renew_batch && it != ids.end(); ++n, ++it) args.push_back(*it);
      run(renew_lua(), std::move(args), nullptr);
    }
  }
}

// Renewals go first on the connection, then the settles that failed; claims wait a third of
// claim_after, so every live node has renewed its entries (after an outage longer than
// claim_after all of them look idle) before any node claims.
void redis_queues::reconnected() {
  for (const auto& [name, q] : queues_) create_group(name);
  refresh_leases();
  retry_unsettled();
  claims_from_ = std::chrono::steady_clock::now() + claim_after_ / 3;
  for (auto& [name, q] : queues_) {
    q.reading = false;  // replies of the lost connection came back null
    q.maybe_more = true;
    pull(name, false);
  }
}

void redis_queues::metrics_text(std::string& out) const {
  family(out, "cluster_queue_appended_total", "Messages the shared /queue/ streams accepted.",
         stats_.appended.load());
  family(out, "cluster_queue_append_errors_total",
         "Messages the shared /queue/ streams refused (Redis down or error, queue full): ERROR.",
         stats_.append_errors.load());
  family(out, "cluster_queue_taken_total", "Queue entries this node took for its consumers.",
         stats_.taken.load());
  family(out, "cluster_queue_claimed_total",
         "Queue entries taken over from a dead node or given back by another.",
         stats_.claimed.load());
  family(out, "cluster_queue_consumed_total", "Queue entries acknowledged and deleted.",
         stats_.consumed.load());
  family(out, "cluster_queue_consumers_pruned_total",
         "Consumers of gone nodes removed from the queues' consumer group.",
         stats_.pruned.load());
  family(out, "cluster_queue_replica_shortfalls_total",
         "Queue appends fewer than cluster.min_replicas replicas confirmed in time: ERROR.",
         stats_.replica_shortfalls.load());
  family(out, "cluster_queue_script_loads_total",
         "Queue script texts sent (EVAL): each script's first use on a connection, and again "
         "after a NOSCRIPT (SCRIPT FLUSH).",
         redis_->script_texts() + (appends_ ? appends_->script_texts() : 0));
  family(out, "cluster_queue_given_back_total",
         "Queue entries returned for other nodes (the last local consumer left).",
         stats_.given_back.load());
}

}  // namespace cluster

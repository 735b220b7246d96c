#include "cluster/store/detail/redis_batch.hpp"

#include <hiredis.h>

#include <algorithm>
#include <charconv>

#include "broker/store/error.hpp"

namespace cluster::detail {
using namespace broker::store;  // the interface this adapter implements
namespace {

// INCR and XADD in one script: Redis runs a script atomically, so two nodes appending to the
// same queue can never add seq 8 after seq 9 (XADD would refuse an id below the stream's top).
// XTRIM MAXLEN counts live entries (XDEL'd ones are gone), as SQLite's row count does. Trimmed
// entries take their delivered marks along: every mark below the oldest entry left is one of
// them (reading that one entry, not the trimmed ones, keeps a large trim cheap).
// string.format('%d') rather than `..`: Lua 5.1 prints numbers >= 1e14 in exponent form.
constexpr std::string_view append_script =
    "local seq = redis.call('INCR', KEYS[1])\n"
    "redis.call('XADD', KEYS[2], string.format('%d-0', seq), 'message_id', ARGV[1],\n"
    "  'payload', ARGV[2], 'stored_at', ARGV[3], 'expires_at', ARGV[4])\n"
    "local dropped = 0\n"
    "local max = tonumber(ARGV[5])\n"
    "if max > 0 then dropped = redis.call('XTRIM', KEYS[2], 'MAXLEN', max) end\n"
    "if dropped > 0 and redis.call('EXISTS', KEYS[4]) == 1 then\n"
    "  local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1][1]\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. string.match(oldest, '^%d+'))\n"
    "end\n"
    "redis.call('SADD', KEYS[3], ARGV[6])\n"
    "return {seq, dropped}\n";

// A mark only for an entry that exists, checked in the same atomic step: a seq removed, trimmed
// or expired meanwhile (here or on another node) leaves no orphan mark behind. EVAL, not
// EVALSHA: a short script needs no NOSCRIPT handling, and Redis caches it compiled by its SHA.
constexpr std::string_view mark_script =
    "if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end\n"
    "return redis.call('ZADD', KEYS[2], ARGV[2], ARGV[2])\n";

std::string entry_id(std::uint64_t seq) { return std::to_string(seq) + "-0"; }

template <typename Int>
Int to_int(std::string_view s) {
  Int v{};
  std::from_chars(s.data(), s.data() + s.size(), v);  // "123-0" stops at '-'
  return v;
}

std::string_view text_of(const redisReply& r) { return {r.str, r.len}; }

bool is_noscript(const redisReply& r) {
  return r.type == REDIS_REPLY_ERROR && text_of(r).substr(0, 8) == "NOSCRIPT";
}

// Queues the commands of `op`; returns how many (their replies come in that order, the first
// one carries the op's result).
std::size_t send(redis_link& link, const redis_keys& keys, const std::string& sha,
                 const std::string& max_count, const redis_op& op) {
  const std::string stream = keys.stream(op.queue);
  const std::string marks = keys.delivered(op.queue);
  if (op.what == redis_op::kind::append) {
    const std::string seq_key = keys.seq(), queues = keys.queues();
    const std::string stored = std::to_string(op.stored_at_ms);
    const std::string expires = std::to_string(op.expires_at_ms);
    link.append({"EVALSHA", sha, "4", seq_key, stream, queues, marks, op.message_id, op.payload,
                 stored, expires, max_count, op.queue});
    return 1;
  }
  if (op.what == redis_op::kind::mark) {
    const std::string id = entry_id(op.seq), seq = std::to_string(op.seq);
    link.append({"EVAL", mark_script, "2", stream, marks, id, seq});
    return 1;
  }
  // remove / expire: the entries and their marks, in the same transaction.
  std::vector<std::uint64_t> seqs(op.expired);
  if (op.what == redis_op::kind::remove) seqs.push_back(op.seq);
  std::vector<std::string> ids, members;
  for (auto seq : seqs) {
    ids.push_back(entry_id(seq));
    members.push_back(std::to_string(seq));
  }
  std::vector<std::string_view> xdel{"XDEL", stream}, zrem{"ZREM", marks};
  xdel.insert(xdel.end(), ids.begin(), ids.end());
  zrem.insert(zrem.end(), members.begin(), members.end());
  link.append(xdel);
  link.append(zrem);
  return 2;
}

void record_reply(redis_op& op, const redisReply& r, redis_batch_result& out) {
  if (auto ec = error_of_reply(r)) {
    op.ec = ec;
    if (!out.ec) out.ec = ec;
    return;
  }
  switch (op.what) {
    case redis_op::kind::append:
      if (r.type != REDIS_REPLY_ARRAY || r.elements != 2) {
        op.ec = error::failed;
        return;
      }
      op.seq = static_cast<std::uint64_t>(r.element[0]->integer);
      out.dropped_overflow += static_cast<std::uint64_t>(r.element[1]->integer);
      break;
    case redis_op::kind::remove:
      out.removed += static_cast<std::uint64_t>(r.integer);
      break;
    case redis_op::kind::mark:
      break;
    case redis_op::kind::expire:
      out.dropped_expired += static_cast<std::uint64_t>(r.integer);
      break;
    case redis_op::kind::load:
    case redis_op::kind::summarize:
      break;
  }
}

void fail_all(const std::vector<redis_op*>& ops, std::error_code ec, redis_batch_result& out) {
  for (auto* op : ops) {
    if (!op->ec) op->ec = ec;
  }
  if (!out.ec) out.ec = ec;
}

// Reads WAIT's answer: false (every op of the batch failed) when fewer than `count` replicas
// confirmed. The removes and marks fail too: they are retried, which is harmless.
bool replicas_confirmed(redis_link& link, int count, const std::vector<redis_op*>& ops,
                        redis_batch_result& out) {
  std::error_code ec;
  auto reply = link.read_reply(ec);
  if (ec) {
    fail_all(ops, ec, out);
    return false;
  }
  if (reply->type == REDIS_REPLY_INTEGER && reply->integer >= count) return true;
  const std::error_code why = error_of_reply(*reply);
  fail_all(ops, why ? why : make_error_code(error::too_few_replicas), out);
  return false;
}

// Sends `ops` as MULTI ... EXEC and reads every reply. NOSCRIPT appends go to `noscript` (when
// given) untouched. Why a transaction: with appendfsync always, Redis fsyncs once per event-
// loop pass, and it reads a pipeline 16 KiB at a time, so a plain pipeline costs one fsync per
// ~50 appends; inside MULTI nothing is written until EXEC, so the batch costs ONE fsync.
//
// WAIT (replicas.count > 0 and an append in the batch) goes right after EXEC in the same
// pipeline: it waits for the replicas to confirm everything this connection wrote, the batch
// included; this connection is the store worker's own, so the wait blocks nothing else.
void transact(redis_link& link, const redis_keys& keys, const std::string& sha,
              const std::string& max_count, const std::vector<redis_op*>& ops,
              std::vector<redis_op*>* noscript, redis_batch_result& out,
              const replica_wait& replicas) {
  link.append({"MULTI"});
  std::vector<std::size_t> sent;  // commands per op
  sent.reserve(ops.size());
  std::size_t commands = 0;
  for (auto* op : ops) commands += sent.emplace_back(send(link, keys, sha, max_count, *op));
  link.append({"EXEC"});
  const bool wait = replicas.count > 0 && std::any_of(ops.begin(), ops.end(), [](auto* op) {
                      return op->what == redis_op::kind::append;
                    });
  const std::string wait_count = std::to_string(replicas.count);
  const std::string wait_ms = std::to_string(replicas.timeout.count());
  if (wait) link.append({"WAIT", wait_count, wait_ms});
  std::error_code ec;
  std::error_code queue_ec;  // a command refused while queueing (OOM...): EXEC then aborts
  for (std::size_t i = 0; i < commands + 1; ++i) {  // +OK for MULTI, +QUEUED per command
    auto reply = link.read_reply(ec);
    if (ec) return fail_all(ops, ec, out);  // connection gone: outcome unknown
    if (!queue_ec) queue_ec = error_of_reply(*reply);
  }
  auto exec = link.read_reply(ec);
  if (ec) return fail_all(ops, ec, out);
  if (wait && !replicas_confirmed(link, replicas.count, ops, out)) return;
  if (exec->type != REDIS_REPLY_ARRAY || exec->elements != commands) {
    auto why = queue_ec ? queue_ec : error_of_reply(*exec);
    return fail_all(ops, why ? why : make_error_code(error::failed), out);
  }
  std::size_t at = 0;
  for (std::size_t i = 0; i < ops.size(); at += sent[i], ++i) {
    if (noscript != nullptr && is_noscript(*exec->element[at])) {
      noscript->push_back(ops[i]);
      continue;
    }
    record_reply(*ops[i], *exec->element[at], out);
    for (std::size_t k = 1; k < sent[i] && !ops[i]->ec; ++k) {
      if ((ops[i]->ec = error_of_reply(*exec->element[at + k])) && !out.ec) out.ec = ops[i]->ec;
    }
  }
}

stored_message parse_entry(const redisReply& e, std::string_view queue) {
  stored_message m;
  m.queue = std::string(queue);
  if (e.type != REDIS_REPLY_ARRAY || e.elements != 2) return m;
  m.seq = to_int<std::uint64_t>(text_of(*e.element[0]));
  const redisReply& fields = *e.element[1];
  for (std::size_t i = 0; i + 1 < fields.elements; i += 2) {
    const auto name = text_of(*fields.element[i]);
    const auto value = text_of(*fields.element[i + 1]);
    if (name == "message_id")
      m.message_id = std::string(value);
    else if (name == "payload")
      m.payload = std::string(value);
    else if (name == "stored_at")
      m.stored_at_ms = to_int<std::int64_t>(value);
    else if (name == "expires_at")
      m.expires_at_ms = to_int<std::int64_t>(value);
  }
  return m;
}

std::vector<stored_message> parse_entries(const redisReply& r, std::string_view queue) {
  std::vector<stored_message> out;
  if (r.type != REDIS_REPLY_ARRAY) return out;  // nil: no such stream
  out.reserve(r.elements);
  for (std::size_t i = 0; i < r.elements; ++i) out.push_back(parse_entry(*r.element[i], queue));
  return out;
}

// Members of a ZRANGEBYSCORE reply over marks, ascending (member = score = seq).
std::vector<std::uint64_t> parse_seqs(const redisReply& r) {
  std::vector<std::uint64_t> out;
  if (r.type != REDIS_REPLY_ARRAY) return out;
  out.reserve(r.elements);
  for (std::size_t i = 0; i < r.elements; ++i) {
    out.push_back(to_int<std::uint64_t>(text_of(*r.element[i])));
  }
  return out;
}

}  // namespace

std::string load_append_script(redis_link& link, std::error_code& ec) {
  auto r = link.command({"SCRIPT", "LOAD", append_script}, ec);
  if (ec) return {};
  if ((ec = error_of_reply(*r))) return {};
  if (r->type != REDIS_REPLY_STRING) {
    ec = error::failed;
    return {};
  }
  return std::string(text_of(*r));
}

redis_batch_result run_batch(redis_link& link, const redis_keys& keys, std::string& sha,
                             std::size_t max_count, std::vector<redis_op>& ops,
                             const replica_wait& replicas) {
  redis_batch_result out;
  const auto start = std::chrono::steady_clock::now();
  const std::string max = std::to_string(max_count);
  std::vector<redis_op*> writes;
  for (auto& op : ops) {
    if (op.what != redis_op::kind::load && op.what != redis_op::kind::summarize) {
      writes.push_back(&op);
    }
  }
  std::vector<redis_op*> noscript;
  if (!writes.empty()) transact(link, keys, sha, max, writes, &noscript, out, replicas);
  if (!noscript.empty()) {
    // Someone ran SCRIPT FLUSH (or Redis restarted between two batches without us noticing).
    // A NOSCRIPT reply means the script did not run, so sending the append again is safe.
    std::error_code ec;
    sha = load_append_script(link, ec);
    if (ec)
      fail_all(noscript, ec, out);
    else
      transact(link, keys, sha, max, noscript, nullptr, out, replicas);
  }
  for (const auto& op : ops) {
    if (op.what != redis_op::kind::append) continue;
    if (op.ec)
      ++out.append_failures;
    else
      ++out.appended;
  }
  out.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  return out;
}

std::vector<stored_message> read_range(redis_link& link, const redis_keys& keys,
                                       std::string_view queue, std::uint64_t after_seq,
                                       std::size_t count, std::error_code& ec) {
  const std::string start = entry_id(after_seq + 1);  // inclusive start = exclusive after_seq
  const std::string n = std::to_string(count);
  auto r = link.command({"XRANGE", keys.stream(queue), start, "+", "COUNT", n}, ec);
  if (ec) return {};
  if ((ec = error_of_reply(*r))) return {};
  return parse_entries(*r, queue);
}

// XRANGE and the marks above after_seq in one MULTI: one round trip, and one consistent view, so
// a mark committed before the load began is seen with its entry. The marks are a subset of the
// stream (redis_batch.hpp), so the `count` lowest marks above after_seq cover every entry of the
// page; should stale marks (say, left by an older stompbox) fill that page below the last entry,
// the marks in between are read with one more command.
std::vector<stored_message> read_page(redis_link& link, const redis_keys& keys,
                                      std::string_view queue, std::uint64_t after_seq,
                                      std::size_t count, std::error_code& ec) {
  const std::string start = entry_id(after_seq + 1), n = std::to_string(count);
  const std::string marks_key = keys.delivered(queue), above = "(" + std::to_string(after_seq);
  link.append({"MULTI"});
  link.append({"XRANGE", keys.stream(queue), start, "+", "COUNT", n});
  link.append({"ZRANGEBYSCORE", marks_key, above, "+inf", "LIMIT", "0", n});
  link.append({"EXEC"});
  reply_ptr replies[4];  // +OK, +QUEUED, +QUEUED, the EXEC array: all read, to stay in step
  for (auto& r : replies) {
    if (r = link.read_reply(ec); ec) return {};
  }
  for (const auto& r : replies) {
    if ((ec = error_of_reply(*r))) return {};
  }
  const redisReply& exec = *replies[3];
  if (exec.type != REDIS_REPLY_ARRAY || exec.elements != 2) {
    ec = error::failed;
    return {};
  }
  if ((ec = error_of_reply(*exec.element[0])) || (ec = error_of_reply(*exec.element[1]))) return {};
  auto out = parse_entries(*exec.element[0], queue);
  std::vector<std::uint64_t> marked = parse_seqs(*exec.element[1]);
  if (marked.size() == count && !out.empty() && marked.back() < out.back().seq) {
    const std::string from = "(" + std::to_string(marked.back());
    const std::string to = std::to_string(out.back().seq);
    auto more = link.command({"ZRANGEBYSCORE", marks_key, from, to}, ec);
    if (ec || (ec = error_of_reply(*more))) return {};
    const auto rest = parse_seqs(*more);
    marked.insert(marked.end(), rest.begin(), rest.end());
  }
  for (auto& m : out) m.delivered = std::binary_search(marked.begin(), marked.end(), m.seq);
  return out;
}

std::vector<stored_message> read_live(redis_link& link, const redis_keys& keys,
                                      std::string_view queue, std::uint64_t after_seq,
                                      std::size_t max,
                                      const std::function<bool(const stored_message&)>& is_expired,
                                      const std::unordered_set<std::uint64_t>& hidden,
                                      std::vector<std::uint64_t>& expired, std::error_code& ec) {
  ec.clear();
  std::vector<stored_message> out;
  while (out.size() < max) {
    const std::size_t want = max - out.size();
    auto rows = read_page(link, keys, queue, after_seq, want, ec);
    if (ec) break;
    for (auto& m : rows) {
      after_seq = m.seq;
      if (is_expired(m))
        expired.push_back(m.seq);
      else if (!hidden.contains(m.seq))
        out.push_back(std::move(m));
    }
    if (rows.size() < want) break;
  }
  return out;
}

std::vector<std::string> scan_queues(redis_link& link, const redis_keys& keys, std::string& cursor,
                                     std::size_t count, std::error_code& ec) {
  std::vector<std::string> out;
  const std::string n = std::to_string(count);
  auto r = link.command({"SSCAN", keys.queues(), cursor, "COUNT", n}, ec);
  if (ec) return out;
  if ((ec = error_of_reply(*r))) return out;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
    ec = error::failed;
    return out;
  }
  cursor = std::string(text_of(*r->element[0]));
  const redisReply& names = *r->element[1];
  for (std::size_t i = 0; i < names.elements; ++i) out.emplace_back(text_of(*names.element[i]));
  return out;
}

std::vector<queue_summary> summarize_queues(redis_link& link, const redis_keys& keys,
                                            std::size_t max, std::error_code& ec) {
  constexpr std::size_t page = 100;
  std::vector<queue_summary> out;
  std::unordered_set<std::string> seen;  // SSCAN may return a name twice
  std::string cursor = "0";
  do {
    for (auto& name : scan_queues(link, keys, cursor, page, ec)) {
      if (ec) return out;
      if (!seen.insert(name).second) continue;
      auto len = link.command({"XLEN", keys.stream(name)}, ec);
      if (ec || (ec = error_of_reply(*len))) return out;
      if (len->type != REDIS_REPLY_INTEGER || len->integer <= 0) continue;
      const auto oldest = read_range(link, keys, name, 0, 1, ec);
      if (ec) return out;
      out.push_back({name, static_cast<std::uint64_t>(len->integer),
                     oldest.empty() ? 0 : oldest.front().stored_at_ms});
    }
  } while (!ec && cursor != "0");
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.messages > b.messages; });
  if (out.size() > max) out.resize(max);
  return out;
}

// Each queue is read from its oldest end, where age-expired entries are; a per-message expiry
// further in is found by the loads (or once the entries before it have gone).
sweep_result find_expired(redis_link& link, const redis_keys& keys, sweep_position& at,
                          std::size_t budget,
                          const std::function<bool(const stored_message&)>& is_expired,
                          std::error_code& ec) {
  constexpr std::size_t page = 100;  // queues per SSCAN step, entries read per queue
  sweep_result out;
  while (budget > 0 && !ec) {
    if (at.pending.empty()) {
      for (auto& name : scan_queues(link, keys, at.cursor, page, ec)) {
        at.pending.push_back(std::move(name));
      }
      if (ec || at.pending.empty()) break;
    }
    redis_op purge;
    purge.what = redis_op::kind::expire;
    purge.queue = std::move(at.pending.front());
    at.pending.pop_front();
    auto rows = read_range(link, keys, purge.queue, 0, std::min(budget, page), ec);
    budget -= std::min(budget, std::max<std::size_t>(rows.size(), 1));
    if (!ec && rows.empty()) out.empty.push_back(purge.queue);
    for (const auto& m : rows) {
      if (is_expired(m)) purge.expired.push_back(m.seq);
    }
    if (!purge.expired.empty()) out.purges.push_back(std::move(purge));
    if (at.cursor == "0" && at.pending.empty()) break;  // every queue seen once this round
  }
  return out;
}

bool drop_queue_if_empty(redis_link& link, const redis_keys& keys, const std::string& queue,
                         std::error_code& ec) {
  // A script, so that the check and the delete are one step for every other node's appends.
  constexpr std::string_view script =
      "if redis.call('XLEN', KEYS[1]) > 0 then return 0 end\n"
      "redis.call('DEL', KEYS[1], KEYS[3])\n"
      "redis.call('SREM', KEYS[2], ARGV[1])\n"
      "return 1\n";
  auto r = link.command(
      {"EVAL", script, "3", keys.stream(queue), keys.queues(), keys.delivered(queue), queue}, ec);
  if (ec) return false;
  if ((ec = error_of_reply(*r))) return false;
  return r->type == REDIS_REPLY_INTEGER && r->integer == 1;
}

}  // namespace cluster::detail

#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "broker/destination.hpp"
#include "broker/history.hpp"
#include "broker/message.hpp"
#include "broker/registry.hpp"

namespace broker::detail {

/// What a SUBSCRIBE's `x-recover-from` asked for: the plain "EPOCH:OFFSET" of one topic, or
/// for a wildcard subscription "DEST=EPOCH:OFFSET,..." (one entry per concrete topic).
struct recover_request {
  std::vector<std::pair<std::string, history_position>> positions;  ///< canonical topic, place
  bool listed = false;  ///< the DEST=... form
};

/// Parses `x-recover-from`. False when malformed (an entry without '=' in a list, a bad
/// position, a destination that is not a concrete /topic/).
bool parse_recover_from(std::string_view value, recover_request& out);

/// What a recovering SUBSCRIBE gets: the RECEIPT's x-recovered and the messages to deliver
/// before any live one (empty when not recovered: the client reloads).
struct recovery {
  bool recovered = false;
  std::vector<message_ptr> messages;
};

/// What a recovering subscription of a shared history (a cluster) delivers after `recovered`
/// (recovery::messages, in order): of the live messages `held` while the history was read, per
/// concrete topic those whose x-position offset is past both the offset `from` names for it
/// and the last recovered one; the rest were in the read already. Held messages of another
/// epoch than the one the read or `from` names, or without a position, are dropped. Thread-safe
/// (pure).
std::vector<message_ptr> live_after_recovery(const recover_request& from,
                                             const std::vector<message_ptr>& recovered,
                                             const std::vector<message_ptr>& held);

/// Where topic history meets routing: the offsets a topic's messages get are in the order its
/// live fan-out reaches subscribers, and a recovering subscription is registered in the same
/// step as its history is read, so it gets each message exactly once, history then live.
///
/// How: one topic's publish (offset, append, registry snapshot, posts to the strands) runs under
/// that topic's lock (striped), the subscription + read of a concrete topic too; a wildcard
/// recovery takes the gate exclusively (every topic at once), a topic step takes it shared.
/// LOCK ORDER: gate -> topic stripe -> registry::mutex_ (-> connection::post) and the history's
/// own lock (never both: the history is called with neither registry nor post locks held).
/// Thread-safe.
class history_gate {
 public:
  /// `h` null: no history at all (keeps() is false for every topic).
  history_gate(std::shared_ptr<history> h, registry& reg);

  /// Whether `d` (a concrete /topic/) keeps history. Cheap when no [[history]] is configured.
  bool keeps(const destination& d) const;

  /// Publishes `m` (keeps(m->target)): stamped with x-position, kept, fanned out.
  void route(const message_ptr& m, std::chrono::system_clock::time_point now);

  /// Registers `who` for topic `d` (concrete or wildcard) as registry::subscribe does and reads
  /// what it missed since `from`, in one step; `handle` receives the registry handle.
  recovery subscribe(const subscriber& who, const destination& d, const recover_request& from,
                     std::chrono::system_clock::time_point now, std::uint64_t& handle);

  /// The history is shared by the nodes of a cluster (history::shared): route_shared and
  /// subscribe_shared replace route and subscribe.
  bool shared() const { return history_ && history_->shared(); }

  /// shared(): keeps `m` in the shared history, which delivers it on every node (this one
  /// included, stamped). `done` as history::append_shared.
  void route_shared(const message_ptr& m, std::function<void(std::error_code)> done);

  /// shared(): registers `who` for `d` (as subscribe), then reads the history asynchronously;
  /// `done` gets what subscribe would return, on any thread. Live messages reach the
  /// subscription meanwhile: the caller holds them and merges (live_after_recovery).
  void subscribe_shared(const subscriber& who, const destination& d, const recover_request& from,
                        std::chrono::system_clock::time_point now, std::uint64_t& handle,
                        std::function<void(recovery)> done);

  /// Lets the history forget topics with nothing kept (history::purge); from broker::tick.
  /// Holds every topic step back while it runs (one pass over the topics).
  void purge(std::chrono::system_clock::time_point now);

 private:
  std::mutex& stripe(const std::string& name);
  recovery read_one(const destination& d, const recover_request& from,
                    std::chrono::system_clock::time_point now);
  recovery read_pattern(const destination& d, const recover_request& from,
                        std::chrono::system_clock::time_point now);
  void read_one_async(const destination& d, const recover_request& from,
                      std::chrono::system_clock::time_point now,
                      std::function<void(recovery)> done);
  void read_pattern_async(const destination& d, const recover_request& from,
                          std::chrono::system_clock::time_point now,
                          std::function<void(recovery)> done);

  const std::shared_ptr<history> history_;
  registry& reg_;
  std::shared_mutex gate_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace broker::detail

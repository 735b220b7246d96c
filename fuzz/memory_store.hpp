#pragma once

// A broker::store::store for session_fuzzer: in memory, deterministic and fast (the SQLite
// store costs a file, a thread and ~2 ms per fuzz input). Appends complete in flush(), in
// order, on the flushing thread (the real store completes on its writer thread: either way
// the session gets the result through connection::post). While `failing` is set, appends
// complete with store::error::disk_full, as a full disk would.

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "broker/store/store.hpp"

namespace fuzz {

/// See the file comment. Thread-safe.
class memory_store final : public broker::store::store {
 public:
  /// Returns 0: seqs are assigned in flush(), as Redis assigns them at commit.
  std::uint64_t append(std::string queue, std::string message_id, std::string payload,
                       std::int64_t expires_at_ms, broker::store::append_handler done) override;
  std::vector<broker::store::stored_message> load(std::string_view queue, std::uint64_t after_seq,
                                                  std::size_t max, std::error_code& ec) override;
  void remove(std::string queue, std::uint64_t seq) override;
  void mark_delivered(std::string queue, std::uint64_t seq) override;
  void set_retention(broker::store::retention r) override;
  broker::store::store_stats stats() const override;
  void flush() override;
  bool writable() const override;

  /// Later appends fail (true) or succeed (false).
  void set_failing(bool failing);

 private:
  struct pending {
    broker::store::stored_message m;
    broker::store::append_handler done;
  };

  mutable std::mutex mutex_;
  std::deque<pending> pending_;
  std::map<std::string, std::map<std::uint64_t, broker::store::stored_message>, std::less<>>
      queues_;
  broker::store::retention retention_;
  broker::store::store_stats stats_;
  std::uint64_t next_seq_ = 0;
  bool failing_ = false;
  bool last_failed_ = false;
};

}  // namespace fuzz

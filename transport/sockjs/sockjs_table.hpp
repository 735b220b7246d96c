#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace transport::detail {

class sockjs_session;

/// The SockJS sessions of one server by session id. Holds live sessions weakly (a session is
/// kept alive by its own pending operations, like any connection) and, for a while after a
/// session ended, its close frame: later requests for that id get `c[...]` instead of a new
/// session. Thread-safe (one mutex; never held while calling into a session).
class sockjs_table {
 public:
  using clock = std::chrono::steady_clock;

  /// What an id names now.
  struct lookup {
    std::shared_ptr<sockjs_session> live;  ///< set when the session is open
    std::string close_frame;               ///< set when it ended lately: answer this
  };

  /// The session or tombstone for `id`; both empty when none.
  lookup find(const std::string& id);

  /// find(), creating the session with `make` when the id is unknown (`created` is then set).
  lookup find_or_create(const std::string& id,
                        const std::function<std::shared_ptr<sockjs_session>()>& make,
                        bool& created);

  /// The session `id` ended: remember its close frame until `until`.
  void retire(const std::string& id, std::string close_frame, clock::time_point until);

  /// Forgets `id` at once (server stopping, or a session that never started).
  void erase(const std::string& id);

  /// Ids known (live or lately ended). For tests.
  std::size_t size();

 private:
  struct entry {
    std::weak_ptr<sockjs_session> live;
    std::string close_frame;
    clock::time_point until = clock::time_point::max();
  };

  lookup find_locked(const std::string& id, clock::time_point now);
  void purge_locked(clock::time_point now);

  std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::size_t purge_at_ = 64;  // purge ended entries when the table grows past this
};

}  // namespace transport::detail

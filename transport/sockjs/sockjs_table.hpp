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

/// Who sent a request, as far as a SockJS session can tell.
struct sockjs_client {
  std::string_view ip;      ///< the client IP, without the port: each request is a new socket
  std::string_view cookie;  ///< the session cookie the request presented; empty when none
};

/// The SockJS sessions of one server by session id. Holds live sessions weakly (a session is
/// kept alive by its own pending operations, like any connection) and, for a while after a
/// session ended, its close frame: later requests for that id get `c[...]` instead of a new
/// session. Each id is bound to the client that opened it (its IP and session cookie): the id
/// travels in URLs (proxy logs, Referer), so knowing it must not be enough to use it.
/// Thread-safe (one mutex; never held while calling into a session).
class sockjs_table {
 public:
  using clock = std::chrono::steady_clock;

  /// What an id names now, for the client asking.
  struct lookup {
    std::shared_ptr<sockjs_session> live;  ///< set when the session is open
    std::string close_frame;               ///< set when it ended lately: answer this
    bool foreign = false;                  ///< someone else's id: answer as if unknown
  };

  /// The session or tombstone for `id` if `who` owns it: from the IP that opened it and, once
  /// one of its requests presented the session cookie, with that cookie (a request presenting
  /// another cookie is foreign at any time). `foreign` when another client owns it; all empty
  /// when the id is unknown.
  lookup find(const std::string& id, const sockjs_client& who);

  /// find(), creating the session with `make` when the id is unknown (`created` is then set),
  /// bound to `who.ip` and `cookie` (the value the creating response sets).
  lookup find_or_create(const std::string& id, const sockjs_client& who, std::string cookie,
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
    std::string owner_ip;
    std::string cookie;        // the session cookie's value, set on the creating response
    bool cookie_seen = false;  // a request presented it: from now on every request must
  };

  lookup find_locked(const std::string& id, const sockjs_client& who, clock::time_point now);
  static bool owned_by_locked(entry& e, const sockjs_client& who);
  void purge_locked(clock::time_point now);

  std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::size_t purge_at_ = 64;  // purge ended entries when the table grows past this
};

}  // namespace transport::detail

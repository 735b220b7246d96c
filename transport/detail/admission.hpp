#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "transport/server.hpp"

namespace transport::detail {

class admission;

/// One place counted by admission (a socket from accept to close, or a SockJS session), held
/// by whoever holds the place and given back exactly once: when released or destroyed.
/// Move-only. Not thread-safe itself (one owner at a time); releasing is.
class admission_ticket {
 public:
  admission_ticket() = default;
  admission_ticket(std::shared_ptr<admission> from, std::string ip) noexcept
      : from_(std::move(from)), ip_(std::move(ip)) {}
  admission_ticket(admission_ticket&& o) noexcept = default;
  admission_ticket& operator=(admission_ticket&& o) noexcept;
  admission_ticket(const admission_ticket&) = delete;
  admission_ticket& operator=(const admission_ticket&) = delete;
  ~admission_ticket() { release(); }

  /// Gives the place back (no-op when empty, or when already released).
  void release() noexcept;
  /// True while it holds a place.
  explicit operator bool() const noexcept { return from_ != nullptr; }
  /// The client IP the place was counted for; empty while its per-IP count waits for the
  /// real client address (a socket from a trusted proxy, see admission::rekey).
  const std::string& ip() const noexcept { return ip_; }

 private:
  friend class admission;  // rekey() moves ip_
  std::shared_ptr<admission> from_;
  std::string ip_;
};

/// Counts the places taken, in total and per client IP, against server_config::max_connections
/// and max_connections_per_ip. Each place is an admission_ticket: only its holder gives it back,
/// so nothing can un-count someone else's place. Thread-safe (one mutex, one hash look-up).
/// Owned by a shared_ptr (tickets keep it alive).
class admission : public std::enable_shared_from_this<admission> {
 public:
  /// 0 = unlimited, for either.
  admission(std::size_t max_total, std::size_t max_per_ip) noexcept
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  /// Counts one place for `ip` into `ticket` unless a limit is reached: then returns which one,
  /// counts nothing and leaves `ticket` empty. An empty `ip` counts against max_connections
  /// only: the per-IP count waits for rekey() (a trusted proxy's socket, whose client is not
  /// known yet).
  std::optional<refusal> try_enter(const std::string& ip, admission_ticket& ticket);
  /// Moves the per-IP count of `ticket` (a place of this admission) to `ip`, the real client
  /// address, unless `ip` is at max_connections_per_ip: then returns the refusal and leaves
  /// the ticket as it was. No-op when it is already counted for `ip`.
  std::optional<refusal> rekey(admission_ticket& ticket, const std::string& ip);
  /// Places counted now.
  std::size_t total() const;

 private:
  friend class admission_ticket;
  void leave(const std::string& ip) noexcept;
  void forget_locked(const std::string& ip) noexcept;  // one place less for `ip`

  const std::size_t max_total_;
  const std::size_t max_per_ip_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;
};

}  // namespace transport::detail

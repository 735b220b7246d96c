#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "transport/server.hpp"

namespace transport::detail {

/// Counts the accepted connections, in total and per client IP, against
/// server_config::max_connections and max_connections_per_ip. A connection is known by its
/// remote "ip:port" (unique among open TCP connections), so whoever ends it can release it by
/// that name. Thread-safe (one mutex, held for two hash look-ups).
class admission {
 public:
  /// 0 = unlimited, for either.
  admission(std::size_t max_total, std::size_t max_per_ip) noexcept
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  /// Counts the connection `ip`:`remote` ("ip:port") unless a limit is reached: then returns
  /// which one and counts nothing.
  std::optional<refusal> try_enter(const std::string& ip, const std::string& remote);
  /// Releases the connection `remote` if it was counted (no-op otherwise, and when repeated).
  void leave(const std::string& remote);
  /// Connections counted now.
  std::size_t total() const;

 private:
  const std::size_t max_total_;
  const std::size_t max_per_ip_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> by_remote_;  // "ip:port" -> ip
  std::unordered_map<std::string, std::size_t> per_ip_;
};

}  // namespace transport::detail

#pragma once
// Opening a connection, the same for the cluster link and the Redis store: (Sentinel: ask the
// sentinels, in order, for the master) -> connect -> TLS -> AUTH [user] password -> SELECT db
// (when not 0) -> (Sentinel: ROLE must be master).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "cluster/redis/stream.hpp"

namespace cluster::redis {

/// An open connection, or why not.
struct opened {
  std::shared_ptr<stream> conn;  ///< null when it failed
  address where;                 ///< the server (the master in Sentinel mode)
  address sentinel;              ///< Sentinel mode: the sentinel that answered
  std::error_code ec;            ///< why it failed
  std::string reason;            ///< for the log: "refused AUTH: WRONGPASS ...", "TLS: ..."
};

/// Opens a connection as `o` says; each server's connect, TLS and login bounded by `timeout`.
/// `tls` null = plain (the caller built it once with make_tls_context). `current` (if not null)
/// always names the stream being used, so that the owner can close() it to abandon the
/// attempt; with `abandoned` (if not null) set too, no further server is tried. Runs on `ex`.
boost::asio::awaitable<opened> open(boost::asio::any_io_executor ex, const options& o,
                                    std::shared_ptr<boost::asio::ssl::context> tls,
                                    std::chrono::milliseconds timeout,
                                    std::weak_ptr<stream>* current,
                                    const bool* abandoned = nullptr);

/// Logs a failure to open (warn), once: not again while the same text repeats, from any
/// connection, until log_opened. Thread-safe.
void log_open_failure(std::string_view who, const opened& o);
/// Logs a successful open (info) and forgets the last failure. Thread-safe.
void log_opened(std::string_view who, const opened& o);
/// Forgets the last failure without a log line (the caller logs its own). Thread-safe.
void forget_open_failure();

}  // namespace cluster::redis

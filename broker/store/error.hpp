#pragma once

#include <system_error>

namespace broker::store {

/// Why a store operation failed. Engine-neutral: each adapter maps its own codes to these.
enum class error {
  disk_full = 1,  ///< No space left (SQLITE_FULL, ENOSPC, the page limit): retry after freeing.
  read_only,      ///< The database or its directory cannot be written.
  io_error,       ///< The device failed, the file is corrupt or cannot be opened.
  busy,           ///< Another process holds the database lock past the busy timeout.
  closed,         ///< The store is shutting down; nothing was stored.
  failed,         ///< Any other engine error (the log line carries the engine's message).
  unavailable,    ///< The store server (Redis) cannot be reached or the connection dropped.
  timed_out,      ///< No reply within the command timeout: the outcome is unknown, so the
                  ///< operation is reported failed (a retry may duplicate, never lose).
  not_supported,  ///< This store does not offer the operation (e.g. summarize on Redis).
  too_few_replicas,  ///< Stored on the primary, but fewer replicas than required (min_replicas)
                     ///< confirmed it in time: reported failed (a retry may duplicate).
};

/// The "broker.store" error category.
const std::error_category& category() noexcept;

/// Makes `e` an error_code of category().
std::error_code make_error_code(error e) noexcept;

}  // namespace broker::store

template <>
struct std::is_error_code_enum<broker::store::error> : std::true_type {};

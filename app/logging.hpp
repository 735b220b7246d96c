#pragma once

#include <memory>
#include <string>

#include <spdlog/formatter.h>

namespace app {

/// An spdlog formatter writing one JSON object per line, for log shippers (Loki, Elastic,
/// CloudWatch): {"time":"2024-05-01T12:00:00.123Z","level":"info","thread":123,
/// "message":"..."}. Time in UTC with milliseconds; the message is escaped as JSON requires
/// (quotes, backslashes, control characters as \uXXXX; bytes that are not UTF-8 become U+FFFD,
/// so a peer's bytes quoted in a message never break the line). Thread-safe as spdlog uses it.
class json_log_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

/// Appends `text` to `out` as the inside of a JSON string (no quotes added). Pure.
void append_json_escaped(std::string_view text, std::string& out);

/// Sets the default logger's level ("info", ...) and format: "text" (spdlog's default pattern)
/// or "json" (json_log_formatter). Throws std::invalid_argument for another format. Start-up.
void setup_logging(const std::string& format, const std::string& level);

}  // namespace app

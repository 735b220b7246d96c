#pragma once
// What the code under test logs through spdlog's default logger, for tests that assert a log
// line. Link stompbox_log_capture: it brings spdlog's compiled library, so that the test and the
// code under test share one logger registry (a header-only spdlog in the test has its own).

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace test_support {

/// While it lives, the default logger keeps the last `lines` lines here; the previous default
/// logger is back once it is gone.
class log_capture {
 public:
  explicit log_capture(std::size_t lines = 200)
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(lines)),
        previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink_));
  }
  ~log_capture() { spdlog::set_default_logger(previous_); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  /// The captured lines containing `text`, oldest first.
  std::vector<std::string> lines_with(const std::string& text) const {
    std::vector<std::string> out;
    for (auto& line : sink_->last_formatted())
      if (line.find(text) != std::string::npos) out.push_back(std::move(line));
    return out;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace test_support

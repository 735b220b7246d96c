#include "stomp/error.hpp"

#include <string>

namespace stomp {
namespace {

class stomp_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "stomp"; }

  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::invalid_command:
        return "invalid command";
      case error::unknown_command:
        return "unknown command";
      case error::header_missing_colon:
        return "header line without ':'";
      case error::header_empty_name:
        return "header with an empty name";
      case error::invalid_escape:
        return "undefined escape sequence in header";
      case error::invalid_content_length:
        return "content-length is not a decimal number";
      case error::missing_nul:
        return "frame body not followed by NUL";
      case error::command_too_long:
        return "command line too long";
      case error::header_line_too_long:
        return "header line too long";
      case error::too_many_headers:
        return "too many headers";
      case error::body_too_large:
        return "body too large";
      case error::frame_too_large:
        return "frame too large";
    }
    return "unknown stomp error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const stomp_category instance;
  return instance;
}

std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), category()}; }

bool is_limit_error(std::error_code ec) noexcept {
  if (ec.category() != category()) return false;
  return ec.value() >= static_cast<int>(error::command_too_long) &&
         ec.value() <= static_cast<int>(error::frame_too_large);
}

}  // namespace stomp

#include "transport/sockjs/sockjs_receiver.hpp"

#include <fmt/format.h>

namespace transport::detail {

namespace {

// xhr_streaming starts with 2048 'h' and a newline: some browsers deliver nothing of a
// streamed XHR response before its first 2 KiB (sockjs-protocol, "XhrStreaming").
constexpr std::size_t prelude_bytes = 2048;

}  // namespace

sockjs_receiver::sockjs_receiver(kind k, std::shared_ptr<sockjs_stream> stream, std::string head,
                                 std::size_t byte_limit)
    : kind_(k), stream_(std::move(stream)), head_(std::move(head)), byte_limit_(byte_limit) {}

std::string sockjs_receiver::format(std::string_view frame) {
  std::string out;
  if (kind_ == kind::polling) {
    // One frame per poll: the length is known, so the response is not close-delimited.
    out = fmt::format("{}Content-Length: {}\r\n\r\n{}\n", head_, frame.size() + 1, frame);
    head_.clear();
    sent_ += frame.size() + 1;
    return out;
  }
  if (!head_.empty()) {
    // Streams have no length: they end when the connection closes (Connection: close).
    out = std::move(head_) + "\r\n";
    head_.clear();
    if (kind_ == kind::streaming) out.append(prelude_bytes, 'h').append("\n");
    else out.append("\r\n");
  }
  const auto before = out.size();
  if (kind_ == kind::streaming) {
    out.append(frame).append("\n");
  } else {
    out.append("data: ").append(frame).append("\r\n\r\n");
  }
  sent_ += out.size() - before;
  return out;
}

bool sockjs_receiver::ends_after_last() const noexcept {
  return kind_ == kind::polling || sent_ >= byte_limit_;
}

}  // namespace transport::detail

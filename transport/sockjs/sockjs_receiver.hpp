#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "transport/sockjs/sockjs_stream.hpp"

namespace transport::detail {

/// One HTTP response a SockJS session writes frames into: an xhr poll (one frame, then the
/// response ends), an xhr_streaming response (a 2 KiB prelude, then frames until the byte
/// limit) or an eventsource stream (`data: <frame>` events until the byte limit). Formats the
/// bytes only; the session does the writing. Strand of the session holding it only.
class sockjs_receiver {
 public:
  enum class kind { polling, streaming, eventsource };

  /// `head`: the status line and headers, without the blank line ending them.
  sockjs_receiver(kind k, std::shared_ptr<sockjs_stream> stream, std::string head,
                  std::size_t byte_limit);

  /// The bytes that carry `frame` ("o", "h", "a[...]", "c[...]"): the response head and
  /// prelude first, then the frame as this transport encloses it.
  std::string format(std::string_view frame);

  /// True when the response must end after the frame last formatted: always for a poll; for
  /// streams once byte_limit bytes have been sent (the client then opens a new one, so that
  /// browsers do not keep a whole session's traffic in one response object).
  bool ends_after_last() const noexcept;

  sockjs_stream& stream() noexcept { return *stream_; }
  kind what() const noexcept { return kind_; }

 private:
  kind kind_;
  std::shared_ptr<sockjs_stream> stream_;
  std::string head_;  // emptied once written
  std::size_t byte_limit_;
  std::size_t sent_ = 0;
};

}  // namespace transport::detail

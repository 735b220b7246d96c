// DISCONNECT (STOMP 1.2 §DISCONNECT): every earlier frame has already taken effect (frames run in
// order on the strand), so the RECEIPT can go now; the transport flushes it before closing.
#include "broker/detail/stomp_session.hpp"

namespace broker::detail {

void stomp_session::handle_disconnect(const stomp::frame& f) {
  send_receipt(f);
  state_ = state::closing;
  if (auto conn = conn_.lock()) conn->close(close_reason::normal);
}

}  // namespace broker::detail

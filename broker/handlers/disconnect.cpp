// DISCONNECT (STOMP 1.2 §DISCONNECT): the RECEIPT says every earlier frame has taken effect.
// Frames run in order on the strand, so it can go now, unless durable SENDs still wait for the
// store: then it goes (and the session closes) once the last of them is committed.
#include "broker/detail/stomp_session.hpp"

namespace broker::detail {

void stomp_session::handle_disconnect(const stomp::frame& f) {
  if (!rare().unsettled_stores.empty()) {
    rare().deferred_disconnect = f;
    state_ = state::closing;  // read nothing more
    return;
  }
  disconnect(f);
}

void stomp_session::disconnect(const stomp::frame& f) {
  send_receipt(f);
  state_ = state::closing;
  if (auto conn = conn_.lock()) conn->close(close_reason::normal);
}

}  // namespace broker::detail

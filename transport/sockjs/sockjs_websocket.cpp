#include "transport/sockjs/sockjs_websocket.hpp"

#include "transport/sockjs/sockjs_frame.hpp"

namespace transport::detail {

sockjs_websocket::sockjs_websocket(boost::asio::any_io_executor strand,
                                   std::chrono::milliseconds heartbeat)
    : timer_(std::move(strand)), heartbeat_(heartbeat) {}

void sockjs_websocket::start_heartbeat(std::weak_ptr<void> owner, std::function<void()> tick) {
  owner_ = std::move(owner);
  tick_ = std::move(tick);
  if (heartbeat_.count() > 0) arm();
}

void sockjs_websocket::arm() {
  timer_.expires_after(heartbeat_);
  // Holds the owner weakly: the timer must not keep a closed connection alive, and `this`
  // is only touched while the owner (which holds this object) is.
  timer_.async_wait([this, owner = owner_](const boost::system::error_code& ec) {
    const auto keep = owner.lock();
    if (ec || !keep) return;
    tick_();
    arm();
  });
}

broker::outgoing sockjs_websocket::wrap(const broker::outgoing& frame) {
  broker::outgoing out{sockjs_message_frame(frame), nullptr, true, frame.droppable};
  out.written_mark = frame.written_mark;
  return out;
}

bool sockjs_websocket::unwrap(std::string_view message, std::vector<std::string>& out) {
  if (message.empty()) return true;  // sockjs-node ignores empty messages too
  return parse_sockjs_messages(message, out);
}

broker::outgoing sockjs_websocket::control(std::string frame) {
  return broker::outgoing{std::move(frame), nullptr, true, false};
}

}  // namespace transport::detail

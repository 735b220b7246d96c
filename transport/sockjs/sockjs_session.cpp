#include "transport/sockjs/sockjs_session.hpp"

#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "broker/printable.hpp"
#include "transport/detail/server_state.hpp"
#include "transport/sockjs/sockjs_frame.hpp"

namespace transport::detail {

namespace net = boost::asio;
using error_code = boost::system::error_code;

std::shared_ptr<sockjs_session> sockjs_session::create(const std::shared_ptr<server_state>& server,
                                                       std::string id,
                                                       const broker::peer_info& peer) {
  return std::make_shared<sockjs_session>(net::make_strand(server->connection_loop()), server, std::move(id),
                                          peer);
}

sockjs_session::sockjs_session(net::any_io_executor strand,
                               const std::shared_ptr<server_state>& server, std::string id,
                               const broker::peer_info& peer)
    : connection_base(strand, server, "sockjs", peer.remote),
      strand_(strand),
      id_(std::move(id)),
      sockjs_timer_(strand) {
  mutable_peer().bearer_token = peer.bearer_token;
}

std::shared_ptr<sockjs_session> sockjs_session::self() {
  return std::static_pointer_cast<sockjs_session>(shared_from_this());
}

void sockjs_session::attach(std::shared_ptr<sockjs_receiver> r) {
  net::post(strand_, [self = self(), r = std::move(r)]() mutable { self->on_attach(std::move(r)); });
}

void sockjs_session::receive(std::vector<std::string> messages) {
  net::post(strand_, [self = self(), messages = std::move(messages)]() mutable {
    self->on_receive(std::move(messages));
  });
}

void sockjs_session::on_receive(std::vector<std::string> messages) {
  for (auto& m : messages) {
    held_bytes_ += m.size();
    held_.push_back(std::move(m));
  }
  // Over the cap the peer ignores back-pressure: hand everything over, in order.
  if (may_read() || held_bytes_ > max_pending_bytes()) {
    while (!held_.empty()) {
      const std::string m = std::move(held_.front());
      held_.pop_front();
      held_bytes_ -= m.size();
      deliver_read(m);  // ignored once closing
    }
  }
}

// Flow control resumed: held messages go to the session in order until it pauses again.
void sockjs_session::restart_read() {
  while (!held_.empty() && may_read()) {
    const std::string m = std::move(held_.front());
    held_.pop_front();
    held_bytes_ -= m.size();
    deliver_read(m);
  }
}

void sockjs_session::close(broker::close_reason why) {
  close_requested_ = true;
  connection_base::close(why);
  // Stopping: nobody may poll again to collect the rest, so do not wait for close_timeout.
  if (server().stopping() && !receiver_ && !finished_) finish(why);
}

// No handshake of our own: the request that created the session was it.
void sockjs_session::run() {
  detached_at_ = clock::now();
  open_session();
  arm_timer();
}

std::size_t sockjs_session::max_pending_bytes() const noexcept {
  return server().config.sockjs_max_buffered_bytes;
}

void sockjs_session::on_attach(std::shared_ptr<sockjs_receiver> r) {
  if (finished_) return answer_once(r, close_frame_);
  if (receiver_) return answer_once(r, sockjs_close_frame(2010, "Another connection still open"));
  receiver_ = std::move(r);
  const auto gen = ++receiver_gen_;
  receiver_->stream().watch(strand_, [self = self(), gen](const error_code&) {
    // The client closed its side (or the stream was ended here): the response is gone.
    if (self->receiver_gen_ == gen && self->receiver_ && !self->finished_) self->detach();
  });
  last_frame_ = clock::now();
  arm_timer();
  if (!open_sent_) {
    open_sent_ = true;
    return write_frame(std::string(sockjs_open_frame));
  }
  pump();
}

// Sends what is due to the attached response, if it is free: queued frames first, then the
// close frame once connection_base has asked for the shutdown.
void sockjs_session::pump() {
  if (finished_ || !receiver_ || writing_) return;
  if (!queue_.empty()) {
    if (in_flight_ == 0) start_write();
    return;
  }
  if (shutdown_pending_) {
    shutdown_pending_ = false;
    closing_write_ = true;
    write_frame(sockjs_close_frame(reason()));
  }
}

// Every queued frame leaves in one `a[...]` frame; without a response they wait for the next.
void sockjs_session::start_write() {
  if (finished_ || !receiver_ || writing_) return;
  std::string frame = "a[";
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    if (i > 0) frame += ',';
    append_sockjs_string(frame, queue_[i]);
  }
  frame += ']';
  in_flight_ = queue_.size();
  writing_frames_ = true;
  write_frame(std::move(frame));
}

void sockjs_session::start_shutdown() {
  shutdown_pending_ = true;
  pump();
}

void sockjs_session::write_frame(std::string frame) {
  writing_ = true;
  last_frame_ = clock::now();
  auto r = receiver_;
  auto bytes = r->format(frame);
  const bool last = r->ends_after_last();
  r->stream().write(std::move(bytes), strand_,
                    [self = self(), r, last](const error_code& ec) {
                      self->on_frame_written(r, last, ec);
                    });
}

void sockjs_session::on_frame_written(const std::shared_ptr<sockjs_receiver>& r, bool last,
                                      const error_code& ec) {
  writing_ = false;
  const bool frames = std::exchange(writing_frames_, false);
  const bool closing = std::exchange(closing_write_, false);
  if (finished_) return;  // cut() has ended the response already
  if ((ec || last || closing) && receiver_ == r) detach();
  if (closing) return finish(reason());
  if (frames) {
    // Not delivered: keep them for the next response rather than lose them.
    if (ec) in_flight_ = 0;
    on_write_done({});  // pops the written frames; may start the next write or the shutdown
  }
  pump();
}

void sockjs_session::detach() {
  receiver_->stream().end(server().config.close_timeout);
  receiver_.reset();
  ++receiver_gen_;
  detached_at_ = clock::now();
  arm_timer();
}

// A response that arrives when it cannot be the session's: one frame, then it ends.
void sockjs_session::answer_once(const std::shared_ptr<sockjs_receiver>& r,
                                 const std::string& frame) {
  auto bytes = r->format(frame);
  r->stream().write(std::move(bytes), strand_,
                    [r, grace = server().config.close_timeout](const error_code&) {
                      r->stream().end(grace);
                    });
}

// One timer: the heart-beat deadline while a response is attached, the session timeout while
// none is. Writes only move last_frame_; on_timer re-checks and re-arms.
void sockjs_session::arm_timer() {
  if (finished_) return;
  const auto& cfg = server().config;
  const auto next = receiver_ ? last_frame_ + cfg.sockjs_heartbeat
                              : detached_at_ + cfg.sockjs_session_timeout;
  sockjs_timer_.expires_at(next);
  sockjs_timer_.async_wait([self = self()](const error_code& ec) {
    if (!ec) self->on_timer();
  });
}

void sockjs_session::on_timer() {
  if (finished_) return;
  const auto now = clock::now();
  const auto& cfg = server().config;
  if (!receiver_ && now >= detached_at_ + cfg.sockjs_session_timeout) return expire();
  if (receiver_ && now >= last_frame_ + cfg.sockjs_heartbeat && !writing_) {
    write_frame(std::string(sockjs_heartbeat_frame));
  }
  arm_timer();
}

// The client stopped polling: what was buffered for it will never be read.
void sockjs_session::expire() {
  const auto dropped = queue_.size();
  if (dropped > 0) {
    shared_server()->counters.dropped_frames.fetch_add(dropped, std::memory_order_relaxed);
  }
  spdlog::info("{} sockjs session {} timed out ({} frames dropped)", peer().remote,
               broker::printable(id_), dropped);
  finish(close_requested_ ? reason() : broker::close_reason::peer_gone);
}

void sockjs_session::cut() noexcept {
  if (finished_) return;
  finished_ = true;
  sockjs_timer_.cancel();
  if (receiver_) {
    receiver_->stream().end(server().config.close_timeout);
    receiver_.reset();
    ++receiver_gen_;
  }
  close_frame_ = sockjs_close_frame(reason());  // for responses already on their way here
  auto& table = shared_server()->sockjs;
  if (server().stopping()) {
    table.erase(id_);
    return;
  }
  // Later requests for this id learn how it ended rather than opening a new session.
  table.retire(id_, close_frame_, clock::now() + server().config.sockjs_session_timeout);
}

}  // namespace transport::detail

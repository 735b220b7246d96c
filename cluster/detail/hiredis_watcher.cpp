#include "cluster/detail/hiredis_watcher.hpp"

#include <boost/asio/bind_executor.hpp>
#include <hiredis/async.h>

namespace cluster::detail {

std::shared_ptr<hiredis_watcher> hiredis_watcher::attach(redisAsyncContext* ac,
                                                         strand_type strand) {
  auto w = std::make_shared<hiredis_watcher>(ac, std::move(strand));
  w->keep_ = w;  // until cleanup: hiredis keeps ev.data as a raw pointer
  ac->ev.data = w.get();
  ac->ev.addRead = &hiredis_watcher::add_read;
  ac->ev.delRead = &hiredis_watcher::del_read;
  ac->ev.addWrite = &hiredis_watcher::add_write;
  ac->ev.delWrite = &hiredis_watcher::del_write;
  ac->ev.cleanup = &hiredis_watcher::cleanup;
  return w;
}

hiredis_watcher::hiredis_watcher(redisAsyncContext* ac, strand_type strand)
    : ac_(ac), strand_(strand), socket_(strand, ac->c.fd) {}

// hiredis expects level-triggered, persistent interest (like libevent's EV_PERSIST): a wait is
// re-armed after each readiness until the matching del hook runs.
void hiredis_watcher::add_read(void* self) {
  auto* w = static_cast<hiredis_watcher*>(self);
  w->want_read_ = true;
  if (!w->read_armed_) w->arm_read();
}

void hiredis_watcher::del_read(void* self) { static_cast<hiredis_watcher*>(self)->want_read_ = false; }

void hiredis_watcher::add_write(void* self) {
  auto* w = static_cast<hiredis_watcher*>(self);
  w->want_write_ = true;
  if (!w->write_armed_) w->arm_write();
}

void hiredis_watcher::del_write(void* self) {
  static_cast<hiredis_watcher*>(self)->want_write_ = false;
}

// The context is being freed (it closes the fd itself): forget it, give the fd back.
void hiredis_watcher::cleanup(void* self) {
  auto* w = static_cast<hiredis_watcher*>(self);
  const auto last = std::move(w->keep_);  // pending waits still hold their own reference
  w->ac_ = nullptr;
  w->want_read_ = w->want_write_ = false;
  boost::system::error_code ignored;
  w->socket_.cancel(ignored);
  w->socket_.release();
}

void hiredis_watcher::arm_read() {
  read_armed_ = true;
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     boost::asio::bind_executor(strand_, [self = shared_from_this()](
                                                             const boost::system::error_code& ec) {
                       self->read_armed_ = false;
                       if (ec || !self->ac_ || !self->want_read_) return;
                       redisAsyncHandleRead(self->ac_);  // may free the context (cleanup)
                       if (self->ac_ && self->want_read_ && !self->read_armed_) self->arm_read();
                     }));
}

void hiredis_watcher::arm_write() {
  write_armed_ = true;
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                     boost::asio::bind_executor(strand_, [self = shared_from_this()](
                                                             const boost::system::error_code& ec) {
                       self->write_armed_ = false;
                       if (ec || !self->ac_ || !self->want_write_) return;
                       redisAsyncHandleWrite(self->ac_);
                       if (self->ac_ && self->want_write_ && !self->write_armed_) self->arm_write();
                     }));
}

}  // namespace cluster::detail

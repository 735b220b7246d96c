#pragma once
// The Asio adapter for hiredis' async API: hiredis asks for read/write readiness through its
// ev.addRead/delRead/addWrite/delWrite hooks; we wait on its socket with a
// posix::stream_descriptor (async_wait, never a read: hiredis reads itself) and call
// redisAsyncHandleRead/Write on the strand. hiredis owns the descriptor: cleanup() releases it
// from Asio without closing it.

#include <memory>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace cluster::detail {

/// Watches one redisAsyncContext's socket. Lives in a shared_ptr (pending waits hold it); used
/// only on `strand`. After hiredis' cleanup hook (context freed) every pending wait is a no-op.
class hiredis_watcher : public std::enable_shared_from_this<hiredis_watcher> {
 public:
  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;

  /// Installs the hooks on `ac` (its fd must exist). `ac` must not have hooks yet.
  static std::shared_ptr<hiredis_watcher> attach(redisAsyncContext* ac, strand_type strand);

  hiredis_watcher(redisAsyncContext* ac, strand_type strand);

 private:
  static void add_read(void* self);
  static void del_read(void* self);
  static void add_write(void* self);
  static void del_write(void* self);
  static void cleanup(void* self);

  void arm_read();
  void arm_write();

  redisAsyncContext* ac_;
  strand_type strand_;
  boost::asio::posix::stream_descriptor socket_;
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
  std::shared_ptr<hiredis_watcher> keep_;  // held while attached: hiredis holds a raw pointer
};

}  // namespace cluster::detail

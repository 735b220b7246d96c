#pragma once

namespace transport::detail {

/// One file descriptor held in reserve (/dev/null), so that when accept() fails for lack of
/// descriptors (EMFILE/ENFILE) the listener can free it, accept the waiting peer, refuse it
/// cleanly and take the reserve back, instead of leaving the peer hanging in the backlog while
/// the listener retries [the classic trick of libev's and libuv's authors]. Not thread-safe: one
/// per listener, used on its strand.
class fd_reserve {
 public:
  /// Opens the reserve (a failure is not an error: held() is then false).
  fd_reserve() noexcept;
  ~fd_reserve();
  fd_reserve(const fd_reserve&) = delete;
  fd_reserve& operator=(const fd_reserve&) = delete;

  /// Closes the reserve, making one descriptor free. False when none was held.
  bool release() noexcept;
  /// Opens the reserve again. False when it could not (still out of descriptors).
  bool restore() noexcept;
  /// True while a descriptor is held.
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace transport::detail

#include "transport/detail/fd_reserve.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace transport::detail {

fd_reserve::fd_reserve() noexcept { restore(); }

fd_reserve::~fd_reserve() { release(); }

bool fd_reserve::release() noexcept {
  if (fd_ < 0) return false;
  ::close(fd_);
  fd_ = -1;
  return true;
}

bool fd_reserve::restore() noexcept {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd_ >= 0;
}

}  // namespace transport::detail

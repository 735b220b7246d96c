#include "broker/version.hpp"

namespace broker {

const char* version() noexcept { return STOMPBOX_VERSION; }

}  // namespace broker

#include "stomp/version.hpp"

namespace stomp {

std::string_view to_string(version v) noexcept {
  switch (v) {
    case version::v1_0:
      return "1.0";
    case version::v1_1:
      return "1.1";
    case version::v1_2:
      return "1.2";
  }
  return "1.0";
}

}  // namespace stomp

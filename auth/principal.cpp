#include <algorithm>

#include "auth/authenticator.hpp"

namespace auth {

bool principal::has_role(std::string_view role) const noexcept {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

}  // namespace auth

#include "transport/detail/subprotocol.hpp"

#include <array>

namespace transport::detail {

namespace {

constexpr std::array<std::string_view, 4> server_order{"v12.stomp", "v11.stomp", "v10.stomp",
                                                       "stomp"};

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string_view> split_tokens(std::string_view value) {
  std::vector<std::string_view> tokens;
  while (!value.empty()) {
    auto comma = value.find(',');
    auto token = trim(value.substr(0, comma));
    if (!token.empty()) tokens.push_back(token);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return tokens;
}

std::string_view select_subprotocol(const std::vector<std::string_view>& offered) noexcept {
  std::size_t best = server_order.size();
  for (auto line : offered) {
    // split_tokens allocates; walk the list by hand to stay noexcept.
    while (!line.empty()) {
      auto comma = line.find(',');
      auto token = trim(line.substr(0, comma));
      for (std::size_t i = 0; i < best; ++i) {
        if (token == server_order[i]) {
          best = i;
          break;
        }
      }
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
  }
  return best < server_order.size() ? server_order[best] : std::string_view{};
}

}  // namespace transport::detail

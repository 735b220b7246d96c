#include "stomp/frame.hpp"

#include <algorithm>
#include <utility>

namespace stomp {

std::optional<std::string_view> frame::get(std::string_view name) const noexcept {
  for (const header& h : headers) {
    if (h.name == name) return std::string_view(h.value);
  }
  return std::nullopt;
}

void frame::set(std::string name, std::string value) {
  for (header& h : headers) {
    if (h.name == name) {
      h.value = std::move(value);
      return;
    }
  }
  headers.push_back({std::move(name), std::move(value)});
}

void frame::add(std::string name, std::string value) {
  headers.push_back({std::move(name), std::move(value)});
}

void frame::erase(std::string_view name) {
  std::erase_if(headers, [name](const header& h) { return h.name == name; });
}

}  // namespace stomp

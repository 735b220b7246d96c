#include "broker/store/error.hpp"

#include <string>

namespace broker::store {
namespace {

class store_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "broker.store"; }

  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::disk_full: return "store: disk full";
      case error::read_only: return "store: read-only";
      case error::io_error: return "store: I/O error";
      case error::busy: return "store: database busy";
      case error::closed: return "store: closed";
      case error::failed: return "store: operation failed";
      case error::unavailable: return "store: server unreachable";
      case error::timed_out: return "store: no reply within the command timeout";
      case error::not_supported: return "store: not available with this store";
      case error::too_few_replicas: return "store: too few replicas confirmed the write in time";
    }
    return "store: unknown error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const store_category instance;
  return instance;
}

std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace broker::store

#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/store/store.hpp"
#include "broker/summary.hpp"

namespace broker::detail {

/// The store's queues ("alice/queue/orders", see user_router::store_key) grouped by owner,
/// the owner percent-decoded as in a destination; most messages first, at most `max`. Pure.
std::vector<inbox_summary> group_inboxes(const std::vector<store::queue_summary>& queues,
                                         std::size_t max);

/// The store keys among `queues` that belong to `user` (decoded name). Pure.
std::vector<std::string> queues_of(const std::vector<store::queue_summary>& queues,
                                   std::string_view user);

/// Purges `queues` one after the other (store::purge_async), then calls `done` once with the
/// total removed, or at the first error. Kept alive by the store's pending completion.
class inbox_purge : public std::enable_shared_from_this<inbox_purge> {
 public:
  using done_fn = std::function<void(std::uint64_t removed, std::error_code ec)>;
  inbox_purge(std::shared_ptr<store::store> s, std::vector<std::string> queues, done_fn done)
      : store_(std::move(s)), left_(std::move(queues)), done_(std::move(done)) {}

  /// Purges the next queue, or reports when none is left.
  void next();

 private:
  std::shared_ptr<store::store> store_;
  std::vector<std::string> left_;
  done_fn done_;
  std::uint64_t removed_ = 0;
};

}  // namespace broker::detail

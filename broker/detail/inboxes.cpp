#include "broker/detail/inboxes.hpp"

#include <algorithm>
#include <map>

#include "broker/destination.hpp"

namespace broker::detail {

namespace {

// The key is a user destination without its "/user/" prefix: the one parser decodes the owner.
std::string owner_of(const std::string& key) {
  destination d;
  if (parse_destination("/user/" + key, d) || !d.is_user()) return {};
  return d.owner;
}

}  // namespace

std::vector<inbox_summary> group_inboxes(const std::vector<store::queue_summary>& queues,
                                         std::size_t max) {
  std::map<std::string, inbox_summary> by_user;
  for (const auto& q : queues) {
    const std::string user = owner_of(q.queue);
    if (user.empty()) continue;
    auto& inbox = by_user[user];
    inbox.user = user;
    if (inbox.messages == 0 || q.oldest_stored_at_ms < inbox.oldest_stored_at_ms) {
      inbox.oldest_stored_at_ms = q.oldest_stored_at_ms;
    }
    inbox.messages += q.messages;
    ++inbox.queues;
  }
  std::vector<inbox_summary> out;
  out.reserve(by_user.size());
  for (auto& [user, inbox] : by_user) out.push_back(std::move(inbox));
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.messages > b.messages; });
  if (out.size() > max) out.resize(max);
  return out;
}

std::vector<std::string> queues_of(const std::vector<store::queue_summary>& queues,
                                   std::string_view user) {
  std::vector<std::string> out;
  for (const auto& q : queues) {
    if (owner_of(q.queue) == user) out.push_back(q.queue);
  }
  return out;
}

void inbox_purge::next() {
  if (left_.empty()) return done_(removed_, {});
  std::string q = std::move(left_.back());
  left_.pop_back();
  store_->purge_async(std::move(q), [self = shared_from_this()](std::uint64_t n,
                                                                std::error_code ec) {
    self->removed_ += n;
    if (ec) return self->done_(self->removed_, ec);
    self->next();
  });
}

}  // namespace broker::detail

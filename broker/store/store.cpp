#include "broker/store/store.hpp"

#include <memory>
#include <utility>

#include "broker/store/error.hpp"

namespace broker::store {

namespace {

constexpr std::size_t purge_page = 1000;

/// One purge in progress: loads a page after `cursor`, removes it, goes on until a short page.
struct purge_run : std::enable_shared_from_this<purge_run> {
  purge_run(store& s, std::string q, store::purge_handler d)
      : owner(s), queue(std::move(q)), done(std::move(d)) {}

  void next() {
    owner.load_async(queue, cursor, purge_page,
                     [self = shared_from_this()](std::vector<stored_message> page,
                                                 std::error_code ec) {
                       self->on_page(std::move(page), ec);
                     });
  }

  void on_page(std::vector<stored_message> page, std::error_code ec) {
    for (const auto& m : page) {
      owner.remove(queue, m.seq);
      cursor = m.seq;
      ++removed;
    }
    if (ec || page.size() < purge_page) return done(removed, ec);
    next();  // the removes above are already hidden from this load
  }

  store& owner;
  std::string queue;
  store::purge_handler done;
  std::uint64_t cursor = 0;
  std::uint64_t removed = 0;
};

}  // namespace

void store::summarize_async(std::size_t, summary_handler done) {
  done({}, error::not_supported);
}

void store::purge_async(std::string queue, purge_handler done) {
  std::make_shared<purge_run>(*this, std::move(queue), std::move(done))->next();
}

}  // namespace broker::store

#include "broker/broker.hpp"

#include <spdlog/spdlog.h>

#include "broker/detail/broker_core.hpp"
#include "broker/detail/stomp_session.hpp"
#include "broker/error.hpp"

namespace broker {

struct broker::impl {
  explicit impl(config c) : core(std::move(c)) {}
  detail::broker_core core;
};

broker::broker(config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {}

broker::~broker() = default;

std::shared_ptr<session> broker::open_session(std::shared_ptr<connection> conn) {
  return std::make_shared<detail::stomp_session>(impl_->core, conn);
}

std::string broker::publish(stomp::frame send) {
  destination d;
  const auto header = send.get("destination");
  const std::string raw(header.value_or(""));  // `send` is moved below
  std::error_code ec = header ? parse_destination(raw, d) : error::missing_destination;
  if (!ec && d.wildcard) ec = error::wildcard_send;
  message_ptr m;
  if (!ec) ec = make_message(std::move(send), d, impl_->core.message_ids.next(), m);
  if (!ec) ec = impl_->core.reg.route(m);
  if (ec) {
    spdlog::info("publish to \"{}\" refused: {}", raw, ec.message());
    return {};
  }
  return m->id;
}

const config& broker::settings() const noexcept { return impl_->core.cfg; }

}  // namespace broker

#include "transport/detail/fail.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <spdlog/spdlog.h>

namespace transport::detail {

bool is_expected(const boost::system::error_code& ec) noexcept {
  namespace net = boost::asio;
  namespace beast = boost::beast;
  // stream_truncated: the peer closed TLS without close_notify, which browsers do routinely
  // (Beast's advanced server explains why it is not an error worth logging).
  return ec == net::error::operation_aborted || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::not_connected || ec == net::error::bad_descriptor ||
         ec == net::ssl::error::stream_truncated || ec == beast::websocket::error::closed ||
         ec == beast::http::error::end_of_stream || ec == beast::error::timeout;
}

void fail(const boost::system::error_code& ec, std::string_view what, std::string_view peer) {
  if (is_expected(ec)) {
    spdlog::debug("{} {}: {}", peer, what, ec.message());
    return;
  }
  spdlog::warn("{} {}: {}", peer, what, ec.message());
}

}  // namespace transport::detail

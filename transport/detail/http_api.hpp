#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "transport/sockjs/sockjs_stream.hpp"

namespace transport::detail {

class server_state;

/// True when `path` is `prefix` itself or lies under it ("/api", "/api/v1/publish"; not
/// "/apix"). Pure.
bool is_api_path(std::string_view path, std::string_view prefix) noexcept;

/// Serves one request under server_config::api_path (the publish API, see api_request.hpp):
/// checks path, method and size from the head, reads the JSON body (answering
/// `Expect: 100-continue`), calls broker::api_publish and writes its answer as JSON, then
/// closes (one request per connection). `head` has read the request head only; `stream`
/// holds the socket and any bytes read past it. Runs on `strand`; the broker's completion,
/// which may run on the store's writer thread, is posted back to it. The whole exchange is
/// bounded by server_config::handshake_timeout.
void serve_api_http(const std::shared_ptr<server_state>& server,
                    boost::beast::http::request_parser<boost::beast::http::empty_body>&& head,
                    std::shared_ptr<sockjs_stream> stream, boost::asio::any_io_executor strand,
                    std::string remote);

}  // namespace transport::detail

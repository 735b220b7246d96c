#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "transport/sockjs/sockjs_frame.hpp"
#include "transport/sockjs/sockjs_stream.hpp"

namespace transport::detail {

class server_state;

/// Serves one HTTP request under the SockJS prefix that is not a WebSocket upgrade: reads its
/// body, then answers `/info`, the welcome page, CORS preflights, `xhr_send`, errors, or hands
/// the response to a session (`xhr`, `xhr_streaming`, `eventsource`). `head` has read the
/// request head only; `stream` holds the socket and any bytes read past the head. Runs on
/// `strand` (the strand the stream was accepted with) until a session takes the stream over.
/// Origins are checked as for the WebSocket upgrade (server_config::allowed_origins; refused:
/// 403); every answer carries CORS headers echoing the request's Origin.
void serve_sockjs_http(const std::shared_ptr<server_state>& server,
                       boost::beast::http::request_parser<boost::beast::http::empty_body>&& head,
                       std::shared_ptr<sockjs_stream> stream, boost::asio::any_io_executor strand,
                       std::string remote);

}  // namespace transport::detail

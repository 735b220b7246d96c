#pragma once

#include <chrono>
#include <functional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "transport/proxy/proxy_header.hpp"

namespace transport::proxy {

/// Called once with the socket back: `ec` set when the peer closed, failed or timed out;
/// else `header` is done or invalid.
using header_read_fn =
    std::function<void(const boost::system::error_code& ec, const proxy_header& header,
                       boost::asio::ip::tcp::socket socket)>;

/// Reads a PROXY protocol header from the start of `socket`, exactly its bytes and no more
/// (parse_proxy_header says how many to read next), so TLS, HTTP or STOMP that follows is
/// untouched, within `timeout`. Runs on the socket's executor (its strand).
void read_proxy_header(boost::asio::ip::tcp::socket socket, std::chrono::milliseconds timeout,
                       header_read_fn done);

}  // namespace transport::proxy

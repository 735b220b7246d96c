#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/connection.hpp"

// SockJS framing, pure (no I/O): the frames the server writes, the JSON it reads, and the URL
// layout under the SockJS prefix. Protocol: https://github.com/sockjs/sockjs-protocol
// (sockjs-protocol-0.3.3.py); Spring's AbstractSockJsService serves the same layout.

namespace transport::detail {

/// The open frame, written once per session before anything else.
inline constexpr std::string_view sockjs_open_frame = "o";
/// The heart-beat frame, written when a receiver has been idle for the heart-beat interval.
inline constexpr std::string_view sockjs_heartbeat_frame = "h";

/// Appends `utf8` as a quoted JSON string with SockJS's escaping: `"` `\` and controls as JSON
/// does, plus \uXXXX for U+200C-U+200F, U+2028-U+202F, U+2060-U+206F, U+FFF0-U+FFFF and, as
/// UTF-16 surrogate pairs, every code point above U+FFFF (the protocol's "escapable_by_server";
/// browsers mangle these). Invalid UTF-8 bytes become U+FFFD: SockJS carries strings only, so
/// binary STOMP bodies do not cross it faithfully. Pure.
void append_sockjs_string(std::string& out, std::string_view utf8);

/// Appends one STOMP frame (head + tail) as a JSON string element of a message frame. Pure.
void append_sockjs_string(std::string& out, const broker::outgoing& frame);

/// `a["<frame>"]`: a message frame holding one STOMP frame. Pure.
std::string sockjs_message_frame(const broker::outgoing& frame);

/// `c[code,"reason"]`: the close frame. Pure.
std::string sockjs_close_frame(int code, std::string_view reason);

/// The SockJS close frame for a session ending with `why`: `c[3000,"Go away!"]` for a normal
/// end (the protocol's usual answer), else the WebSocket close code with the reason's name.
std::string sockjs_close_frame(broker::close_reason why);

/// Parses what a client sends: a JSON array of strings (`["m1","m2"]`, the xhr_send body and
/// the usual WebSocket message) or one JSON string. Each string is appended to `out` as UTF-8
/// (lone surrogates become U+FFFD). False when `json` is not one of these (partial output is
/// left in `out`). Pure.
bool parse_sockjs_messages(std::string_view json, std::vector<std::string>& out);

/// The body of `GET <prefix>/info`. Pure.
std::string sockjs_info_json(bool websocket, bool cookie_needed, std::uint32_t entropy);

/// What a path under the SockJS prefix names.
struct sockjs_route {
  enum class kind : std::uint8_t {
    none,           ///< not under the prefix at all
    not_found,      ///< under the prefix, but nothing SockJS serves
    welcome,        ///< the prefix itself or prefix + "/": "Welcome to SockJS!"
    info,           ///< prefix + "/info"
    raw_websocket,  ///< prefix + "/websocket": a plain WebSocket carrying raw STOMP
    session,        ///< prefix + "/{server}/{session}/{transport}"
  };
  kind what = kind::none;
  std::string_view server;     ///< session routes: the server id (no dots, not empty)
  std::string_view session;    ///< session routes: the session id (no dots, not empty)
  std::string_view transport;  ///< session routes: "websocket", "xhr", "xhr_send", ...
};

/// Splits a request path (no query) against the configured prefix (e.g. "/sockjs"). Pure.
sockjs_route parse_sockjs_route(std::string_view path, std::string_view prefix) noexcept;

}  // namespace transport::detail

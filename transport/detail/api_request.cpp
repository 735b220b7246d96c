#include "transport/detail/api_request.hpp"

#include <cctype>
#include <utility>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace transport::detail {

namespace {

namespace json = boost::json;

bool iequals_prefix(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const auto a = static_cast<unsigned char>(text[i]);
    const auto b = static_cast<unsigned char>(prefix[i]);
    if (std::tolower(a) != std::tolower(b)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 7617: base64 of "login:passcode"; the login holds no colon, the passcode may.
bool decode_basic(std::string_view encoded, broker::credentials& out) {
  namespace b64 = boost::beast::detail::base64;
  // Beast's decoder stops at the first '=': drop the padding (at most two) first.
  for (int i = 0; i < 2 && !encoded.empty() && encoded.back() == '='; ++i) encoded.remove_suffix(1);
  // Room for a last, partial group too (decoded_size rounds down).
  std::string decoded(b64::decoded_size(encoded.size() + 3), '\0');
  const auto [written, read] = b64::decode(decoded.data(), encoded.data(), encoded.size());
  if (read != encoded.size()) return false;  // stopped at a character outside the alphabet
  decoded.resize(written);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  out.login = decoded.substr(0, colon);
  out.passcode = decoded.substr(colon + 1);
  return true;
}

bool read_headers(const json::value& v, broker::publish_request& out, std::string& error) {
  const auto* headers = v.if_object();
  if (headers == nullptr) {
    error = "'headers' must be an object of strings";
    return false;
  }
  for (const auto& [name, value] : *headers) {
    const auto* text = value.if_string();
    if (text == nullptr) {
      error = "header '" + std::string(name) + "' must be a string";
      return false;
    }
    out.headers.push_back({std::string(name), std::string(*text)});
  }
  return true;
}

}  // namespace

std::optional<broker::publish_request> parse_publish_body(std::string_view text,
                                                          std::string& error) {
  boost::system::error_code ec;
  const auto doc = json::parse(text, ec);
  if (ec) {
    error = "body is not valid JSON";
    return std::nullopt;
  }
  const auto* object = doc.if_object();
  if (object == nullptr) {
    error = "body must be a JSON object";
    return std::nullopt;
  }
  broker::publish_request request;
  bool has_destination = false;
  for (const auto& [key, value] : *object) {
    if (key == "destination" || key == "body") {
      const auto* s = value.if_string();
      if (s == nullptr) {
        error.assign(1, '\'').append(key.data(), key.size()).append("' must be a string");
        return std::nullopt;
      }
      (key == "body" ? request.body : request.destination) = std::string(*s);
      has_destination = has_destination || key == "destination";
    } else if (key == "headers") {
      if (!read_headers(value, request, error)) return std::nullopt;
    } else {
      error = "unknown field '" + std::string(key) + "'";
      return std::nullopt;
    }
  }
  if (!has_destination || request.destination.empty()) {
    error = "'destination' is required";
    return std::nullopt;
  }
  return request;
}

broker::credentials parse_api_credentials(std::string_view authorization, std::string remote) {
  broker::credentials creds;
  creds.peer_address = std::move(remote);
  const auto value = trim(authorization);
  if (iequals_prefix(value, "bearer ")) {
    creds.bearer = std::string(trim(value.substr(7)));
  } else if (iequals_prefix(value, "basic ")) {
    if (!decode_basic(trim(value.substr(6)), creds)) creds.login.clear(), creds.passcode.clear();
  }
  return creds;
}

std::string api_error_json(std::string_view message) {
  return json::serialize(json::object{{"error", message}});
}

std::string api_accepted_json(std::string_view message_id) {
  return json::serialize(json::object{{"message_id", message_id}});
}

bool is_json_content_type(std::string_view value) noexcept {
  const auto type = trim(value.substr(0, value.find(';')));
  return type.size() == 16 && iequals_prefix(type, "application/json");
}

unsigned api_status_code(broker::publish_status s) noexcept {
  using broker::publish_status;
  switch (s) {
    case publish_status::accepted: return 202;
    case publish_status::bad_request: return 400;
    case publish_status::unauthorized: return 401;
    case publish_status::forbidden: return 403;
    case publish_status::too_large: return 413;
    case publish_status::key_reused: return 422;
    case publish_status::unavailable: return 503;
  }
  return 500;
}

}  // namespace transport::detail

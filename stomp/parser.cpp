// STOMP 1.2 frame grammar (https://stomp.github.io/stomp-specification-1.2.html#Augmented_BNF):
//
//   NULL           = <US-ASCII null (octet 0)>
//   LF             = <US-ASCII line feed (aka newline) (octet 10)>
//   CR             = <US-ASCII carriage return (octet 13)>
//   EOL            = [CR] LF
//   OCTET          = <any 8-bit sequence of data>
//
//   frame-stream   = 1*frame
//   frame          = command EOL
//                    *( header EOL )
//                    EOL
//                    *OCTET
//                    NULL
//                    *( EOL )
//   command        = client-command | server-command
//   client-command = "SEND" | "SUBSCRIBE" | "UNSUBSCRIBE" | "BEGIN" | "COMMIT" | "ABORT"
//                  | "ACK" | "NACK" | "DISCONNECT" | "CONNECT" | "STOMP"
//   server-command = "CONNECTED" | "MESSAGE" | "RECEIPT" | "ERROR"
//   header         = header-name ":" header-value
//   header-name    = 1*<any OCTET except CR or LF or ":">
//   header-value   = *<any OCTET except CR or LF or ":">
//
// Escapes in header names and values (§Value Encoding): 1.1 defines \\ \n \c, 1.2 adds \r; any
// other `\x` is an error. CONNECT and CONNECTED (and STOMP, which is CONNECT under another name)
// are never escaped; 1.0 has no escapes at all (a backslash is literal).
//
// Deliberate deviations, each chosen to accept what real clients send without losing round trips:
//  1. EOL = [CR] LF in every version (1.0 and 1.1 only define LF). So a CR just before LF is
//     always part of the EOL: "a:b\r\r\n" gives value "b\r". Where CR is not escaped (1.0, 1.1,
//     CONNECT/CONNECTED) and a value really ends in CR, our serializer ends that line with CRLF,
//     so serialize -> parse gives the value back unchanged.
//  2. Only the first ':' splits a header line; later colons belong to the value (1.0 clients
//     send "destination:http://..."). A CR not followed by LF and NUL octets inside a header line
//     are kept literally. Header names and values are never trimmed.
//  3. EOLs (heart-beats) are skipped before any frame, not only after one.
//  4. A NUL where a header line would start ends the frame with an empty body: the spec's own
//     DISCONNECT and RECEIPT examples omit the blank line. With a non-zero content-length that
//     is missing_nul (the body the header promised is not there). So no header name starts with
//     NUL.
//  5. content-length is honoured on every frame, client and server alike (the spec lists it
//     per frame; RabbitMQ honours it everywhere). The first occurrence wins, like any header.
//  7. Repeated header names: the first occurrence is kept, later ones are dropped while parsing
//     (the spec lets a receiver ignore them), so they cost neither memory nor pass-through.
//  6. Errors are decided by bytes, never by how they were split: a limit error is reported as
//     soon as the bytes seen prove the limit is exceeded, so feeding a frame whole, byte by byte
//     or split anywhere gives the same frames and the same error.
#include "stomp/parser.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <functional>
#include <string_view>
#include <utility>

#include "stomp/error.hpp"

namespace stomp {
namespace {

constexpr std::array<std::string_view, 15> known_commands{
    "SEND",       "SUBSCRIBE", "UNSUBSCRIBE", "BEGIN",     "COMMIT",  "ABORT",   "ACK",  "NACK",
    "DISCONNECT", "CONNECT",   "STOMP",       "CONNECTED", "MESSAGE", "RECEIPT", "ERROR"};

bool is_upper_alpha(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_known_command(std::string_view s) noexcept {
  return std::find(known_commands.begin(), known_commands.end(), s) != known_commands.end();
}

// Decimal digits only (no sign, no spaces). Saturates instead of overflowing: any value that
// large is over every body limit anyway.
bool parse_length(std::string_view s, std::size_t& n) noexcept {
  if (s.empty()) return false;
  constexpr std::size_t cap = std::size_t(-1) / 10 - 1;
  n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n > cap ? n : n * 10 + static_cast<std::size_t>(c - '0');
  }
  return true;
}

}  // namespace

limits pre_connect_limits() noexcept {
  limits l;
  l.max_frame = 64 * 1024;
  l.max_body = 64 * 1024;
  return l;
}

bool escapes_headers(std::string_view command, version v) noexcept {
  return v != version::v1_0 && command != "CONNECT" && command != "CONNECTED" && command != "STOMP";
}

bool unescape(std::string_view in, version v, std::string& out) {
  const std::size_t slash = v == version::v1_0 ? std::string_view::npos : in.find('\\');
  if (slash == std::string_view::npos) {  // the common case: nothing to decode
    out.assign(in);
    return true;
  }
  out.assign(in.substr(0, slash));
  for (std::size_t i = slash; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (++i == in.size()) return false;  // a lone backslash at the end
    switch (in[i]) {
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case 'c':
        out += ':';
        break;
      case 'r':
        if (v < version::v1_2) return false;  // \r is new in 1.2
        out += '\r';
        break;
      default:
        return false;
    }
  }
  return true;
}

void parser::reset() {
  error_ = {};
  buffer_.clear();
  phase_ = phase::command;
  head_bytes_ = 0;
  header_count_ = 0;
}

parser::step parser::reject(stomp::error e) noexcept {
  error_ = e;
  buffer_.clear();  // a failed parser holds nothing; callers return without touching `line`
  return step::failed;
}

parse_status parser::feed(std::string_view& input, frame& out) {
  if (error_) return parse_status::error;
  while (!input.empty()) {
    step s = step::next;
    switch (phase_) {
      case phase::command:
        s = parse_command(input);
        break;
      case phase::headers:
        s = parse_headers(input);
        break;
      case phase::body:
        s = parse_body(input);
        break;
    }
    if (s == step::failed) return parse_status::error;
    if (s == step::done) {
      finish(out);
      return parse_status::frame;
    }
  }
  return parse_status::need_more;
}

// Takes one line ending in LF from the bytes buffered so far plus `input`. Only the new bytes are
// searched (buffer_ never holds an LF), and never more than a line of `max` bytes can need, so a
// peer cannot make us buffer or scan past the limit. A CR at position max is allowed while we
// wait to see whether LF follows it.
parser::line_status parser::take_line(std::string_view& input, std::size_t max,
                                      stomp::error too_long, std::string_view& line) {
  const std::size_t have = buffer_.size();
  if (have > max + 1) {  // limits lowered mid-line
    reject(too_long);
    return line_status::failed;
  }
  const std::string_view window = input.substr(0, max + 2 - have);
  const std::size_t lf = window.find('\n');
  if (lf == std::string_view::npos) {
    const std::size_t total = have + window.size();
    if (total > max + 1 || (total == max + 1 && window.back() != '\r')) {
      reject(too_long);
      return line_status::failed;
    }
    buffer_.append(window);  // the line straddles feeds: keep its bytes
    input.remove_prefix(window.size());
    return line_status::more;
  }
  if (have == 0) {
    line = input.substr(0, lf);  // fast path: no copy
  } else {
    buffer_.append(input.data(), lf);
    line = buffer_;
  }
  input.remove_prefix(lf + 1);
  head_bytes_ += have + lf + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max) {
    reject(too_long);
    return line_status::failed;
  }
  return line_status::line;
}

parser::step parser::parse_command(std::string_view& input) {
  std::string_view line;
  switch (take_line(input, limits_.max_command, stomp::error::command_too_long, line)) {
    case line_status::more:
      return step::next;
    case line_status::failed:
      return step::failed;
    case line_status::line:
      break;
  }
  if (line.empty()) {  // a heart-beat EOL between frames: not part of any frame
    head_bytes_ = 0;
    buffer_.clear();
    return step::next;
  }
  if (head_bytes_ > limits_.max_frame) return reject(stomp::error::frame_too_large);
  if (!is_upper_alpha(line)) return reject(stomp::error::invalid_command);
  if (!is_known_command(line)) return reject(stomp::error::unknown_command);
  frame_.command.assign(line);
  buffer_.clear();
  escaped_ = escapes_headers(frame_.command, version_);
  has_length_ = false;
  content_length_ = 0;
  header_count_ = 0;
  distinct_count_ = 0;
  table_holds_frame_ = false;
  if (++frame_no_ == 0) {  // the stamps wrapped: empty the table for real, once in 2^32 frames
    names_.assign(names_.size(), name_slot{});
    frame_no_ = 1;
  }
  phase_ = phase::headers;
  return step::next;
}

parser::step parser::parse_headers(std::string_view& input) {
  if (buffer_.empty() && input.front() == '\0') {  // deviation 4: frame ends without blank line
    input.remove_prefix(1);
    if (++head_bytes_ > limits_.max_frame) return reject(stomp::error::frame_too_large);
    if (has_length_ && content_length_ > 0) return reject(stomp::error::missing_nul);
    frame_.body.clear();
    return step::done;
  }
  std::string_view line;
  switch (take_line(input, limits_.max_header_line, stomp::error::header_line_too_long, line)) {
    case line_status::more:
      return step::next;
    case line_status::failed:
      return step::failed;
    case line_status::line:
      break;
  }
  if (head_bytes_ > limits_.max_frame) return reject(stomp::error::frame_too_large);
  const step s = line.empty() ? start_body() : parse_header_line(line);
  buffer_.clear();  // `line` may point into it: clear only once it is used
  return s;
}

parser::step parser::parse_header_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return reject(stomp::error::header_missing_colon);
  if (colon == 0) return reject(stomp::error::header_empty_name);
  if (header_count_ == frame_.headers.size()) frame_.headers.emplace_back();
  header& h = frame_.headers[header_count_];  // reuses the strings of an earlier frame
  const version v = escaped_ ? version_ : version::v1_0;
  if (!unescape(line.substr(0, colon), v, h.name) ||
      !unescape(line.substr(colon + 1), v, h.value)) {
    return reject(stomp::error::invalid_escape);
  }
  // Only the first of a repeated header counts (STOMP 1.2 "Repeated Header Entries"): a repeat
  // leaves its slot to the next line, so memory follows distinct names, not wire bytes.
  if (seen_before(h.name, header_count_)) return step::next;
  if (distinct_count_ > limits_.max_headers) return reject(stomp::error::too_many_headers);
  if (h.name == "content-length") {
    if (!parse_length(h.value, content_length_)) return reject(stomp::error::invalid_content_length);
    if (content_length_ > limits_.max_body) return reject(stomp::error::body_too_large);
    has_length_ = true;
  }
  ++header_count_;
  return step::next;
}

// Looks `name` up among this frame's distinct names; when absent, records it as header `index`
// and returns false. The headers in use are exactly the distinct names (a repeat is dropped),
// so a frame with few of them compares them one by one: no table, and no memory held by an idle
// parser. From `linear_names` on, the hash table (filled with the names so far) keeps a header
// line at one look-up however many names the frame has.
bool parser::seen_before(std::string_view name, std::size_t index) {
  if (distinct_count_ < linear_names) {
    for (std::size_t i = 0; i < index; ++i)
      if (frame_.headers[i].name == name) return true;
    ++distinct_count_;
    return false;
  }
  if (distinct_count_ == linear_names && !table_holds_frame_) fill_names(index);
  if ((distinct_count_ + 1) * 2 > names_.size()) grow_names();
  const std::size_t mask = names_.size() - 1;
  for (std::size_t i = std::hash<std::string_view>{}(name) & mask;; i = (i + 1) & mask) {
    name_slot& s = names_[i];
    if (s.frame != frame_no_) {
      s = name_slot{frame_no_, static_cast<std::uint32_t>(index)};
      ++distinct_count_;
      return false;
    }
    if (frame_.headers[s.header].name == name) return true;
  }
}

// The frame outgrew the one-by-one comparison: its first `count` headers (all distinct) go
// into the table.
void parser::fill_names(std::size_t count) {
  table_holds_frame_ = true;
  if ((count + 1) * 2 > names_.size())
    names_.assign(std::bit_ceil(std::max<std::size_t>(16, 4 * count)), name_slot{});
  const std::size_t mask = names_.size() - 1;
  for (std::size_t h = 0; h < count; ++h) {
    std::size_t i = std::hash<std::string_view>{}(frame_.headers[h].name) & mask;
    while (names_[i].frame == frame_no_) i = (i + 1) & mask;
    names_[i] = name_slot{frame_no_, static_cast<std::uint32_t>(h)};
  }
}

// Doubles the table (at least 16 slots) and re-inserts this frame's names.
void parser::grow_names() {
  std::vector<name_slot> old = std::move(names_);
  names_.assign(std::max<std::size_t>(16, old.size() * 2), name_slot{});
  const std::size_t mask = names_.size() - 1;
  for (const name_slot& s : old) {
    if (s.frame != frame_no_) continue;
    std::size_t i = std::hash<std::string_view>{}(frame_.headers[s.header].name) & mask;
    while (names_[i].frame == frame_no_) i = (i + 1) & mask;
    names_[i] = s;
  }
}

parser::step parser::start_body() {
  if (has_length_ && content_length_ > limits_.max_body)
    return reject(stomp::error::body_too_large);
  // The smallest frame these headers allow must fit: fail now, not after buffering the body.
  const std::size_t min_body = has_length_ ? content_length_ : 0;
  if (min_body + 1 > limits_.max_frame - std::min(head_bytes_, limits_.max_frame)) {
    return reject(stomp::error::frame_too_large);
  }
  frame_.body.clear();
  // Reserve only what a small frame needs: a peer that merely announces a large content-length
  // must not make us allocate it up front; bigger bodies grow as their bytes arrive.
  if (has_length_) frame_.body.reserve(std::min<std::size_t>(content_length_, 64 * 1024));
  phase_ = phase::body;
  return step::next;
}

parser::step parser::parse_body(std::string_view& input) {
  if (!has_length_) return parse_body_to_nul(input);
  const std::size_t want = content_length_ - frame_.body.size();
  const std::size_t take = std::min(want, input.size());
  frame_.body.append(input.data(), take);
  input.remove_prefix(take);
  if (take < want || input.empty()) return step::next;
  if (input.front() != '\0') return reject(stomp::error::missing_nul);
  input.remove_prefix(1);
  return step::done;
}

// Without content-length the body ends at the first NUL. Only as many bytes as the limits allow
// are searched, so a peer that never sends NUL is stopped at the limit.
parser::step parser::parse_body_to_nul(std::string_view& input) {
  const std::size_t room = limits_.max_frame - std::min(head_bytes_ + 1, limits_.max_frame);
  const std::size_t allowed = std::min(limits_.max_body, room);
  const stomp::error over =
      limits_.max_body <= room ? stomp::error::body_too_large : stomp::error::frame_too_large;
  if (frame_.body.size() > allowed) return reject(over);  // limits lowered mid-body
  const std::string_view window = input.substr(0, allowed + 1 - frame_.body.size());
  const std::size_t nul = window.find('\0');
  if (nul == std::string_view::npos) {
    frame_.body.append(window);
    input.remove_prefix(window.size());
    return frame_.body.size() > allowed ? reject(over) : step::next;
  }
  frame_.body.append(window.data(), nul);
  input.remove_prefix(nul + 1);
  return step::done;
}

// Hands the frame over by swap: the caller's previous frame becomes our scratch space, so a
// caller that reuses one `out` gets its strings' capacity reused with no allocation.
void parser::finish(frame& out) {
  frame_.headers.resize(header_count_);
  std::swap(out, frame_);
  phase_ = phase::command;
  head_bytes_ = 0;
  header_count_ = 0;
  buffer_.clear();
}

}  // namespace stomp

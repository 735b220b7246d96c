// Fuzzes the PROXY protocol header parser (transport/proxy/proxy_header.cpp): the first bytes
// of every connection on a listener with proxy_protocol on, from anyone who can connect.
// The input is fed the way the reader does: exactly the bytes `need` asks for, one step at a
// time, until the parser says done or invalid.
// Aborts when
//  - need_more asks for 0 bytes, or for bytes past the end of the header it then reports
//    (the reader would have consumed the start of the TLS/HTTP/STOMP stream);
//  - done reports a length other than the bytes fed, or over 107 (v1) / 16 + 4096 (v2);
//  - the whole input parsed at once disagrees with the step-by-step result;
//  - a source address does not print and parse back to the same address.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "transport/proxy/proxy_header.hpp"

namespace {

using namespace transport::proxy;
using status = proxy_header::status;

[[noreturn]] void broken(const char* rule) {
  std::fprintf(stderr, "proxy_header_fuzzer: %s\n", rule);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t fed = 0;
  proxy_header h;
  for (;;) {
    h = parse_proxy_header(input.substr(0, fed));
    if (h.state != status::need_more) break;
    if (h.need == 0) broken("need_more with need 0");
    if (fed + h.need > input.size()) return 0;  // the peer has not sent that much
    fed += h.need;
  }
  if (h.state == status::invalid) return 0;
  if (h.length != fed) broken("done after reading past (or short of) the header");
  if (h.length > 16 + max_v2_payload) broken("header longer than allowed");
  if (input[0] == 'P' && h.length > max_v1_bytes) broken("v1 header over 107 bytes");
  const auto whole = parse_proxy_header(input);
  if (whole.state != status::done || whole.length != h.length ||
      whole.has_source != h.has_source || whole.source != h.source ||
      whole.source_port != h.source_port)
    broken("whole input and step-by-step disagree");
  if (h.has_source) {
    const auto text = to_string(h.source);
    const auto back = parse_ip(text);
    if (!back || *back != h.source) broken("source address does not round-trip");
  }
  return 0;
}

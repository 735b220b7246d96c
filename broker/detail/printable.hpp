#pragma once

#include <string>
#include <string_view>

namespace broker::detail {

/// A short, printable rendering of peer bytes for logs [NATS protoSnippet]: line feeds, quotes,
/// backslashes and other control or non-ASCII bytes escaped (`\n`, `\"`, `\x1b`), cut after
/// `max` bytes with "...". A peer can then never start a log line of its own.
std::string printable(std::string_view bytes, std::size_t max = 64);

}  // namespace broker::detail

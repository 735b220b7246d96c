#pragma once

#include <string>
#include <string_view>

namespace broker {

/// A short, printable rendering of peer bytes for logs [NATS protoSnippet]: line feeds, quotes,
/// backslashes and other control or non-ASCII bytes escaped (`\n`, `\"`, `\x1b`), cut after
/// `max` bytes with "...". A peer can then never start a log line of its own, nor drive the
/// terminal that shows the log.
/// The one escaper for every peer-supplied string in a log line (logins, destinations, header
/// values, Origins, Hosts, request targets, error text holding peer bytes), in every layer that
/// logs: broker/, transport/, cluster/ and app/ include this public header. Pure; thread-safe.
std::string printable(std::string_view bytes, std::size_t max = 64);

}  // namespace broker

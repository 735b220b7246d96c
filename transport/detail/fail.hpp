#pragma once

#include <string_view>
#include <system_error>

#include <boost/system/error_code.hpp>

namespace transport::detail {

/// True for the codes a connection ends with in ordinary life (closed, operation_aborted, eof,
/// stream_truncated, reset by peer, broken pipe): logged at debug only.
bool is_expected(const boost::system::error_code& ec) noexcept;

/// The one place unexpected I/O errors are logged [Beast's fail()]. Expected codes go to debug.
/// Thread-safe.
void fail(const boost::system::error_code& ec, std::string_view what, std::string_view peer);

}  // namespace transport::detail

#pragma once
// The console's page, script, styles and the vendored uPlot, built into the binary: the
// generated console_assets.cpp (see embed_assets.cmake) holds them as byte arrays, so nothing
// is read from disk or a CDN at run time.

#include <string_view>

namespace transport::console {

/// One file the console serves.
struct asset {
  std::string_view path;          ///< URL path, e.g. "/console/console.js"
  std::string_view content_type;  ///< e.g. "text/javascript; charset=utf-8"
  std::string_view bytes;
};

/// The asset served at `path`, or null. Thread-safe (static data).
const asset* find_asset(std::string_view path) noexcept;

}  // namespace transport::console

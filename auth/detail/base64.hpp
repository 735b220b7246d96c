#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace auth::detail {

/// Which base64 alphabet: standard (`+/`, RFC 4648 §4) or URL-safe (`-_`, §5).
enum class base64_alphabet { standard, url };

/// Encodes `bytes` without `=` padding (as PHC hash strings and JWS both want).
std::string base64_encode(std::string_view bytes, base64_alphabet alphabet);

/// Decodes unpadded base64 in `alphabet`; trailing `=` padding is tolerated only for the
/// standard alphabet. std::nullopt on any character outside the alphabet or an impossible length.
std::optional<std::string> base64_decode(std::string_view text, base64_alphabet alphabet);

}  // namespace auth::detail

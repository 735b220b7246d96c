#pragma once

namespace broker {

/// The project version, "MAJOR.MINOR.PATCH": CMake's project(VERSION) is its only source (the
/// build defines it for broker/version.cpp). Thread-safe; the string lives for the program.
const char* version() noexcept;

}  // namespace broker

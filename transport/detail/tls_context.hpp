#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace transport::detail {

/// The server's TLS context, replaceable while running (certificate renewal on SIGHUP).
/// Each new connection takes current() once, when its stream is made; swapping the pointer
/// never touches open connections: their SSL objects hold a reference of their own on the
/// OpenSSL SSL_CTX (SSL_new), and we install no Asio callbacks that would die with the old
/// context. Thread-safe.
class tls_context {
 public:
  /// True once load() has succeeded: TLS is on.
  explicit operator bool() const noexcept { return loaded_.load(std::memory_order_acquire); }

  /// Builds a TLS 1.2+ server context from PEM files and makes it current. Throws
  /// std::runtime_error naming the files on failure; the current context is then unchanged.
  void load(const std::string& cert_file, const std::string& key_file);

  /// The context for a connection starting now (null before load()).
  std::shared_ptr<boost::asio::ssl::context> current() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::atomic<bool> loaded_{false};
};

}  // namespace transport::detail

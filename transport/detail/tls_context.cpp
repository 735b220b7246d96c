#include "transport/detail/tls_context.hpp"

#include <stdexcept>

namespace transport::detail {

namespace ssl = boost::asio::ssl;

void tls_context::load(const std::string& cert_file, const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  try {
    ctx->use_certificate_chain_file(cert_file);
    ctx->use_private_key_file(key_file, ssl::context::pem);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot load TLS certificate '" + cert_file + "' / key '" +
                             key_file + "': " + e.what());
  }
  // A renewed certificate whose key does not match would fail every handshake: refuse it here.
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    throw std::runtime_error("TLS key '" + key_file + "' does not match certificate '" +
                             cert_file + "'");
  }
  std::lock_guard lock(mutex_);
  context_ = std::move(ctx);
  loaded_.store(true, std::memory_order_release);
}

std::shared_ptr<ssl::context> tls_context::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

}  // namespace transport::detail

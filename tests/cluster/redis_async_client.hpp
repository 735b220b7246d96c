#pragma once
// A cluster::redis::connection on an io_context thread of its own, for tests that drive the
// async connection against a real redis-server (or sentinel) and wait for its answers.

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "cluster/redis/connection.hpp"
#include "cluster/redis/reply.hpp"

namespace test_support {

/// An async connection on its own io_context thread.
class async_client {
 public:
  explicit async_client(cluster::redis::options o)
      : strand_(boost::asio::make_strand(ioc_)),
        conn_(std::make_shared<cluster::redis::connection>(strand_, std::move(o), "test", nullptr,
                                                           nullptr)) {
    boost::asio::post(strand_, [c = conn_] { c->start(); });
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~async_client() {
    boost::asio::post(strand_, [c = conn_] { c->stop(); });
    work_.reset();
    thread_.join();
  }
  cluster::redis::connection& operator*() { return *conn_; }
  /// Runs `fn` on the connection's strand and waits for it.
  void on_strand(std::function<void()> fn) {
    std::promise<void> done;
    boost::asio::post(strand_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().get();
  }
  cluster::redis::connection* operator->() { return conn_.get(); }

  /// The reply text of `args` ("(null)" when the command failed).
  std::string run(std::vector<std::string> args) {
    std::promise<std::string> answer;
    boost::asio::post(strand_, [&] {
      std::vector<std::string_view> views(args.begin(), args.end());
      const bool sent = conn_->command(views, [&](const redisReply* r) {
        answer.set_value(r ? std::string(cluster::redis::reply_text(r)) : "(null)");
      });
      if (!sent) answer.set_value("(not sent)");
    });
    return answer.get_future().get();
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      ioc_.get_executor()};
  cluster::redis::connection::strand_type strand_;
  std::shared_ptr<cluster::redis::connection> conn_;
  std::thread thread_;
};

}  // namespace test_support

// An event-loop host (one thread runs every socket, as in Asio, libuv or
// Node-style servers) that keeps IcpService's blocking store calls off its
// loop: each request is posted to a small thread pool, and its answer is
// posted back to the loop, which alone touches connections.
//
// The store here waits 50 ms per call, as a PostgreSQL round trip across a
// busy network might. While eight requests wait, the loop keeps ticking.

#include <icp/http.hpp>
#include <icp/sqlite_store.hpp>
#include <icp/testing/store_wrappers.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// A store whose every call takes `delay`, like one across a network.
class SlowStore final : public icp::testing::ForwardingStore {
 public:
  SlowStore(std::shared_ptr<icp::IcpStore> inner, std::chrono::milliseconds delay)
      : ForwardingStore(std::move(inner)), delay_(delay) {}
  icp::Result<std::optional<icp::Icp>> get(const icp::GetIcpRequest& request) override {
    std::this_thread::sleep_for(delay_);
    return ForwardingStore::get(request);
  }

 private:
  std::chrono::milliseconds delay_;
};

/// Runs `handle` on `pool`, then `deliver` with its answer on `loop`.
template <class Deliver>
void handle_off_loop(const icp::http::Adapter& adapter, icp::http::Request request,
                     asio::thread_pool& pool, asio::io_context& loop, Deliver deliver) {
  asio::post(pool, [&adapter, &loop, request = std::move(request), deliver]() mutable {
    auto response = adapter.handle(request);  // blocks this pool thread only
    asio::post(loop, [response = std::move(response), deliver]() mutable {
      deliver(std::move(response));
    });
  });
}

}  // namespace

int run() {
  const auto path = std::filesystem::temp_directory_path() /
                    fmt::format("icp-event-loop-example-{}.db", ::getpid());
  std::filesystem::remove(path);
  auto sqlite = icp::open_sqlite_store(path, {.create_if_missing = true});
  auto tokens =
      icp::http::StaticTokenAuthenticator::from_json(R"({"tok_alice": {"userId": "user_abc123"}})");
  if (!sqlite || !tokens) return 1;
  const icp::IcpService writer(*sqlite);
  const auto created = writer.create(R"({"name":"Off the loop","leadProviderCriteria":[]})",
                                     icp::AuthContext::user("user_abc123"));
  if (!created) return 1;
  const icp::http::Adapter adapter(icp::IcpService(std::make_shared<SlowStore>(*sqlite, 50ms)),
                                   *tokens);

  asio::io_context loop;
  asio::thread_pool pool(8);  // size it to the store's connection pool
  const auto loop_thread = std::this_thread::get_id();
  const std::string target = "/api/v1/entities/icps/" + created->id;
  constexpr int kRequests = 8;
  int responses = 0;
  int answered = 0;  // with 200
  int on_loop = 0;
  int ticks = 0;

  // The loop's own work: a tick every 5 ms, which a blocked loop would miss.
  asio::steady_timer tick(loop);
  std::function<void()> schedule_tick = [&] {
    tick.expires_after(5ms);
    tick.async_wait([&](const boost::system::error_code& ec) {
      // Not only when cancelled: a tick already due when the last answer
      // came cannot be cancelled, and would keep the loop running forever.
      if (ec || responses == kRequests) return;
      ++ticks;
      schedule_tick();
    });
  };
  schedule_tick();

  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    icp::http::Request request{.method = "GET", .target = target};
    request.headers.emplace_back("Authorization", "Bearer tok_alice");
    handle_off_loop(adapter, std::move(request), pool, loop,
                    [&](const icp::http::Response& response) {
                      on_loop += std::this_thread::get_id() == loop_thread ? 1 : 0;
                      if (response.status == 200) {
                        ++answered;
                      } else {
                        fmt::print("{} {}\n", response.status, response.body);
                      }
                      // Every answer in, whatever its status: the loop may end.
                      if (++responses == kRequests) tick.cancel();
                    });
  }
  loop.run();
  pool.join();
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  std::filesystem::remove(path);

  fmt::print("{} of {} answered 200 on the loop thread in {} ms; the loop ticked {} times\n",
             on_loop, kRequests, elapsed.count(), ticks);
  // Eight 50 ms calls in parallel take about 50 ms, and the loop ran meanwhile.
  return answered == kRequests && on_loop == kRequests && ticks >= 3 && elapsed < 400ms ? 0 : 1;
}

int main() {
  try {
    return run();
  } catch (const std::exception& e) {  // allocation, or a thread that could not start
    fmt::print(stderr, "event_loop_host: {}\n", e.what());
    return 1;
  }
}

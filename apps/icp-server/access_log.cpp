#include "access_log.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <ctime>

namespace icp::server {

namespace {

/// Appends `text` as the inside of a JSON string. Paths and methods come
/// from the client: whatever they hold, the line stays one JSON object of
/// valid UTF-8. Bytes outside printable ASCII are written `%XX`, as in the
/// text format (a request target is ASCII on the wire, RFC 9112 3.2).
void append_json_string(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "%{:02X}", byte);
    } else {
      out.push_back(c);
    }
  }
}

/// Text lines: anything outside visible ASCII becomes `%XX`, so a client
/// cannot start a line of its own or hide one. Spaces stay when `spaces`
/// (an operator's message is prose; a field of a request line is one word).
void append_visible(std::string& out, std::string_view text, bool spaces = false) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte <= 0x20 && !(spaces && c == ' ')) || byte >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "%{:02X}", byte);
    } else {
      out.push_back(c);
    }
  }
}

/// Writes all of `bytes` to `fd`, waiting for it to take them at most until
/// `give_up()` says so (then the rest is dropped: false). poll() first, and
/// at most PIPE_BUF bytes a write, so that no write() blocks for long: a
/// pipe nobody reads cannot hold the writer, or a shutdown, for ever.
template <class GiveUp>
bool write_all(int fd, std::string_view bytes, GiveUp give_up) {
  while (!bytes.empty()) {
    pollfd ready{.fd = fd, .events = POLLOUT, .revents = 0};
    const int polled = ::poll(&ready, 1, 100);
    if (polled < 0 && errno != EINTR) return false;
    if (polled <= 0) {
      if (give_up()) return false;
      continue;
    }
    if ((ready.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return false;
    const auto chunk = std::min<std::size_t>(bytes.size(), PIPE_BUF);
    const auto written = ::write(fd, bytes.data(), chunk);
    if (written < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point at) {
  using namespace std::chrono;
  // gmtime_r per line is costly; the seconds' text is kept per thread
  // (docs/performance.md, "Measurements behind the code: access log seconds").
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 32> cached{};
  const auto micros = duration_cast<microseconds>(at.time_since_epoch()).count();
  const std::time_t second = micros / 1'000'000;
  if (second != cached_second) {
    std::tm parts{};
    gmtime_r(&second, &parts);
    (void)std::strftime(cached.data(), cached.size(), "%Y-%m-%dT%H:%M:%S", &parts);
    cached_second = second;
  }
  std::string text(cached.data());
  // The microseconds by hand, cheaper than fmt::format
  // (docs/performance.md, "Measurements behind the code: access log microseconds").
  std::array<char, 8> fraction{'.', '0', '0', '0', '0', '0', '0', 'Z'};
  auto digit = fraction.size() - 2;
  for (auto left = micros % 1'000'000; left != 0; left /= 10) {
    fraction.at(digit--) = static_cast<char>('0' + left % 10);
  }
  text.append(fraction.data(), fraction.size());
  return text;
}

AccessLog::AccessLog(LogFormat format, std::FILE* out)
    : format_(format), out_(out), writer_([this](const std::stop_token& stop) { run(stop); }) {}

AccessLog::~AccessLog() {
  writer_.request_stop();
  wake_.notify_one();
}

void AccessLog::request(const AccessRecord& record) {
  const auto time = rfc3339(std::chrono::system_clock::now());
  std::string line;
  line.reserve(160);
  if (format_ == LogFormat::json) {
    line += R"({"time":")";
    line += time;
    line += R"(","request_id":")";
    append_json_string(line, record.request_id);
    line += R"(","method":")";
    append_json_string(line, record.method);
    line += R"(","path":")";
    append_json_string(line, record.path);
    fmt::format_to(std::back_inserter(line), R"(","status":{},"duration_us":{},"bytes":{}}})",
                   record.status, record.duration.count(), record.bytes);
  } else {
    line += time;
    line += ' ';
    append_visible(line, record.request_id);
    line += ' ';
    append_visible(line, record.method);
    line += ' ';
    append_visible(line, record.path);
    fmt::format_to(std::back_inserter(line), " {} {}us {}B", record.status, record.duration.count(),
                   record.bytes);
  }
  enqueue(line);
}

void AccessLog::message(std::string_view text) {
  const auto time = rfc3339(std::chrono::system_clock::now());
  std::string line;
  if (format_ == LogFormat::json) {
    line = R"({"time":")" + time + R"(","message":")";
    append_json_string(line, text);
    line += "\"}";
  } else {
    line = time + ' ';
    append_visible(line, text, true);
  }
  enqueue(line);
}

void AccessLog::enqueue(const std::string& line) {
  const std::lock_guard lock(mutex_);
  if (pending_.size() + line.size() + 1 > kMaxPendingBytes) {
    ++dropped_;
    dropped_total_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  pending_.append(line);
  pending_.push_back('\n');
}

void AccessLog::run(const std::stop_token& stop) {
  std::string batch;
  for (;;) {
    std::size_t dropped = 0;
    {
      std::unique_lock lock(mutex_);
      // Batches every 50 ms: the log trails the requests by that much at most.
      wake_.wait_for(lock, std::chrono::milliseconds{50}, [&] { return stop.stop_requested(); });
      batch.swap(pending_);
      dropped = std::exchange(dropped_, 0);
    }
    if (dropped > 0) {
      const auto notice = fmt::format(
          "access log: {} line(s) dropped while the output was not keeping up", dropped);
      const auto time = rfc3339(std::chrono::system_clock::now());
      batch += format_ == LogFormat::json
                   ? fmt::format(R"({{"time":"{}","message":"{}"}})", time, notice)
                   : fmt::format("{} {}", time, notice);
      batch.push_back('\n');
    }
    if (!batch.empty()) {
      // A log that cannot be written must not stop the server, nor its
      // shutdown: after a stop, the output gets kShutdownWait to take the rest.
      const auto deadline = Clock::now() + kShutdownWait;
      const bool all = write_all(::fileno(out_), batch,
                                 [&] { return stop.stop_requested() && Clock::now() >= deadline; });
      if (!all) dropped_total_.fetch_add(1, std::memory_order_relaxed);
      batch.clear();
    }
    if (stop.stop_requested()) {
      const std::lock_guard lock(mutex_);
      if (pending_.empty()) return;
    }
  }
}

}  // namespace icp::server

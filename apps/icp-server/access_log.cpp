#include "access_log.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <ctime>
#include <optional>

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

/// Appends `text`, or when it is longer than `max` its first `max` bytes and
/// `...[cut:NB]` (N: its whole length), so that no client field can make a
/// line long (a 16 KB path is a 1 KB entry that says it was cut).
template <class Append>
void append_bounded(std::string& out, std::string_view text, std::size_t max, Append append) {
  if (text.size() <= max) {
    append(out, text);
    return;
  }
  append(out, text.substr(0, max));
  fmt::format_to(std::back_inserter(out), "...[cut:{}B]", text.size());
}

/// Whether writes to `fd` may be as large as the batch: a regular file
/// takes them without blocking for long; a pipe, a socket or a terminal
/// gets PIPE_BUF at a time, which poll() promises room for.
bool takes_large_writes(int fd) {
  struct stat status {};
  return ::fstat(fd, &status) == 0 && S_ISREG(status.st_mode);
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
    : format_(format),
      out_(out),
      large_writes_(takes_large_writes(::fileno(out))),
      writer_([this](const std::stop_token& stop) { run(stop); }) {}

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
    append_bounded(line, record.method, kMaxMethodBytes, append_json_string);
    line += R"(","path":")";
    append_bounded(line, record.path, kMaxPathBytes, append_json_string);
    fmt::format_to(std::back_inserter(line), R"(","status":{},"duration_us":{},"bytes":{}}})",
                   record.status, record.duration.count(), record.bytes);
  } else {
    line += time;
    line += ' ';
    append_visible(line, record.request_id);
    line += ' ';
    const auto visible = [](std::string& out, std::string_view text) { append_visible(out, text); };
    append_bounded(line, record.method, kMaxMethodBytes, visible);
    line += ' ';
    append_bounded(line, record.path, kMaxPathBytes, visible);
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
    append_bounded(line, text, kMaxMessageBytes, append_json_string);
    line += "\"}";
  } else {
    line = time + ' ';
    append_bounded(line, text, kMaxMessageBytes, [](std::string& out, std::string_view part) {
      append_visible(out, part, true);
    });
  }
  enqueue(line);
}

void AccessLog::enqueue(const std::string& line) {
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    // Lines are dropped only while the output refuses them; while it takes
    // them, the queue may grow to the hard bound, which only an output
    // slower than the requests' lines reaches.
    const auto bound = output_blocked_.load(std::memory_order_relaxed) ? kMaxPendingBytes
                                                                       : kMaxPendingBytesWriting;
    if (pending_.size() + line.size() + 1 > bound) {
      ++dropped_;
      dropped_total_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const auto before = pending_.size();
    pending_.append(line);
    pending_.push_back('\n');
    wake = before < kWakeBytes && pending_.size() >= kWakeBytes;
  }
  if (wake) wake_.notify_one();
}

std::string_view AccessLog::write_all(std::string_view bytes, const std::stop_token& stop) {
  const int fd = ::fileno(out_);
  // After a stop, the output gets kShutdownWait to take the rest.
  std::optional<Clock::time_point> deadline;
  const auto give_up = [&] {
    if (!stop.stop_requested()) return false;
    if (!deadline) deadline = Clock::now() + kShutdownWait;
    return Clock::now() >= *deadline;
  };
  while (!bytes.empty()) {
    pollfd ready{.fd = fd, .events = POLLOUT, .revents = 0};
    int polled = ::poll(&ready, 1, 0);
    if (polled == 0) {
      // The output takes nothing now: blocked, until a write goes through.
      output_blocked_.store(true, std::memory_order_relaxed);
      polled = ::poll(&ready, 1, 100);
    }
    if (polled < 0 && errno != EINTR) return bytes;
    if (polled <= 0) {
      if (give_up()) return bytes;
      continue;
    }
    if ((ready.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return bytes;
    // At most PIPE_BUF a write to a pipe, so that no write() blocks for
    // long: a pipe nobody reads cannot hold the writer, or a shutdown.
    const auto chunk = large_writes_ ? bytes.size() : std::min<std::size_t>(bytes.size(), PIPE_BUF);
    const auto written = ::write(fd, bytes.data(), chunk);
    if (written < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return bytes;
    }
    output_blocked_.store(false, std::memory_order_relaxed);
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return bytes;
}

void AccessLog::run(const std::stop_token& stop) {
  std::string batch;
  for (;;) {
    std::size_t dropped = 0;
    {
      std::unique_lock lock(mutex_);
      // Woken by kWakeBytes of lines, else every 50 ms: a quiet log trails
      // its requests by that much at most, a busy one is written as it comes.
      wake_.wait_for(lock, std::chrono::milliseconds{50},
                     [&] { return stop.stop_requested() || pending_.size() >= kWakeBytes; });
      batch.swap(pending_);
      dropped = std::exchange(dropped_, 0);
    }
    if (dropped > 0) {
      const auto notice = fmt::format(
          "access log: {} line(s) dropped: the output was blocked, or slower than the requests",
          dropped);
      const auto time = rfc3339(std::chrono::system_clock::now());
      batch += format_ == LogFormat::json
                   ? fmt::format(R"({{"time":"{}","message":"{}"}})", time, notice)
                   : fmt::format("{} {}", time, notice);
      batch.push_back('\n');
    }
    // A log that cannot be written must not stop the server, nor its shutdown.
    // What is not written (the output closed, or the shutdown's wait ran
    // out) is counted, a line cut short included.
    if (const auto unwritten = write_all(batch, stop); !unwritten.empty()) {
      dropped_total_.fetch_add(static_cast<std::uint64_t>(std::ranges::count(unwritten, '\n')),
                               std::memory_order_relaxed);
    }
    batch.clear();
    // After a burst, the queue's memory goes back: it cycles through batch.
    if (batch.capacity() > kWakeBytes * 16) std::string().swap(batch);
    if (stop.stop_requested()) {
      const std::lock_guard lock(mutex_);
      if (pending_.empty()) return;
    }
  }
}

}  // namespace icp::server

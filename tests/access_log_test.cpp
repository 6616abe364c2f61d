// icp-server's access log: what one line may cost, and when lines may be
// dropped (only while the output is blocked), against a real file and a
// real pipe.
#include "icp-server/access_log.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using icp::server::AccessLog;
using icp::server::AccessRecord;
using icp::server::LogFormat;

struct FileCloser {
  // C's FILE has no owner type; unique_ptr is the owner here.
  void operator()(std::FILE* file) const {
    (void)std::fclose(file);  // NOLINT(cppcoreguidelines-owning-memory)
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

/// Everything written to `file` so far.
std::string contents(std::FILE* file) {
  std::string text;
  std::rewind(file);
  std::vector<char> chunk(1 << 16);
  for (std::size_t read = 0; (read = std::fread(chunk.data(), 1, chunk.size(), file)) > 0;) {
    text.append(chunk.data(), read);
  }
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = text.find('\n', at);
    lines.push_back(text.substr(at, end - at));
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

}  // namespace

TEST_CASE("access log: a long method, path or message is cut and says so", "[server][log]") {
  const std::string path = "/x/" + std::string(20'000, 'p');
  const std::string method(100, 'M');
  for (const auto format : {LogFormat::text, LogFormat::json}) {
    const File file(std::tmpfile());
    REQUIRE(file);
    {
      AccessLog log(format, file.get());
      log.request(AccessRecord{.request_id = "id", .method = method, .path = path, .status = 404});
      log.message(std::string(10'000, 'm'));
    }
    const auto lines = lines_of(contents(file.get()));
    REQUIRE(lines.size() == 2);
    const auto& request = lines.front();
    const auto& message = lines.back();
    INFO(request.substr(0, 200));
    CHECK(request.find(std::string(AccessLog::kMaxPathBytes - 3, 'p') + "...[cut:20003B]") !=
          std::string::npos);
    CHECK(request.find(std::string(AccessLog::kMaxPathBytes - 2, 'p')) == std::string::npos);
    CHECK(request.find(std::string(AccessLog::kMaxMethodBytes, 'M') + "...[cut:100B]") !=
          std::string::npos);
    CHECK(request.size() < 1300);
    CHECK(message.find("...[cut:10000B]") != std::string::npos);
    CHECK(message.size() < AccessLog::kMaxMessageBytes + 100);
  }
}

TEST_CASE("access log: a file that takes lines as they come gets every one, however many",
          "[server][log]") {
  const File file(std::tmpfile());
  REQUIRE(file);
  // Twice the most the queue may ever hold, from two threads as fast as
  // they can: nothing may be dropped, so the writer must be writing while
  // they are.
  constexpr std::size_t kLineBytes = 4000;
  constexpr std::size_t kLines = 2 * AccessLog::kMaxPendingBytesWriting / kLineBytes;
  std::uint64_t dropped = 0;
  {
    AccessLog log(LogFormat::text, file.get());
    const std::string text(kLineBytes, 'x');
    auto write_half = [&] {
      for (std::size_t i = 0; i < kLines / 2; ++i) log.message(text);
    };
    std::thread other(write_half);
    write_half();
    other.join();
    dropped = log.dropped();
  }
  CHECK(dropped == 0);
  const auto lines = lines_of(contents(file.get()));
  CHECK(lines.size() == kLines / 2 * 2);
  for (const auto& line : lines) REQUIRE(line.ends_with(std::string(kLineBytes, 'x')));
}

TEST_CASE(
    "access log: while the output is blocked, lines past the bound are dropped, counted "
    "and reported once it takes them again",
    "[server][log]") {
  std::array<int, 2> ends{-1, -1};
  REQUIRE(::pipe(ends.data()) == 0);
  const File read_end(::fdopen(ends[0], "r"));
  const File write_end(::fdopen(ends[1], "w"));
  REQUIRE(read_end);
  REQUIRE(write_end);
  std::string read;
  std::uint64_t dropped = 0;
  {
    AccessLog log(LogFormat::text, write_end.get());
    const std::string text(1000, 'b');
    // Nobody reads: the pipe fills, then the queue, then lines are dropped.
    for (std::size_t i = 0; i < 2 * AccessLog::kMaxPendingBytesWriting / 1000 && log.dropped() == 0;
         ++i) {
      log.message(text);
      if (i % 1000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    dropped = log.dropped();
    // Now read: the queue drains and the drop is reported.
    std::vector<char> chunk(1 << 16);
    while (read.find("dropped: the output was blocked") == std::string::npos) {
      const auto got = ::read(ends[0], chunk.data(), chunk.size());
      REQUIRE(got > 0);
      read.append(chunk.data(), static_cast<std::size_t>(got));
    }
  }
  CHECK(dropped > 0);
  // Before the drops, the queue held its bound (lines of 1000 bytes and a
  // time), and what was written is whole lines, never part of one.
  const auto lines = lines_of(read.substr(0, read.rfind('\n')));
  CHECK(lines.size() >= AccessLog::kMaxPendingBytes / 1100);
  for (const auto& line : lines) {
    const bool request_line = line.ends_with(std::string(1000, 'b'));
    const bool notice = line.find("line(s) dropped: the output was blocked") != std::string::npos;
    REQUIRE((request_line || notice));
  }
}

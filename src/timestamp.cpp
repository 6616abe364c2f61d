#include <icp/timestamp.hpp>

#include <fmt/format.h>

#include <array>
#include <optional>

// Written by hand: libstdc++ 12 has no std::chrono::parse or formatting, and
// Boost.DateTime neither accepts RFC 3339 offsets nor rejects every
// impossible date. The grammar is small (RFC 3339, section 5.6).

namespace icp {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  /// Reads exactly `count` decimal digits.
  std::optional<int> digits(std::size_t count) {
    if (text_.size() - pos_ < count) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = text_[pos_ + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos_ += count;
    return value;
  }

  bool skip(char expected) {
    if (pos_ < text_.size() && text_[pos_] == expected) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool skip_either(char a, char b) { return skip(a) || skip(b); }

  [[nodiscard]] std::optional<char> peek() const {
    if (pos_ < text_.size()) return text_[pos_];
    return std::nullopt;
  }

  [[nodiscard]] bool at_end() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

Error invalid(std::string_view why) {
  return Error{Errc::bad_request, fmt::format("expected an RFC 3339 timestamp: {}", why)};
}

bool is_digit(std::optional<char> c) { return c && *c >= '0' && *c <= '9'; }

}  // namespace

Result<Timestamp> parse_timestamp(std::string_view text) {
  Cursor in(text);
  const auto year = in.digits(4);
  if (!year || !in.skip('-')) return invalid("date must be YYYY-MM-DD");
  const auto month = in.digits(2);
  if (!month || !in.skip('-')) return invalid("date must be YYYY-MM-DD");
  const auto day = in.digits(2);
  if (!day) return invalid("date must be YYYY-MM-DD");
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return invalid("no such date");

  if (!in.skip_either('T', 't')) return invalid("date and time must be joined by 'T'");
  const auto hour = in.digits(2);
  if (!hour || !in.skip(':')) return invalid("time must be HH:MM:SS");
  const auto minute = in.digits(2);
  if (!minute || !in.skip(':')) return invalid("time must be HH:MM:SS");
  const auto second = in.digits(2);
  if (!second) return invalid("time must be HH:MM:SS");
  if (*hour > 23 || *minute > 59 || *second > 59) return invalid("no such time of day");

  int millis = 0;
  if (in.skip('.')) {
    if (!is_digit(in.peek())) return invalid("a fraction needs at least one digit");
    int scale = 100;
    while (is_digit(in.peek())) {
      const int digit = *in.digits(1);
      millis += digit * scale;  // digits past the third are truncated
      scale /= 10;
    }
  }

  minutes offset{0};
  if (!in.skip_either('Z', 'z')) {
    const char sign = in.peek().value_or('\0');
    if (sign != '+' && sign != '-') return invalid("missing offset ('Z' or +HH:MM)");
    in.skip(sign);
    const auto offset_hours = in.digits(2);
    if (!offset_hours || !in.skip(':')) return invalid("offset must be +HH:MM or -HH:MM");
    const auto offset_minutes = in.digits(2);
    if (!offset_minutes || *offset_hours > 23 || *offset_minutes > 59) {
      return invalid("offset must be +HH:MM or -HH:MM");
    }
    offset = hours{*offset_hours} + minutes{*offset_minutes};
    if (sign == '-') offset = -offset;
  }
  if (!in.at_end()) return invalid("unexpected characters after the offset");

  const auto local = std::chrono::sys_days{date} + hours{*hour} + minutes{*minute} +
                     seconds{*second} + milliseconds{millis};
  const Timestamp utc = local - offset;
  // Keep every accepted value writable in the fixed four-digit-year form.
  const auto utc_year = std::chrono::year_month_day{std::chrono::floor<days>(utc)}.year();
  if (utc_year < std::chrono::year{0} || utc_year > std::chrono::year{9999}) {
    return invalid("year out of range 0000-9999 in UTC");
  }
  return utc;
}

void append_timestamp(std::string& out, Timestamp at) {
  const auto day = std::chrono::floor<days>(at);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss<milliseconds> time{at - day};
  const int year = static_cast<int>(date.year());
  if (year < 0 || year > 9999) {  // not RFC 3339; written as fmt writes it
    fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year,
                   static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                   time.hours().count(), time.minutes().count(), time.seconds().count(),
                   time.subseconds().count());
    return;
  }
  // Digits by hand: three timestamps in every ICP written, and fmt's
  // format_to was a measurable share of a GET (docs/performance.md,
  // "Measurements behind the code: timestamp writer").
  std::array<char, 24> text{'0', '0', '0', '0', '-', '0', '0', '-', '0', '0', 'T', '0',
                            '0', ':', '0', '0', ':', '0', '0', '.', '0', '0', '0', 'Z'};
  auto put = [&](std::size_t end, auto value) {  // right-aligned in the zeros before `end`
    for (auto left = static_cast<unsigned>(value); left != 0; left /= 10) {
      text.at(--end) = static_cast<char>('0' + left % 10);
    }
  };
  put(4, year);
  put(7, static_cast<unsigned>(date.month()));
  put(10, static_cast<unsigned>(date.day()));
  put(13, time.hours().count());
  put(16, time.minutes().count());
  put(19, time.seconds().count());
  put(23, time.subseconds().count());
  out.append(text.data(), text.size());
}

std::string format_timestamp(Timestamp at) {
  std::string out;
  out.reserve(24);
  append_timestamp(out, at);
  return out;
}

}  // namespace icp

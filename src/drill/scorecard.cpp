#include "drill/scorecard.hpp"

#include <cstdio>
#include <sstream>

namespace rempart::drill {
namespace {

std::string seconds_text(double s) {
  char b[32];
  if (s < 1) {
    std::snprintf(b, sizeof b, "%.0f ms", s * 1000);
  } else {
    std::snprintf(b, sizeof b, "%.1f s", s);
  }
  return b;
}

// `text` folded to lines of at most `width` after `indent`.
void wrapped(std::ostringstream& o, const std::string& text, const std::string& indent, std::size_t width = 78) {
  std::string line;
  std::istringstream words(text);
  std::string w;
  while (words >> w) {
    if (!line.empty() && indent.size() + line.size() + 1 + w.size() > width) {
      o << indent << line << "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  if (!line.empty()) o << indent << line << "\n";
}

}  // namespace

std::int64_t Scorecard::total_exposed() const {
  std::int64_t n = 0;
  for (const auto& v : vectors) n += v.exposed;
  return n;
}

bool Scorecard::ok() const {
  if (!failure.empty() || vectors.empty()) return false;
  for (const auto& v : vectors) {
    if (!v.ok()) return false;
  }
  return blast.ok();
}

std::string render_text(const Scorecard& s) {
  std::ostringstream o;
  o << "rempart breach drill: the 2026 attack replayed on a throwaway copy\n"
    << "  " << s.supporters << " synthetic supporters (" << s.phones << " with a phone), " << s.honeytokens
    << " honeytokens; set-up " << seconds_text(s.setup_seconds) << ", whole drill " << seconds_text(s.total_seconds)
    << "\n"
    << "  In 2026: about 120,000 e-mail addresses and 20,000 phone numbers copied in minutes, and no alert.\n\n";
  // The summary a board reads; the details follow.
  auto cell = [](std::string text, std::size_t width) {
    if (text.size() > width) text.resize(width);
    return text + std::string(width - text.size(), ' ');
  };
  auto right = [](const std::string& text, std::size_t width) {
    return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
  };
  o << cell("", 4) << cell("attack", 52) << right("exposed", 8) << right("allowed", 9) << "  " << cell("first alert", 13)
    << "result\n";
  for (const auto& v : s.vectors) {
    const std::string alert = !v.ran ? "-" : v.first_alert_seconds ? seconds_text(*v.first_alert_seconds) : "none";
    o << cell(v.label, 4) << cell(v.title, 52) << right(v.ran ? std::to_string(v.exposed) : "-", 8)
      << right(std::to_string(v.bound), 9) << "  " << cell(alert, 13)
      << (!v.ran ? "NOT PLAYED" : v.ok() ? "OK" : "FAILED") << "\n";
  }
  if (s.blast.ran) {
    o << cell("", 4) << cell("People to warn, listed by audit blast-radius", 52) << right(std::to_string(s.blast.listed), 8)
      << right(std::to_string(s.blast.expected), 9) << "  " << cell(seconds_text(s.blast.seconds), 13)
      << (s.blast.ok() ? "OK (exact)" : "FAILED") << "\n";
  }
  o << "\nTotal people exposed: " << s.total_exposed() << ".   Verdict: "
    << (s.ok() ? "PASS: every attack stayed within its bound" : "FAIL: see the lines marked FAILED or NOT PLAYED")
    << "\n\nDetails\n\n";
  for (const auto& v : s.vectors) {
    o << v.label << ". " << v.title << "\n";
    if (!v.ran) {
      wrapped(o, "NOT PLAYED: " + v.failure, "     ");
      o << "\n";
      continue;
    }
    o << "     " << v.unit << ": " << v.exposed << " (acceptable: " << (v.bound == 0 ? "none" : "at most " + std::to_string(v.bound))
      << ")  " << (v.ok() ? "OK" : "FAILED") << "\n";
    wrapped(o, "stopped by: " + v.stopped_by, "     ");
    if (v.first_alert_seconds) {
      o << "     first alert:     after " << seconds_text(*v.first_alert_seconds) << "\n";
    } else {
      wrapped(o, "first alert: none (" + v.alert_note + ")", "     ");
    }
    for (const auto& f : v.findings) wrapped(o, "- " + f, "     ");
    if (!v.failure.empty()) wrapped(o, "FAILED CHECK: " + v.failure, "     ");
    o << "\n";
  }
  o << "The list of people to warn\n";
  if (!s.blast.ran) {
    wrapped(o, "NOT PRODUCED: " + s.blast.failure, "     ");
  } else {
    o << "     `rempart audit blast-radius` named " << s.blast.listed << " people whose data was revealed, in "
      << seconds_text(s.blast.seconds) << "\n"
      << "     the stolen sessions revealed " << s.blast.expected << ": " << s.blast.missing << " missing from the list, "
      << s.blast.extra << " listed wrongly  " << (s.blast.ok() ? "OK" : "FAILED") << "\n"
      << "     (" << s.blast.masked_only << " more were seen masked only: initials, e-mail and phone hidden)\n";
    if (!s.blast.failure.empty()) wrapped(o, "FAILED CHECK: " + s.blast.failure, "     ");
  }
  o << "\n";
  if (!s.failure.empty()) wrapped(o, "THE DRILL STOPPED EARLY: " + s.failure, "");
  if (!s.instance.empty()) {
    o << "The instance is kept in " << s.instance << " (synthetic data only; remove it when done).\n";
  } else if (s.removed) {
    o << "The throwaway instance has been removed.\n";
  }
  return o.str();
}

nlohmann::json render_json(const Scorecard& s) {
  nlohmann::json vectors = nlohmann::json::array();
  for (const auto& v : s.vectors) {
    vectors.push_back({{"id", v.id},
                       {"title", v.title},
                       {"ran", v.ran},
                       {"label", v.label},
                       {"exposed", v.exposed},
                       {"unit", v.unit},
                       {"bound", v.bound},
                       {"ok", v.ok()},
                       {"stopped_by", v.stopped_by},
                       {"first_alert_seconds",
                        v.first_alert_seconds ? nlohmann::json(*v.first_alert_seconds) : nlohmann::json(nullptr)},
                       {"alert_note", v.alert_note},
                       {"findings", v.findings},
                       {"counts", v.counts},
                       {"failure", v.failure}});
  }
  return {{"drill", "rempart breach drill"},
          {"supporters", s.supporters},
          {"phones", s.phones},
          {"honeytokens", s.honeytokens},
          {"setup_seconds", s.setup_seconds},
          {"total_seconds", s.total_seconds},
          {"vectors", std::move(vectors)},
          {"blast_radius",
           {{"ran", s.blast.ran},
            {"seconds", s.blast.seconds},
            {"listed", s.blast.listed},
            {"expected", s.blast.expected},
            {"missing", s.blast.missing},
            {"extra", s.blast.extra},
            {"masked_only", s.blast.masked_only},
            {"ok", s.blast.ok()},
            {"failure", s.blast.failure}}},
          {"total_exposed", s.total_exposed()},
          {"failure", s.failure},
          {"instance", s.instance},
          {"removed", s.removed},
          {"ok", s.ok()}};
}

}  // namespace rempart::drill

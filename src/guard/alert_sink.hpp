#pragma once
// What every alert destination implements. Internal to the guard layer: the
// Alerter builds its sinks from AlertOptions and gives each its own worker
// thread, so a sink may block for as long as its own limits allow.
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace rempart::guard {

// One alert as stamped by raise(): the same id and time for every sink.
struct StampedAlert {
  nlohmann::json json;  // to_json(alert)
  std::string line;     // json.dump(), without a newline
};

class AlertSink {
 public:
  virtual ~AlertSink() = default;

  // Delivers one alert, retrying as the sink's options allow. Must return
  // promptly (well under 100 ms) once `stop` is requested, with Errc::busy.
  // Called from the sink's single worker thread only, so implementations
  // need no locking of their own. The error message must name what failed
  // (status code, transport error) and never a secret or a full URL.
  virtual Result<void> deliver(const StampedAlert& alert, std::stop_token stop) = 0;
};

}  // namespace rempart::guard

#pragma once
// A generic HTTP/1.1 server on Boost.Beast: it owns sockets, deadlines and
// the protocol, and knows nothing about routes. Request logic lives in a
// Handler supplied by the caller (see intake_routes.hpp), so it can be read
// and tested apart from the I/O.
//
// Threading: one io_context run by ServerOptions::threads threads; every
// connection runs on its own strand, so a connection's handlers never run
// concurrently. The Handler is called on that strand and may answer later,
// from any thread, through its Responder.
//
// TLS is optional (ServerOptions::tls). Plain and TLS connections share one
// copy of the protocol code; every limit, deadline and smuggling check below
// applies identically to both.
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace rempart::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// PEM files for a TLS listener. The certificate file holds the server
// certificate first, then any intermediates. The key file must be readable by
// its owner only (like a keyring) and must not be encrypted (the server runs
// unattended and never prompts).
struct TlsOptions {
  std::filesystem::path certificate_file;
  std::filesystem::path key_file;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 0;  // 0: the kernel picks one; see Server::port()
  unsigned threads = 0;     // 0: std::thread::hardware_concurrency()
  // A request must arrive whole (header and body) within read_timeout of its
  // first byte (and a fresh connection must send it within read_timeout);
  // a keep-alive connection may wait idle_timeout for its next request.
  // Writing a response also gets read_timeout.
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds idle_timeout{30};
  std::size_t header_limit = 8192;  // larger header: 431, then close
  std::size_t body_limit = 16384;   // larger body: 413, then close
  // stop() waits at most this long for in-flight requests before cutting
  // every connection.
  std::chrono::seconds drain_timeout{5};
  // Set: the listener speaks only TLS (1.2 minimum, 1.3 preferred; for 1.2
  // only ECDHE with AES-GCM or ChaCha20-Poly1305; no compression, no
  // renegotiation). The handshake must finish within read_timeout; the
  // first request then gets read_timeout of its own. A failed handshake
  // closes the connection without any answer.
  std::optional<TlsOptions> tls{};
};

// Facts about the connection a request came on. Not personal data in the
// sense of core::Person, but still never logged.
struct RequestContext {
  boost::asio::ip::address client;
};

// Sends the response for one request. Call it exactly once, from any thread;
// later calls are ignored. If it is dropped uncalled, the connection closes.
// Calling it after the server stopped is harmless (the response is dropped).
using Responder = std::function<void(Response)>;

// Handles one complete request. Runs on the connection's strand; must not
// block (hand slow work elsewhere and answer through the Responder). The
// RequestContext is valid only during the call; copy what is needed. The
// server fills in version, Content-Length and keep-alive, and strips the body
// of answers to HEAD; the handler may set `Connection: close` to end the
// connection after its answer.
using Handler = std::function<void(Request&&, const RequestContext&, Responder)>;

// Protocol failures detected by the server itself, before any Handler runs.
enum class ProtocolError {
  malformed,          // unparsable request, bad target form, framing conflicts -> 400
  header_too_large,   // -> 431
  body_too_large,     // -> 413
  internal,           // the Handler threw -> 500 (a bug of ours, not the client's)
};

// Builds the full answer to a protocol failure (status, fixed body, headers).
// The server then forces `Connection: close`. Must not block; may be called
// concurrently from several threads.
using ErrorRenderer = std::function<Response(ProtocolError)>;

// Builds a plain-text answer to a protocol failure; used when start() is
// given no ErrorRenderer.
Response default_protocol_error_response(ProtocolError e);

class Server {
 public:
  // Binds, listens and starts the threads. Errors: Errc::config for a bad
  // address, and with TLS for a certificate or key file that cannot be read
  // or parsed, a key file open to group or others, a key that does not match
  // the certificate (the message names the file, never its content);
  // Errc::io when binding or listening fails. The handler and the
  // renderer must stay valid until stop() returns (or the Server is
  // destroyed).
  static Result<std::unique_ptr<Server>> start(ServerOptions options, Handler handler,
                                               ErrorRenderer render_error = {});

  // Stops (as stop()) if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (useful with ServerOptions::port == 0). Thread-safe.
  unsigned short port() const noexcept;

  // Whether the listener speaks TLS (ServerOptions::tls was set). Thread-safe.
  bool tls() const noexcept;

  // Graceful stop: stops accepting, closes connections waiting for a request
  // (TLS ones get a close_notify first, best effort and bounded), lets
  // requests already being read or handled finish (their answer carries
  // `Connection: close`) for at most drain_timeout, then cuts what remains and
  // joins the threads. Idempotent. Must not be called from a server thread.
  void stop();

  struct State;  // shared with connections; opaque

 private:
  explicit Server(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace rempart::http

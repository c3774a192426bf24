# What bench/ab_signups.sh, bench/ab_mixed.sh and bench/soak.sh share; sourced, not run.
# Defines `dir` (a fresh temporary directory, removed on exit with the
# server whose pid is in `server`), free_port, copy_instance,
# copy_on_free_ports, serve_all and wait_for_port.

dir="$(mktemp -d "${TMPDIR:-/tmp}/rempart-ab.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# copy_instance BASE PORT CONSOLE_PORT: BASE's data and keys into $dir, and
# its configuration as $dir/rempart.toml with the copy's paths and the
# listen addresses of [intake] and [console] on the given ports.
copy_instance() {
  local base port console
  base="$(cd "$1" && pwd)"
  port="$2"
  console="$3"
  cp -r "$base/data" "$base/keys" "$dir/"
  sync  # the copy written out, so its writeback does not stall the load's commits
  awk -v base="$base/" -v dir="$dir/" -v intake="127.0.0.1:$port" -v console="127.0.0.1:$console" '
    /^\[/ { section = $1 }
    { out = ""; rest = $0
      while ((i = index(rest, base)) > 0) { out = out substr(rest, 1, i - 1) dir; rest = substr(rest, i + length(base)) }
      $0 = out rest }
    /^listen = / && section == "[intake]" { $0 = "listen = \"" intake "\"" }
    /^listen = / && section == "[console]" { $0 = "listen = \"" console "\"" }
    { print }' "$base/rempart.toml" >"$dir/rempart.toml"
}

# copy_on_free_ports BASE: copy_instance on two free ports, kept in `port`
# (the intake) and `console`.
copy_on_free_ports() {
  port="$(free_port)"
  console="$(free_port)"
  copy_instance "$1" "$port" "$console"
}

# serve_all BINARY: `BINARY serve --role all` on the copy, its pid in
# `server`, its log in $dir/serve.log; returns once both ports accept.
serve_all() {
  "$1" serve --role all --config "$dir/rempart.toml" >"$dir/serve.log" 2>&1 &
  server=$!
  wait_for_port "$port" "$console"
}

# wait_for_port PORT...: until each accepts a connection (10 s at most).
wait_for_port() {
  local p
  for p in "$@"; do
    for _ in $(seq 100); do
      if (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then break; fi
      sleep 0.1
    done
  done
}

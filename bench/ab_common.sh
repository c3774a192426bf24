# What bench/ab_signups.sh and bench/ab_mixed.sh share; sourced, not run.
# Defines `dir` (a fresh temporary directory, removed on exit with the
# server whose pid is in `server`), free_port, copy_instance and
# wait_for_port.

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

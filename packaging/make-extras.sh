#!/usr/bin/env bash
# Makes what the Debian package ships beside the binary, from the binary
# itself so that neither can drift from it: a man page per command (Debian's
# help2man reads each `--help`) and an example configuration (what
# `rempart init` writes for the package's layout).
# Usage: packaging/make-extras.sh REMPART_BINARY OUTPUT_DIR
set -euo pipefail

bin="$(realpath "$1")"
out="$2"
rm -rf "$out"
mkdir -p "$out/man" "$out/examples"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# Called by its name from PATH, the program shows `rempart` in its usage
# lines, not the build tree's path.
mkdir "$scratch/bin"
ln -s "$bin" "$scratch/bin/rempart"
export PATH="$scratch/bin:$PATH"

# help2man runs "$bin $help_option": a subcommand's page comes from
# `rempart SUB --help`. SOURCE_DATE_EPOCH keeps the pages' dates reproducible.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$(dirname "$0")" log -1 --format=%ct 2>/dev/null || date +%s)}"
page() {  # page NAME DESCRIPTION [SUBCOMMAND]
  local name="$1" what="$2" sub="${3:-}"
  help2man --no-info --section=1 --name="$what" --source=rempart \
    --help-option="${sub:+$sub }--help" --version-option=--version \
    --include=<(printf '[SEE ALSO]\nrempart(1); /usr/share/doc/rempart/operations.md\n') \
    --output="$out/man/$name.1" rempart
  if [ -n "$sub" ]; then  # help2man names every page after the program
    sed -i -e "s/^\.TH REMPART /.TH ${name^^} /" -e "/^\.SH NAME/{n;s/^rempart /rempart\\\\-$sub /}" "$out/man/$name.1"
  fi
  gzip -9n "$out/man/$name.1"
}
page rempart "a supporter database built to survive a breach"
# Each top-level command of src/cli/main.cpp, with its own page.
for sub in init serve supporters retention audit backup admin honeytokens export canary mailing notify; do
  what="$(rempart "$sub" --help | sed -n 1p)"
  page "rempart-$sub" "${what:-rempart $sub}" "$sub"
done

# The example: the keeper's configuration as `rempart-setup` writes it.
# `init` needs real directories: it works in the scratch root, whose keys
# are deleted with it, and the paths are then made the package's.
rempart init --data "$scratch/var/lib/rempart/keeper" --keys "$scratch/etc/rempart/keeper/keys" \
  --checkpoints "$scratch/var/lib/rempart/audit/rempart-audit.checkpoints" \
  --config "$scratch/rempart.toml" --region FR >/dev/null
sed "s|$scratch||g" "$scratch/rempart.toml" >"$out/examples/rempart.toml"

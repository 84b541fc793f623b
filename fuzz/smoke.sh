#!/usr/bin/env bash
# Builds every fuzz target and runs each for N seconds (default 20), on stable Rust.
#
#   fuzz/smoke.sh [SECONDS]
#
# Exits non-zero when a target crashes (a panic, a failed check, a timeout or running out of
# memory); the input that did it is in fuzz/artifacts/<target>/ and the tail of the log is
# printed. Needs cargo-fuzz (installed with `cargo install cargo-fuzz --locked` when missing).
set -euo pipefail

secs="${1:-20}"
case "$secs" in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz ..." >&2
  cargo install cargo-fuzz --locked
fi

# Stable Rust: no sanitizer (ASan and friends need nightly); panics and checks still count.
cargo fuzz build --sanitizer none

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
status=0
for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target" "artifacts/$target"
  dirs=("corpus/$target")
  if [ -d "seeds/$target" ]; then dirs+=("seeds/$target"); fi
  log="$logs/$target.log"
  if cargo fuzz run "$target" --sanitizer none "${dirs[@]}" -- \
      -max_total_time="$secs" -seed=1 -print_final_stats=1 >"$log" 2>&1; then
    runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || true)"
    cov="$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 || true)"
    echo "ok   $target: ${runs:-?} runs in ${secs}s, ${cov:-cov: ?}"
  else
    status=1
    echo "FAIL $target: see fuzz/artifacts/$target/ (log tail below)"
    tail -n 40 "$log"
  fi
done
exit "$status"

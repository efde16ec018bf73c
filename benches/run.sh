#!/usr/bin/env bash
# Reproducible throughput and memory measurement of `leaktrail sources` (every line and
# timestamp parsed, every file hashed) on generated combined-format access logs.
#
#   benches/run.sh [DIR]      (DIR holds the generated logs; default target/bench-data)
#
# Prints, per size: wall time (median of 5 warm runs), throughput, and peak anonymous memory
# (RssAnon polled every 5 ms: heap, not the mapped evidence's page cache). Anchors measured in
# the same run: `cat > /dev/null` and `wc -l`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-target/bench-data}
mkdir -p "$dir"
cargo build --release --quiet --bin leaktrail --example genlog
bin=target/release/leaktrail

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

time_cmd() { # runs "$@" 5 times, prints the median wall time in seconds
  for _ in 1 2 3 4 5; do
    local s e
    s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
    echo "$e - $s" | bc -l
  done | median
}

peak_anon() { # peak RssAnon (MiB) of "$@"
  "$@" > /dev/null & local pid=$! peak=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.005
  done
  wait "$pid"
  echo $((peak / 1024))
}

for mb in 1024 2048; do
  f="$dir/access-${mb}m.log"
  [ -s "$f" ] || target/release/examples/genlog "$f" "$mb"
  cat "$f" > /dev/null
  bytes=$(stat -c %s "$f")
  t=$(time_cmd "$bin" sources "$f")
  cat_t=$(time_cmd cat "$f")
  wc_t=$(time_cmd wc -l "$f")
  anon=$(peak_anon "$bin" sources "$f")
  printf '%5d MiB: leaktrail sources %.2f s = %.2f GB/s | cat %.2f s, wc -l %.2f s | peak RssAnon %d MiB\n' \
    "$mb" "$t" "$(echo "$bytes / $t / 1000000000" | bc -l)" "$cat_t" "$wc_t" "$anon"
done

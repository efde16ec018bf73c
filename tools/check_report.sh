#!/usr/bin/env bash
# Renders a leaktrail report.html in headless Chromium: a screenshot must be written and not
# blank, the rendered page must hold the report's sections, and the browser must log no
# script or console error. Installs Debian's chromium when it is missing.
# Usage: tools/check_report.sh REPORT.html SCREENSHOT.png
set -euo pipefail
html=$(realpath "$1")
shot=$2

if ! command -v chromium >/dev/null 2>&1; then
  echo "check_report: installing Debian's chromium"
  as_root=""
  [ "$(id -u)" -eq 0 ] || as_root="sudo"
  $as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium >/dev/null
fi

flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
  --disable-extensions --enable-logging=stderr --v=0)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

timeout 120 chromium "${flags[@]}" --window-size=1280,2400 --screenshot="$shot" "file://$html" 2>"$log" >/dev/null
size=$(stat -c %s "$shot" 2>/dev/null || echo 0)
if [ "$size" -lt 20000 ]; then
  echo "check_report: screenshot missing or blank ($size bytes)"; cat "$log"; exit 1
fi

dom=$(timeout 120 chromium "${flags[@]}" --dump-dom "file://$html" 2>>"$log")
for want in 'id="summary"' 'id="incidents"' 'id="actors"' 'id="evidence"' '<svg' 'INC-1'; do
  grep -q -- "$want" <<<"$dom" || { echo "check_report: rendered page lacks $want"; exit 1; }
done

if grep -E 'Uncaught|:CONSOLE[:(]|Refused to' "$log"; then
  echo "check_report: the browser reported errors"; exit 1
fi
echo "check_report: rendered, screenshot $size bytes, no script errors"

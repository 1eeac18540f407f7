#!/usr/bin/env bash
# CPU profile of the dispatcher in a bench scenario (default 12: 100,000 deliveries, one dispatcher, no rate cap).
# Needs perf (apt-get install -y linux-perf) and root. Prints where the dispatcher's CPU went, by library.
#   bench/profile/profile.sh [scenario]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
scenario="${1:-12}"
out=artifacts/profile
mkdir -p "$out"

# perf names JIT-compiled methods from /tmp/perf-<pid>.map; W^X double-mapping would hide them.
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
dotnet run -c Release --project bench/Bot.Bench -- --only "$scenario" > "$out/bench.log" 2>&1 &
bench=$!
pid=""
until [ -n "$pid" ]; do
  kill -0 "$bench" 2>/dev/null || { echo "the bench ended before a dispatcher started (see $out/bench.log)" >&2; exit 1; }
  pid=$(pgrep -f -- "--role dispatcher" | head -n 1 || true)
  sleep 0.2
done
# System-wide, filtered to the dispatcher afterwards: perf -p follows only the threads that exist when it attaches.
perf record -e cpu-clock -F 499 -g -a -o "$out/perf.data" > "$out/perf-record.log" 2>&1 &
perf=$!
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
kill -INT "$perf"
wait "$perf" || true
wait "$bench"
grep -E "^$scenario " "$out/bench.log" | grep -E "deliveries/s|CPU µs per delivery: dispatcher" || true
perf script -i "$out/perf.data" --pid "$pid" -F comm,tid,ip,sym,dso 2>/dev/null > "$out/dispatcher.stacks"
python3 bench/profile/summarize.py "$out/dispatcher.stacks"

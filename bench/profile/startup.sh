#!/usr/bin/env bash
# Start-up of a dispatcher replica as the Dockerfile publishes it, with and without ReadyToRun: milliseconds from exec
# to /health/ready answering 200, and the CPU the process spent by then. Needs redis-server and curl.
#   bench/profile/startup.sh [runs]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
runs="${1:-5}"
out=artifacts/startup
rm -rf "$out" && mkdir -p "$out"
dotnet publish src/Bot.Scheduler/Bot.Scheduler.csproj -c Release -o "$out/jit" > "$out/publish.log"
dotnet publish src/Bot.Scheduler/Bot.Scheduler.csproj -c Release -a x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$out/r2r" >> "$out/publish.log"
redis_port=46379
health_port=48081

once() {
  redis-server --port "$redis_port" --save "" --appendonly no --daemonize yes > /dev/null
  sleep 0.3
  local start end pid cpu
  start=$(date +%s%N)
  (cd "$out/$1" && exec env ConnectionStrings__Redis=127.0.0.1:$redis_port WhatsApp__BaseUrl=http://127.0.0.1:1 \
    WhatsApp__PhoneNumberId=106540352242922 WhatsApp__AccessToken=startup Dispatcher__HealthPort=$health_port \
    DOTNET_ENVIRONMENT=Production dotnet Bot.Scheduler.dll > "../$1.log" 2>&1) &
  pid=$!
  for _ in $(seq 3000); do curl -fsS -o /dev/null "http://127.0.0.1:$health_port/health/ready" 2> /dev/null && break; sleep 0.01; done
  end=$(date +%s%N)
  cpu=$(awk '{print ($14 + $15) * 10}' "/proc/$pid/stat")
  echo "$1: ready after $(( (end - start) / 1000000 )) ms, $cpu ms of CPU"
  kill "$pid"; wait "$pid" 2> /dev/null || true
  redis-cli -p "$redis_port" shutdown nosave > /dev/null 2>&1 || true
  sleep 0.5
}

for _ in $(seq "$runs"); do once jit; once r2r; done

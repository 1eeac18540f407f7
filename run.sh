#!/usr/bin/env bash
# One command from clone to announcements flowing:
#   ./run.sh            build; start Redis (AOF), the WhatsApp stub, the webhook/API host and two dispatchers; Ctrl-C stops all
#   ./run.sh --demo     ... then register 1,000 employees, schedule an announcement a few seconds ahead, show progress,
#                       and print the stub's count of messages per recipient (all exactly 1); then stop
#   ./run.sh --smoke    like --demo with 5 employees; exit 0 on success, non-zero otherwise (used by .ci/run)
#   ./run.sh --faults   also switch on the stub's fault mappings (429 + Retry-After, 131026, slow answers)
# Ports can be moved with REDIS_PORT, STUB_PORT, WEBHOOK_PORT, DISPATCHER_HEALTH_PORT (first of two) env vars.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(pwd)

mode=run
faults=()
for arg in "$@"; do
  case "$arg" in
    --demo) mode=demo ;;
    --smoke) mode=smoke ;;
    --faults) faults=(--faults) ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

redis_port=${REDIS_PORT:-6379}
stub_port=${STUB_PORT:-9091}
webhook_port=${WEBHOOK_PORT:-8080}
health_port=${DISPATCHER_HEALTH_PORT:-8091}
# The same values as src/Bot.Webhook/appsettings.Development.json, so the webhook host and the dispatchers agree.
api_key=demo-key-0123456789abcdef
phone_number_id=106540352242922
access_token=local-stub-token
config=Release
data_dir=$root/.data
log_dir=$data_dir/logs
api=http://localhost:$webhook_port
stub=http://localhost:$stub_port

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ -t 1 ]; then say() { printf '\033[1m==> %s\033[0m\n' "$*"; }; else say() { printf '==> %s\n' "$*"; }; fi
fail() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# --- processes we start, stopped in reverse order on exit (Ctrl-C, error or success) ---------------------------
pids=()
names=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ] && [ "$mode" = smoke ]; then
    # CI sees only this output: show what each process said last.
    for name in "${names[@]}"; do
      echo "--- last lines of .data/logs/$name.log ---" >&2
      tail -n 15 "$log_dir/$name.log" >&2 2>/dev/null || true
    done
  fi
  if [ ${#pids[@]} -gt 0 ]; then
    say "Stopping ${names[*]}"
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
    for _ in $(seq 50); do
      local alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" -eq 0 ] && break
      sleep 0.2
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME LOGFILE WORKDIR COMMAND...: runs in the background from WORKDIR (content root for appsettings*.json).
start() {
  local name=$1 log=$2 dir=$3
  shift 3
  (cd "$dir" && exec "$@") >"$log" 2>&1 &
  pids+=("$!")
  names+=("$name")
}

# wait_for NAME URL: until URL answers 2xx, or the process died, or 60 s passed.
wait_for() {
  local name=$1 url=$2 pid=${pids[-1]} log
  for _ in $(seq 300); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      log=$log_dir/$name.log
      echo "--- last lines of $log ---" >&2
      tail -n 20 "$log" >&2 || true
      fail "$name exited before $url answered"
    fi
    sleep 0.2
  done
  fail "$name did not answer $url within 60 s (log: $log_dir/$name.log)"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

redis_answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = "PONG" ]
  else
    # No redis-cli: speak RESP over bash's /dev/tcp.
    (exec 3<>"/dev/tcp/127.0.0.1/$redis_port" && printf 'PING\r\n' >&3 && read -r -t 2 line <&3 && [[ "$line" == +PONG* ]]) 2>/dev/null
  fi
}

# --- prerequisites -------------------------------------------------------------------------------------------------
command -v dotnet >/dev/null 2>&1 || fail "dotnet not found: install the .NET 10 SDK (https://dot.net)"
command -v curl >/dev/null 2>&1 || fail "curl not found: apt-get install -y curl"
mkdir -p "$log_dir"
for port in "$stub_port" "$webhook_port" "$health_port" "$((health_port + 1))"; do
  port_busy "$port" && fail "port $port is already in use (another ./run.sh?); stop it or set STUB_PORT/WEBHOOK_PORT/DISPATCHER_HEALTH_PORT"
done

say "Building ($config)"
for project in src/Bot.Webhook/Bot.Webhook.csproj src/Bot.Scheduler/Bot.Scheduler.csproj tools/WhatsAppStub/WhatsAppStub.csproj; do
  dotnet build "$project" -c "$config" -nologo -v q </dev/null >"$log_dir/build.log" 2>&1 \
    || { tail -n 30 "$log_dir/build.log" >&2; fail "build of $project failed (log: $log_dir/build.log)"; }
done
bin() { echo "$root/$1/bin/$config/net10.0"; }

# --- Redis ---------------------------------------------------------------------------------------------------------
if redis_answers; then
  say "Using the Redis already answering on localhost:$redis_port"
else
  command -v redis-server >/dev/null 2>&1 \
    || fail "nothing answers on localhost:$redis_port and redis-server is not installed: apt-get install -y redis-server (macOS: brew install redis)"
  mkdir -p "$data_dir/redis"
  say "Starting redis-server on localhost:$redis_port (AOF, appendfsync always, data in .data/redis)"
  start redis "$log_dir/redis.log" "$data_dir/redis" \
    redis-server --port "$redis_port" --bind 127.0.0.1 --appendonly yes --appendfsync always --dir "$data_dir/redis"
  for _ in $(seq 100); do redis_answers && break; sleep 0.1; done
  redis_answers || { tail -n 20 "$log_dir/redis.log" >&2; fail "redis-server did not start"; }
fi

# --- the WhatsApp stub, the webhook host and two dispatchers -------------------------------------------------------
say "Starting the WhatsApp stub on $stub ${faults[*]:-}"
start whatsapp-stub "$log_dir/whatsapp-stub.log" "$(bin tools/WhatsAppStub)" dotnet WhatsAppStub.dll --port "$stub_port" "${faults[@]}"
wait_for whatsapp-stub "$stub/__admin/health"

common_env=(
  "ConnectionStrings__Redis=localhost:$redis_port"
  "WhatsApp__BaseUrl=$stub"
  "WhatsApp__PhoneNumberId=$phone_number_id"
  "WhatsApp__AccessToken=$access_token"
)

say "Starting the webhook/API host on $api"
start webhook "$log_dir/webhook.log" "$(bin src/Bot.Webhook)" env "${common_env[@]}" \
  ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$api" Dispatcher__Enabled=false dotnet Bot.Webhook.dll
wait_for webhook "$api/health/ready"

for replica in 1 2; do
  port=$((health_port + replica - 1))
  say "Starting dispatcher $replica (health on http://localhost:$port/health/ready)"
  start "dispatcher-$replica" "$log_dir/dispatcher-$replica.log" "$(bin src/Bot.Scheduler)" env "${common_env[@]}" \
    DOTNET_ENVIRONMENT=Development Dispatcher__HealthPort="$port" dotnet Bot.Scheduler.dll
  wait_for "dispatcher-$replica" "http://localhost:$port/health/ready"
done

cat <<EOF

  Employer API   $api/api   (header  X-Api-Key: $api_key)
  Health         $api/health/live   $api/health/ready
  Dispatchers    http://localhost:$health_port/health/ready   http://localhost:$((health_port + 1))/health/ready
  WhatsApp stub  $stub/stub/received   (every request: $stub/__admin/requests)
  Logs           .data/logs/

  Try:  curl -H 'X-Api-Key: $api_key' $api/api/announcements

EOF

if [ "$mode" = run ]; then
  say "Running; press Ctrl-C to stop everything"
  # Poll rather than `wait -n`: bash can swallow a SIGINT that arrives during `wait`, and Ctrl-C must always stop.
  while :; do
    for i in "${!pids[@]}"; do
      kill -0 "${pids[i]}" 2>/dev/null || fail "${names[i]} exited unexpectedly; see .data/logs/${names[i]}.log"
    done
    sleep 1
  done
fi

# --- demo / smoke --------------------------------------------------------------------------------------------------
employees=1000
[ "$mode" = smoke ] && employees=5
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1; }

say "Registering $employees employees (POST /api/employees/import)"
csv="employeeId,phone,name"
ids=""
for i in $(seq 1 "$employees"); do
  csv+=$'\n'"$(printf 'e%05d,+1650555%04d,Employee %d' "$i" "$i" "$i")"
  ids+="$(printf '"e%05d"' "$i"),"
done
curl -fsS -X POST "$api/api/employees/import" -H "X-Api-Key: $api_key" -H 'Content-Type: text/csv' \
  --data-binary "$csv" -o /dev/null || fail "employee import failed"

send_at=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v+5S +%Y-%m-%dT%H:%M:%SZ)
say "Scheduling an announcement to those $employees employees at $send_at"
# The explicit list keeps employees registered by earlier runs out of this count.
body="{\"message\":\"Hello from ./run.sh --$mode\",\"sendAt\":\"$send_at\",\"employeeIds\":[${ids%,}]}"
created=$(curl -fsS -X POST "$api/api/announcements" -H "X-Api-Key: $api_key" -H 'Content-Type: application/json' --data "$body") \
  || fail "POST /api/announcements failed"
id=$(json_field id <<<"$created")
[ -n "$id" ] || fail "no id in $created"
echo "  announcement $id"

timeout_s=$((employees / 10 + 60))
deadline=$((SECONDS + timeout_s))
status=""
while :; do
  view=$(curl -fsS "$api/api/announcements/$id" -H "X-Api-Key: $api_key") || fail "GET /api/announcements/$id failed"
  status=$(json_field status <<<"$view")
  printf '  %s  status=%-11s targeted=%-5s sent=%-5s delivered=%-5s failed=%-5s unknown=%s\n' "$(date +%T)" "$status" \
    "$(json_field targeted <<<"$view")" "$(json_field sent <<<"$view")" "$(json_field delivered <<<"$view")" \
    "$(json_field failed <<<"$view")" "$(json_field unknown <<<"$view")"
  [ "$status" = completed ] && break
  [ "$SECONDS" -lt "$deadline" ] || fail "announcement $id not completed within ${timeout_s}s (status: $status)"
  sleep 1
done

say "Messages per recipient at the stub ($stub/stub/received)"
received=$(curl -fsS "$stub/stub/received") || fail "GET /stub/received failed"
printf '%s\n' "$received" >"$data_dir/received.json"
# One "+1650555xxxx": N pair per line, then a histogram: how many recipients got 1 message, 2, ...
per_recipient=$(grep -o '"+[0-9]*":[0-9]*' <<<"$received" | tr -d '"' | sed 's/:/ /')
if [ "$employees" -le 20 ]; then
  sed 's/^/  /' <<<"$per_recipient"
else
  head -n 5 <<<"$per_recipient" | sed 's/^/  /'
  echo "  ... (all $(wc -l <<<"$per_recipient") in .data/received.json)"
fi
awk '{ n[$2]++ } END { for (c in n) printf "  %d recipient(s) got %d message(s)\n", n[c], c }' <<<"$per_recipient"

declare -A got
while read -r phone count; do [ -n "$phone" ] && got[$phone]=$count; done <<<"$per_recipient"
missing=0
duplicated=0
for i in $(seq 1 "$employees"); do
  count=${got[$(printf '+1650555%04d' "$i")]:-0}
  if [ "$count" -eq 0 ]; then missing=$((missing + 1)); elif [ "$count" -ne 1 ]; then duplicated=$((duplicated + 1)); fi
done
if [ "$missing" -eq 0 ] && [ "$duplicated" -eq 0 ]; then
  say "OK: each of the $employees employees got exactly 1 message"
elif [ ${#faults[@]} -gt 0 ]; then
  say "With --faults: $missing employee(s) got no message (e.g. 131026 for numbers ending in 026), $duplicated more than one"
else
  fail "$missing employee(s) got no message and $duplicated got more than one"
fi

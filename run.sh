#!/usr/bin/env bash
# One command from clone to announcements flowing:
#   ./run.sh            build; start Redis (AOF), the WhatsApp stub, the webhook/API host and two dispatchers; Ctrl-C stops all
#   ./run.sh --demo     ... then tools/Demo registers 1,000 employees (4 in 5 message the bot first), schedules an announcement
#                       5 s ahead, shows progress, the send rate seen at the stub, the messages per recipient (all exactly 1)
#                       and the statuses the stub posts back (read; failed 131047 for those who never messaged); then stop
#   ./run.sh --smoke    like --demo with 5 employees; exit 0 on success, non-zero otherwise (used by .ci/run)
#   ./run.sh --faults   also switch on the stub's fault mappings (429 + Retry-After, 131026, slow answers)
# Ports can be moved with REDIS_PORT, STUB_PORT, WEBHOOK_PORT, DISPATCHER_HEALTH_PORT (first of two) env vars;
# settings pass through as env vars, e.g. WhatsApp__MessagesPerSecond=1000 ./run.sh --demo (default cap: 80/s).
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
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
waba_id=102290129340398
access_token=local-stub-token
app_secret=local-stub-app-secret
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

# redis_config NAME: the value CONFIG GET NAME answers on the port (empty or an error text when refused).
redis_config() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -p "$redis_port" config get "$1" 2>/dev/null | sed -n 2p
  else
    # RESP reply: *2, $len, NAME, $len, VALUE: the fifth line is the value.
    (exec 3<>"/dev/tcp/127.0.0.1/$redis_port" && printf '*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$%d\r\n%s\r\n' "${#1}" "$1" >&3 &&
      for _ in 1 2 3 4 5; do read -r -t 2 line <&3 || break; value=${line%$'\r'}; done && printf '%s' "$value") 2>/dev/null
  fi
}

# --- prerequisites -------------------------------------------------------------------------------------------------
# What is missing is installed the way .ci/run does it: apt-get, as root or through sudo -n (never a password prompt).
# Where that cannot run, one line says what to run instead.
mkdir -p "$log_dir"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo -n)
can_apt() { command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; }
apt_updated=""
# need COMMAND PACKAGE ELSEWHERE: installs PACKAGE when COMMAND is missing; ELSEWHERE is the hint for other systems.
need() {
  local cmd=$1 package=$2 elsewhere=$3
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if can_apt; then
    say "$cmd not found; installing $package with apt-get (log: .data/logs/apt.log)"
    if [ -z "$apt_updated" ]; then
      "${sudo_cmd[@]}" apt-get update -qq </dev/null >>"$log_dir/apt.log" 2>&1 || true
      apt_updated=1
    fi
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" </dev/null >>"$log_dir/apt.log" 2>&1 || true
    command -v "$cmd" >/dev/null 2>&1 && return 0
    fail "$cmd not found and apt-get install $package failed (log: .data/logs/apt.log): install $package, then run ./run.sh again"
  fi
  command -v apt-get >/dev/null 2>&1 \
    || fail "$cmd not found: install $package (Debian/Ubuntu: apt-get install -y $package; $elsewhere), then ./run.sh again"
  fail "$cmd not found and this user cannot apt-get (needs root or passwordless sudo): run sudo apt-get install -y $package, then ./run.sh again"
}

need curl curl "macOS: it is built in"
# A user-level SDK from dotnet-install.sh lives in ~/.dotnet, often not on PATH yet.
if ! command -v dotnet >/dev/null 2>&1 && [ -x "$HOME/.dotnet/dotnet" ]; then
  export DOTNET_ROOT=$HOME/.dotnet PATH=$HOME/.dotnet:$PATH
fi
dotnet_install='curl -fsSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0'
command -v dotnet >/dev/null 2>&1 \
  || fail "dotnet not found: install the .NET 10 SDK (https://dot.net/install), e.g. $dotnet_install, then ./run.sh again"
dotnet --list-sdks 2>/dev/null | grep -q '^10\.' \
  || fail "dotnet has no .NET 10 SDK (global.json asks for 10.0.100 or later): install it (https://dot.net/install), e.g. $dotnet_install"
for port in "$stub_port" "$webhook_port" "$health_port" "$((health_port + 1))"; do
  port_busy "$port" && fail "port $port is already in use (another ./run.sh?); stop it or set STUB_PORT/WEBHOOK_PORT/DISPATCHER_HEALTH_PORT"
done

say "Building ($config)"
for project in src/Bot.Webhook/Bot.Webhook.csproj src/Bot.Scheduler/Bot.Scheduler.csproj tools/WhatsAppStub/WhatsAppStub.csproj tools/Demo/Demo.csproj; do
  dotnet build "$project" -c "$config" -nologo -v q </dev/null >"$log_dir/build.log" 2>&1 \
    || { tail -n 30 "$log_dir/build.log" >&2; fail "build of $project failed (log: $log_dir/build.log)"; }
done
bin() { echo "$root/$1/bin/$config/net10.0"; }

# --- Redis ---------------------------------------------------------------------------------------------------------
if redis_answers; then
  # The exactly-once promise rests on Redis keeping what it acknowledged: never use a Redis without AOF unnoticed.
  appendonly=$(redis_config appendonly)
  [ "$appendonly" = yes ] || fail "the Redis on localhost:$redis_port has appendonly ${appendonly:-unknown (CONFIG GET refused)}: acknowledged sends could be lost on a restart; enable AOF there (redis-cli -p $redis_port config set appendonly yes), stop it, or set REDIS_PORT to a free port and run.sh starts its own"
  say "Using the Redis already answering on localhost:$redis_port (appendonly yes, appendfsync $(redis_config appendfsync))"
else
  need redis-server redis-server "macOS: brew install redis"
  mkdir -p "$data_dir/redis"
  say "Starting redis-server on localhost:$redis_port (AOF, appendfsync always, data in .data/redis)"
  start redis "$log_dir/redis.log" "$data_dir/redis" \
    redis-server --port "$redis_port" --bind 127.0.0.1 --appendonly yes --appendfsync always --dir "$data_dir/redis"
  for _ in $(seq 100); do redis_answers && break; sleep 0.1; done
  redis_answers || { tail -n 20 "$log_dir/redis.log" >&2; fail "redis-server did not start"; }
fi

# --- the WhatsApp stub, the webhook host and two dispatchers -------------------------------------------------------
# World mode: the stub knows this one sender and its token, and posts signed statuses (sent, delivered, read; failed
# 131047 for text to someone who never messaged the bot) to the webhook host, as WhatsApp would. Secrets go by
# environment, not on the command line where ps shows them.
say "Starting the WhatsApp stub on $stub ${faults[*]:-} (world mode: statuses to $api/webhook)"
start whatsapp-stub "$log_dir/whatsapp-stub.log" "$(bin tools/WhatsAppStub)" env \
  STUB_SENDERS="$phone_number_id=$access_token" STUB_APP_SECRET="$app_secret" STUB_WEBHOOK_URL="$api/webhook" \
  STUB_TEMPLATES="$root/tools/Demo/templates.json" \
  dotnet WhatsAppStub.dll --port "$stub_port" "${faults[@]}"
wait_for whatsapp-stub "$stub/__admin/health"

common_env=(
  "ConnectionStrings__Redis=localhost:$redis_port"
  "WhatsApp__BaseUrl=$stub"
  "WhatsApp__PhoneNumberId=$phone_number_id"
  "WhatsApp__AccessToken=$access_token"
  # The stub's catalog (tools/Demo/templates.json): synced by the webhook host, checked on every template send. Employees
  # outside the 24-hour window get the demo employer's fallback template from it instead of a text WhatsApp would fail.
  "WhatsApp__WabaId=$waba_id"
  "Employers__demo__FallbackTemplate__Name=announcement_notice"
  "Employers__demo__FallbackTemplate__Language=en_US"
  # Development logs four lines per HttpClient call: at 1,000 sends/s that is the dispatcher's main work.
  "Logging__LogLevel__System.Net.Http.HttpClient=Warning"
)

say "Starting the webhook/API host on $api"
start webhook "$log_dir/webhook.log" "$(bin src/Bot.Webhook)" env "${common_env[@]}" \
  ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$api" WhatsApp__AppSecret="$app_secret" Dispatcher__Enabled=false dotnet Bot.Webhook.dll
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
  WhatsApp stub  $stub/stub/received   (the last 1,000 requests: $stub/__admin/requests)
                 someone messages the bot: curl -d '{"phoneNumberId":"$phone_number_id","from":"16505550001","text":"hello"}' $stub/stub/inbound
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

# --- demo / smoke: tools/Demo drives the API and reads the stub's counts (JSON, as JSON) ----------------------------
employees=1000
[ "$mode" = smoke ] && employees=5
demo_args=(--api "$api" --api-key "$api_key" --stub "$stub" --employees "$employees" --received-file "$data_dir/received.json"
  --world-sender "$phone_number_id")
[ ${#faults[@]} -gt 0 ] && demo_args+=(--faults)
dotnet "$(bin tools/Demo)/Demo.dll" "${demo_args[@]}" </dev/null || fail "the $mode client (tools/Demo) failed; logs in .data/logs/"

#!/usr/bin/env bash
# bench/http/run.sh — keep-alive HTTPS throughput: tincan against nginx.
#
# Both servers run on 127.0.0.1, serve the same files (the repo's web/
# directory), with the same kind of certificate (one ECDSA P-256 self-signed
# certificate generated here and given to both), and receive the same wrk
# load. tincan is single-threaded, so the headline ratio is against nginx with
# worker_processes 1; nginx with worker_processes auto is reported too.
#
# All servers run at once (an idle server costs nothing) and the runs are
# interleaved, round after round, so that load from anything else on the
# machine falls on every server alike; the median of the rounds is reported.
#
# Prints a table; nothing is written to the repository. See bench/README.md.
#
# Environment overrides:
#   WRK_THREADS (2) WRK_CONNS (64) WRK_DURATION (5, seconds per run)
#   BENCH_ROUNDS (3)               runs per server and request, interleaved;
#                                  the median run is reported
#   BENCH_PATHS ("/app.js /")      request targets
#   BENCH_GZIP (1)                 also run each target with Accept-Encoding: gzip
#   BENCH_SERVERS ("tincan nginx-1 nginx-auto")
#   BENCH_PIN (auto)               auto|0: pin server to CPU 0 and wrk to the rest
#   TINCAN_BIN (./tincan)  WEB_ROOT (web/)  BENCH_TINCAN_DISK (0): run tincan
#   with --web-root instead of its embedded copy (forced when WEB_ROOT is not
#   the repo's web/).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TINCAN_BIN=${TINCAN_BIN:-$ROOT/tincan}
WEB_ROOT=$(cd "${WEB_ROOT:-$ROOT/web}" && pwd)
THREADS=${WRK_THREADS:-2}
CONNS=${WRK_CONNS:-64}
DURATION=${WRK_DURATION:-5}
DURATION=${DURATION%s}
PATHS=${BENCH_PATHS:-"/app.js /"}
GZIP=${BENCH_GZIP:-1}
SERVERS=${BENCH_SERVERS:-"tincan nginx-1 nginx-auto"}
PIN=${BENCH_PIN:-auto}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=2

. "$(dirname "$0")/../lib.sh"
bench_init http

need_pkg() { # need_pkg COMMAND PACKAGE...
	local cmd=$1; shift
	command -v "$cmd" >/dev/null && return 0
	[ "$(id -u)" = 0 ] || die "$cmd missing; install one of: $*"
	local p
	for p in "$@"; do
		echo "bench/http: installing $p" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p" >&2 && return 0
	done
	die "could not install $cmd"
}
need_pkg wrk wrk
need_pkg nginx nginx-light nginx
need_pkg openssl openssl
need_pkg curl curl
[ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx || NGINX=$(command -v nginx)

case "$DURATION" in *[!0-9]* | '') die "WRK_DURATION must be whole seconds, got '$DURATION'" ;; esac

# CPU placement. With 2+ CPUs the single-threaded server gets CPU 0 to
# itself and wrk the others, so the two do not steal time from each other.
NCPU=$(nproc)
if [ "$PIN" != 0 ] && [ "$NCPU" -ge 2 ]; then
	SRV_PIN=(taskset -c 0)
	WRK_CPUS=1
	[ "$NCPU" -gt 2 ] && WRK_CPUS="1-$((NCPU - 1))"
	WRK_PIN=(taskset -c "$WRK_CPUS")
	PIN_NOTE="server pinned to CPU 0 (nginx-auto: unpinned, $NCPU workers), wrk to CPU $WRK_CPUS"
else
	SRV_PIN=()
	WRK_PIN=()
	PIN_NOTE="no CPU pinning"
fi
CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID: utime+stime of PID and its direct children, in clock ticks.
cpu_ticks() {
	local total=0 p f
	for p in "$1" $(pgrep -P "$1" || true); do
		[ -r "/proc/$p/stat" ] || continue
		f=$(sed 's/^.*) //' "/proc/$p/stat")
		set -- $f
		total=$((total + ${12} + ${13}))
	done
	echo "$total"
}

# --- shared material: certificate, web root copy with .gz siblings ---------
bench_cert
chmod 755 "$TMP"
chmod 644 "$TMP"/*.pem
# nginx serves a copy with precompressed .gz files (gzip_static), which is
# what tincan does with its embedded, build-time compressed files.
cp -r "$WEB_ROOT" "$TMP/web"
find "$TMP/web" -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' -o -name '*.json' \
	-o -name '*.svg' -o -name '*.txt' -o -name '*.webmanifest' -o -name '*.mjs' \) \
	-exec gzip -k -9 -n {} \;
chmod -R a+rX "$TMP/web"

for p in $PATHS; do
	f=$WEB_ROOT${p%/}
	[ "$p" = / ] && f=$WEB_ROOT/index.html
	[ -f "$f" ] || echo "bench/http: warning: $f does not exist; $p will be a 404" >&2
done

# Security headers nginx adds so both servers send responses of the same
# shape. Replaced by tincan's own values when tincan is running.
declare -A SEC_HDR=(
	[Strict-Transport-Security]="max-age=63072000"
	[Content-Security-Policy]="default-src 'self'; connect-src 'self' wss:"
	[X-Content-Type-Options]="nosniff"
	[X-Frame-Options]="DENY"
	[Referrer-Policy]="no-referrer"
	[Permissions-Policy]="camera=(self), microphone=(self), display-capture=(self)"
)

copy_tincan_headers() { # copy_tincan_headers PORT
	local name line val
	local hdrs
	hdrs=$(curl -sk --max-time 2 -D - -o /dev/null "https://127.0.0.1:$1/" | tr -d '\r')
	for name in "${!SEC_HDR[@]}"; do
		line=$(grep -i "^$name:" <<<"$hdrs" | head -1 || true)
		[ -n "$line" ] || continue
		val=${line#*: }
		SEC_HDR[$name]=$val
	done
}

write_nginx_conf() { # write_nginx_conf WORKERS PORT FILE
	local name
	{
		cat <<EOF
worker_processes $1;
daemon off;
master_process on;
pid $3.pid;
error_log stderr warn;
events { worker_connections 16384; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	charset utf-8;
	charset_types text/css application/javascript application/json text/plain;
	access_log off;
	server_tokens off;
	keepalive_requests 10000000;
	keepalive_timeout 75s;
	client_body_temp_path $TMP/nginx-body;
	proxy_temp_path $TMP/nginx-proxy;
	fastcgi_temp_path $TMP/nginx-fastcgi;
	uwsgi_temp_path $TMP/nginx-uwsgi;
	scgi_temp_path $TMP/nginx-scgi;
	# tincan serves from memory; nginx's cache of open files and stat
	# results is its usual tuning for static files.
	open_file_cache max=1000 inactive=60s;
	open_file_cache_valid 60s;
	gzip_static on;
	gzip_vary on;
	map \$uri \$cache_control {
		/ no-cache;
		/index.html no-cache;
		/sw.js no-cache;
		default "";
	}
	server {
		listen 127.0.0.1:$2 ssl;
		ssl_certificate $TMP/cert.pem;
		ssl_certificate_key $TMP/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		root $TMP/web;
		index index.html;
		add_header Cache-Control \$cache_control always;
EOF
		for name in "${!SEC_HDR[@]}"; do
			printf '\t\tadd_header %s "%s" always;\n' "$name" "${SEC_HDR[$name]//\"/\\\"}"
		done
		printf '\t}\n}\n'
	} >"$3"
}

# --- one wrk run ---------------------------------------------------------------
cat >"$TMP/report.lua" <<'EOF'
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%.0f duration_us=%.0f bytes=%.0f p50_us=%.0f p99_us=%.0f " ..
		"err_connect=%.0f err_read=%.0f err_write=%.0f err_status=%.0f err_timeout=%.0f\n",
		summary.requests, summary.duration, summary.bytes,
		latency:percentile(50), latency:percentile(99),
		e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

declare -A RUNS   # "server|label" -> lines "rps p50 p99 errors cpu"
declare -A SIZE   # "server|label" -> "header+body" bytes
declare -A PORT PID

# measure SERVER PATH GZ ROUND: one wrk run; appends to RUNS.
measure() {
	local server=$1 path=$2 gz=$3 round=$4
	local port=${PORT[$server]} pid=${PID[$server]}
	local url="https://127.0.0.1:$port$path" hdr=() label="GET $path"
	if [ "$gz" = 1 ]; then
		hdr=(-H "Accept-Encoding: gzip")
		label="$label gzip"
	fi
	if [ "$round" = 1 ]; then
		local size code
		read -r code size < <(curl -sk --max-time 5 "${hdr[@]}" -o /dev/null \
			-w '%{http_code} %{size_header}+%{size_download}\n' "$url")
		[ "$code" = 200 ] || echo "bench/http: warning: $server $label answered $code" >&2
		SIZE[$server|$label]=$size
		timeout $((WARMUP + 20)) "${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" \
			"${hdr[@]}" "$url" >/dev/null 2>&1 || true
	fi
	local t0 c0 t1 c1 out
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s%N)
	# bash's `time` gives wrk's own CPU use: near 100 % per wrk CPU means the
	# client, not the server, was the limit.
	out=$( { TIMEFORMAT='WRKCPU %U %S'; time timeout $((DURATION + 30)) "${WRK_PIN[@]}" wrk -t"$THREADS" \
		-c"$CONNS" -d"${DURATION}s" --timeout 5s -s "$TMP/report.lua" "${hdr[@]}" "$url"; } 2>&1) ||
		{ echo "$out" >&2; die "wrk failed against $server $label"; }
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$pid")
	kill -0 "$pid" 2>/dev/null || { cat "$TMP/$server.log" >&2; die "$server died during $label"; }
	local line
	line=$(grep '^BENCH ' <<<"$out") || { echo "$out" >&2; die "no wrk report"; }
	local requests=0 duration_us=1 p50_us=0 p99_us=0 err_connect=0 err_read=0 err_write=0 err_status=0 err_timeout=0 bytes=0 kv
	for kv in ${line#BENCH }; do
		case ${kv%%=*} in
		requests | duration_us | bytes | p50_us | p99_us | err_connect | err_read | err_write | err_status | err_timeout)
			printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
		esac
	done
	local errs=$((err_connect + err_read + err_write + err_status + err_timeout))
	if [ "$errs" != 0 ]; then
		echo "bench/http: $server $label: errors connect=$err_connect read=$err_read write=$err_write" \
			"status=$err_status timeout=$err_timeout" >&2
	fi
	local rec wrkcpu
	wrkcpu=$(awk '/^WRKCPU/ { print $2 + $3 }' <<<"$out")
	rec=$(awk -v r="$requests" -v d="$duration_us" -v p50="$p50_us" -v p99="$p99_us" -v e="$errs" \
		-v c=$((c1 - c0)) -v hz="$CLK_TCK" -v ns=$((t1 - t0)) -v w="${wrkcpu:-0}" \
		'BEGIN{printf "%.0f %.2f %.2f %d %.0f %.0f", r / (d / 1e6), p50 / 1000, p99 / 1000, e,
			100 * c / hz / (ns / 1e9), 100 * w / (ns / 1e9)}')
	RUNS[$server|$label]+="$rec"$'\n'
	printf '  round %d/%d  %-10s %-18s %7s req/s\n' "$round" "$ROUNDS" "$server" "$label" "${rec%% *}" >&2
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# --- servers -------------------------------------------------------------------
start_tincan() {
	local port webroot=()
	port=$(free_port)
	if [ "${BENCH_TINCAN_DISK:-0}" = 1 ] || [ "$WEB_ROOT" != "$ROOT/web" ]; then
		webroot=(--web-root "$WEB_ROOT")
	fi
	mkdir -p "$TMP/tincan-data"
	(cd "$TMP/tincan-data" && exec "${SRV_PIN[@]}" "$TINCAN_BIN" --port "$port" --bind 127.0.0.1 \
		--cert "$TMP/cert.pem" --key "$TMP/key.pem" --data-dir "$TMP/tincan-data" \
		--max-conns-per-ip 10000 --log-level warn "${webroot[@]}") 2>"$TMP/tincan.log" &
	PID[tincan]=$!
	PORT[tincan]=$port
	PIDS+=("$!")
	wait_https "$port" "${PID[tincan]}" tincan "$TMP/tincan.log"
	copy_tincan_headers "$port"
}

start_nginx() { # start_nginx NAME WORKERS
	local port pin=()
	port=$(free_port)
	write_nginx_conf "$2" "$port" "$TMP/$1"
	[ "$2" = 1 ] && pin=("${SRV_PIN[@]}")
	"${pin[@]}" "$NGINX" -p "$TMP" -e stderr -c "$TMP/$1" 2>"$TMP/$1.log" &
	PID[$1]=$!
	PORT[$1]=$port
	PIDS+=("$!")
	wait_https "$port" "${PID[$1]}" "$1" "$TMP/$1.log"
}

read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN{exit !(l > 0.5)}'; then
	echo "bench/http: warning: load average $load1 before the run; other processes will add noise" >&2
fi

RUN_SERVERS=()
for s in $SERVERS; do
	case $s in
	tincan)
		if [ -x "$TINCAN_BIN" ]; then
			start_tincan
			RUN_SERVERS+=(tincan)
		else
			echo "bench/http: $TINCAN_BIN not built (cd $ROOT && make); skipping tincan" >&2
		fi ;;
	nginx-1) start_nginx nginx-1 1; RUN_SERVERS+=(nginx-1) ;;
	nginx-auto) start_nginx nginx-auto auto; RUN_SERVERS+=(nginx-auto) ;;
	*) die "unknown server $s" ;;
	esac
done
# nginx is configured after tincan so that it copies tincan's headers; the
# order in SERVERS only decides the order of the runs.

LABELS=()
for p in $PATHS; do
	LABELS+=("GET $p")
	[ "$GZIP" = 1 ] && LABELS+=("GET $p gzip")
done
nrun=$((${#RUN_SERVERS[@]} * ${#LABELS[@]}))
echo "bench/http: $nrun server x request pairs, $ROUNDS rounds of ${DURATION} s" \
	"≈ $((nrun * (ROUNDS * (DURATION + 1) + WARMUP + 1))) s" >&2
for round in $(seq 1 "$ROUNDS"); do
	for p in $PATHS; do
		for gz in 0 $([ "$GZIP" = 1 ] && echo 1); do
			for s in "${RUN_SERVERS[@]}"; do
				measure "$s" "$p" "$gz" "$round"
			done
		done
	done
done
for s in "${RUN_SERVERS[@]}"; do
	[ -s "$TMP/$s.log" ] || continue
	echo "bench/http: $s logged at warn or above ($(wc -l <"$TMP/$s.log") lines), first lines:" >&2
	head -10 "$TMP/$s.log" >&2
done
for s in "${RUN_SERVERS[@]}"; do stop_pid "${PID[$s]}"; done

# --- report --------------------------------------------------------------------
# median SERVER LABEL: prints "rps p50 p99 errors cpu wrkcpu min max" of the median run.
median() {
	sort -n <<<"${RUNS[$1|$2]%$'\n'}" | awk '{ l[NR] = $0; r[NR] = $1 }
		END { if (NR) print l[int((NR + 1) / 2)], r[1], r[NR] }'
}

echo
echo "HTTP keep-alive over TLS, wrk -t$THREADS -c$CONNS -d${DURATION}s, median of $ROUNDS interleaved rounds;" \
	"127.0.0.1, $NCPU CPUs; $PIN_NOTE"
echo "certificate: ECDSA P-256 self-signed (same file for both); web root: $WEB_ROOT"
printf '%-18s %-10s %8s %13s %7s %7s %6s %5s %5s %9s %10s\n' request server "req/s" "(min-max)" "p50 ms" "p99 ms" \
	errors "CPU%" "wrk%" "req/CPU-s" "resp bytes"
declare -A MED MEDCPU BEST
for label in "${LABELS[@]}"; do
	for s in "${RUN_SERVERS[@]}"; do
		read -r rps p50 p99 errs cpu wcpu lo hi < <(median "$s" "$label")
		MED[$s|$label]=$rps
		BEST[$s|$label]=$hi
		per_cpu=$(awk -v r="$rps" -v c="$cpu" 'BEGIN{if (c > 0) printf "%.0f", r * 100 / c; else print "-"}')
		MEDCPU[$s|$label]=$per_cpu
		printf '%-18s %-10s %8s %13s %7s %7s %6s %5s %5s %9s %10s\n' "$label" "$s" "$rps" "($lo-$hi)" "$p50" "$p99" \
			"$errs" "$cpu" "$wcpu" "$per_cpu" "${SIZE[$s|$label]}"
	done
done
echo "CPU%: the server's CPU use during that run (100 = one core); wrk%: wrk's. A pinned server well"
echo "under 100 while wrk is near 100 x its CPUs means wrk, not the server, was the limit."
echo "req/CPU-s = req/s per core-second of server CPU, the steadier figure on a busy machine."

echo
if [ -z "${MED[tincan|${LABELS[0]}]:-}" ]; then
	echo "(tincan was not run: no ratios)"
	exit 0
fi
ratio() { [ -n "$2" ] && [ "$2" != - ] && [ "$1" != - ] && awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}' || echo -; }
echo "tincan / nginx, req/s of the median round; best = of the fastest rounds; per CPU-s = req/CPU-s"
printf '%-18s %9s %12s %12s %12s\n' "" "/nginx-1" "/nginx-auto" "best /ngx-1" "per CPU-s /1"
for label in "${LABELS[@]}"; do
	printf '%-18s %9s %12s %12s %12s\n' "$label" "$(ratio "${MED[tincan|$label]}" "${MED[nginx-1|$label]:-}")" \
		"$(ratio "${MED[tincan|$label]}" "${MED[nginx-auto|$label]:-}")" \
		"$(ratio "${BEST[tincan|$label]}" "${BEST[nginx-1|$label]:-}")" \
		"$(ratio "${MEDCPU[tincan|$label]}" "${MEDCPU[nginx-1|$label]:-}")"
done

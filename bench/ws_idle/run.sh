#!/usr/bin/env bash
# bench/ws_idle/run.sh — server memory per idle WebSocket-over-TLS connection.
#
# For each N (10,000 and 50,000 by default) a fresh tincan is started on
# 127.0.0.1; client.mjs opens N WSS connections, waits until every one has
# received the welcome message, and reports (VmRSS_after - VmRSS_before) / N.
# Goal: <= 16 KiB per connection. See bench/README.md.
#
# Environment overrides:
#   WS_COUNTS ("10000 50000")   WS_CONCURRENCY (256 handshakes in flight)
#   WS_SETTLE_MS (2000)         WS_TIMEOUT (600 s per count, whole client run)
#   TINCAN_BIN (./tincan)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/ws_idle
TINCAN_BIN=${TINCAN_BIN:-$ROOT/tincan}
COUNTS=${WS_COUNTS:-"10000 50000"}
CONCURRENCY=${WS_CONCURRENCY:-256}
SETTLE_MS=${WS_SETTLE_MS:-2000}
TIMEOUT=${WS_TIMEOUT:-600}

. "$(dirname "$0")/../lib.sh"
bench_init ws_idle

[ -x "$TINCAN_BIN" ] || die "$TINCAN_BIN not built (cd $ROOT && make)"
command -v node >/dev/null || die "node missing"
command -v curl >/dev/null || die "curl missing"

# File descriptors: the server raises its soft limit to the hard limit when it
# starts, and the client needs one per connection too. Raising the hard limit
# needs root; without it, stay within what we have and say so.
max=0
for n in $COUNTS; do [ "$n" -gt "$max" ] && max=$n; done
want=$((max + 4096))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want" ]; then
	nr_open=$(cat /proc/sys/fs/nr_open)
	ulimit -Hn "$nr_open" 2>/dev/null ||
		echo "bench/ws_idle: warning: cannot raise hard fd limit ($(ulimit -Hn)) to $want (needs root with CAP_SYS_RESOURCE)" >&2
fi
ulimit -Sn "$(ulimit -Hn)"
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576

# forget_pid PID: drop a process that has been waited for from the cleanup list.
forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget_pid "$1"
}

SUMMARY=()
for N in $COUNTS; do
	asked=$N
	# Server and client each hold one descriptor per connection. Where the
	# hard limit cannot be raised (a container without CAP_SYS_RESOURCE),
	# measure the largest count that fits and say so rather than fail.
	if [ $((N + 512)) -gt "$HARD" ]; then
		capped=$((HARD - 512))
		echo "bench/ws_idle: NOTE: $N connections need more than the fd hard limit $HARD" \
			"(raising it needs CAP_SYS_RESOURCE); measuring $capped instead" >&2
		N=$capped
	fi
	port=$(free_port)
	data=$TMP/data-$N
	mkdir -p "$data"
	(cd "$data" && exec "$TINCAN_BIN" --port "$port" --bind 127.0.0.1 --data-dir "$data" \
		--max-conns-per-ip 100000 --ws-ping-interval 3600 --log-level warn) 2>"$TMP/tincan-$N.log" &
	pid=$!
	PIDS+=("$pid")
	for i in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || { cat "$TMP/tincan-$N.log" >&2; die "tincan exited during start"; }
		curl -sk --max-time 1 -o /dev/null "https://127.0.0.1:$port/health" && break
		[ "$i" = 150 ] && die "tincan did not answer on port $port within 15 s"
		sleep 0.1
	done
	echo "== $N idle WSS connections (tincan pid $pid, port $port, fd limit $(ulimit -n)) =="
	# The client runs in the background so that a signal to this script
	# reaches the EXIT trap at once (bash defers traps while a foreground
	# command runs); tail shows its output as it comes.
	timeout "$TIMEOUT" node --max-old-space-size=8192 "$HERE/client.mjs" --port "$port" --pid "$pid" \
		--n "$N" --concurrency "$CONCURRENCY" --settle-ms "$SETTLE_MS" >"$TMP/client-$N.out" &
	cpid=$!
	PIDS+=("$cpid")
	tail -n +1 -f --pid="$cpid" "$TMP/client-$N.out" &
	tpid=$!
	PIDS+=("$tpid")
	rc=0
	wait "$cpid" || rc=$?
	wait "$tpid" || true
	forget_pid "$cpid"
	forget_pid "$tpid"
	[ "$rc" = 0 ] || echo "bench/ws_idle: client exited with status $rc (124 = timed out after $TIMEOUT s)" >&2
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" && st=0 || st=$?
		echo "bench/ws_idle: tincan DIED during the run (exit status $st); its log:" >&2
		tail -40 "$TMP/tincan-$N.log" >&2
		forget_pid "$pid"
	else
		stop_pid "$pid"
	fi
	if [ -s "$TMP/tincan-$N.log" ]; then
		echo "bench/ws_idle: tincan logged at warn or above ($(wc -l <"$TMP/tincan-$N.log") lines), first lines:" >&2
		head -10 "$TMP/tincan-$N.log" >&2
	fi
	res=$(grep '^RESULT ' "$TMP/client-$N.out" | sed 's/^RESULT //' || true)
	SUMMARY+=("$asked|${res:-{\}}")
	echo
done

echo "idle WSS memory, tincan single process, 127.0.0.1 (goal <= 16 KiB/connection)"
printf '%8s %8s %10s %10s %10s %14s %10s\n' asked conns welcomed "open s" "conn/s" "RSS delta KiB" "KiB/conn"
for s in "${SUMMARY[@]}"; do
	n=${s%%|*}
	json=${s#*|}
	node -e '
		const n = process.argv[1], r = JSON.parse(process.argv[2]);
		if (r.n === undefined) { console.log(`${n.padStart(8)}   (no result)`); process.exit(0); }
		const f = (v, w) => String(v).padStart(w);
		console.log(f(n, 8), f(r.n, 8), f(r.welcomed, 10), f((r.open_ms / 1000).toFixed(2), 10), f(r.conns_per_s, 10),
			f(r.rss_after_kib - r.rss_before_kib, 14), f(r.kib_per_conn.toFixed(2), 10));
	' "$n" "$json"
done

#!/usr/bin/env bash
# bench/signal/run.sh — signaling relay: tincan against a Node `ws` reference.
#
# Starts tincan and bench/signal/reference.mjs (the 004 signaling server in
# Node with `ws`) side by side on 127.0.0.1 with the same ECDSA P-256
# certificate, and drives each with the same load from load.mjs: N clients in
# 2-person rooms exchanging offer / answer / ICE messages at a fixed rate.
# Reports achieved messages/s, relay latency p50/p99, the server's CPU time
# per message and messages per CPU-second, and the ratio tincan/reference.
# Goal (issue 4): >= 5x the reference's messages per CPU-second, p99 <= 1 ms
# at 10,000 messages/s. Runs are interleaved round by round; the median round
# is reported. Nothing is written to the repository. See bench/README.md.
#
# Environment overrides:
#   SIGNAL_CLIENTS (1000)     clients, in CLIENTS/2 rooms of two
#   SIGNAL_RATES ("10000")    aggregate messages/s, one run per rate
#   SIGNAL_DURATION (10)      seconds measured per run
#   SIGNAL_WARMUP (3)         seconds of the same load before that
#   SIGNAL_ROUNDS (3)         interleaved rounds; the median is reported
#   SIGNAL_GEN (c)            load generator: c (load.c, built here) or node (load.mjs)
#   SIGNAL_WORKERS (1)        load generator threads
#   SIGNAL_TICK_US (250)      C generator: send tick (messages due are sent each tick)
#   SIGNAL_SERVERS ("tincan reference")
#   SIGNAL_OFFER_BYTES (2000) SIGNAL_ANSWER_BYTES (1500) SIGNAL_ICE_BYTES (300)
#                             size of each message as sent (JSON text)
#   SIGNAL_TIMEOUT (120)      seconds before one load run is abandoned
#   TINCAN_BIN (./tincan)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/signal
TINCAN_BIN=${TINCAN_BIN:-$ROOT/tincan}
CLIENTS=${SIGNAL_CLIENTS:-1000}
RATES=${SIGNAL_RATES:-10000}
DURATION=${SIGNAL_DURATION:-10}
WARMUP=${SIGNAL_WARMUP:-3}
ROUNDS=${SIGNAL_ROUNDS:-3}
WORKERS=${SIGNAL_WORKERS:-1}
GEN=${SIGNAL_GEN:-c}
TICK_US=${SIGNAL_TICK_US:-250}
SERVERS=${SIGNAL_SERVERS:-"tincan reference"}
OFFER_BYTES=${SIGNAL_OFFER_BYTES:-2000}
ANSWER_BYTES=${SIGNAL_ANSWER_BYTES:-1500}
ICE_BYTES=${SIGNAL_ICE_BYTES:-300}
TIMEOUT=${SIGNAL_TIMEOUT:-120}

. "$(dirname "$0")/../lib.sh"
bench_init signal

for v in CLIENTS DURATION WARMUP ROUNDS WORKERS TICK_US TIMEOUT OFFER_BYTES ANSWER_BYTES ICE_BYTES; do
	case ${!v} in *[!0-9]* | '') die "SIGNAL_$v must be a whole number, got '${!v}'" ;; esac
done
for r in $RATES; do
	case $r in *[!0-9]* | '') die "SIGNAL_RATES must be whole numbers, got '$r'" ;; esac
done
[ $((CLIENTS % 2)) = 0 ] && [ "$CLIENTS" -ge 2 ] || die "SIGNAL_CLIENTS must be even and >= 2"
command -v node >/dev/null || die "node missing"
command -v openssl >/dev/null || die "openssl missing"
command -v curl >/dev/null || die "curl missing"
[ -d "$ROOT/node_modules/ws" ] || die "the ws package is missing (cd $ROOT && npm install)"

# The load generator: C by default (a fraction of Node's CPU per message and
# no GC pauses; see load.c), the Node one to cross-check.
case $GEN in
c)
	command -v cc >/dev/null && command -v pkg-config >/dev/null || die "cc and pkg-config are needed for the C generator (or SIGNAL_GEN=node)"
	# shellcheck disable=SC2046
	cc -O2 -std=gnu17 -pthread "$HERE/load.c" -o "$TMP/load" $(pkg-config --cflags --libs openssl jansson) -lm ||
		die "cannot build load.c (needs libssl-dev and libjansson-dev, as tincan does; or SIGNAL_GEN=node)"
	LOAD=("$TMP/load" --tick-us "$TICK_US")
	GEN_NOTE="C (load.c), $WORKERS thread(s), ${TICK_US} µs tick"
	;;
node)
	LOAD=(node "$HERE/load.mjs")
	GEN_NOTE="node (load.mjs), $WORKERS thread(s), 1 ms tick"
	;;
*) die "SIGNAL_GEN must be c or node, got '$GEN'" ;;
esac

# One descriptor per client on each side.
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((CLIENTS + 1024)) ]; then
	ulimit -Hn $((CLIENTS + 1024)) 2>/dev/null ||
		die "fd hard limit $(ulimit -Hn) is below $((CLIENTS + 1024)) and cannot be raised"
fi
ulimit -Sn "$(ulimit -Hn)"

# One certificate for both servers, so both negotiate the same TLS 1.3 suite.
bench_cert

declare -A PORT PID
RUN_SERVERS=()
for s in $SERVERS; do
	port=$(free_port)
	case $s in
	tincan)
		if [ ! -x "$TINCAN_BIN" ]; then
			echo "bench/signal: $TINCAN_BIN not built (cd $ROOT && make); skipping tincan" >&2
			continue
		fi
		mkdir -p "$TMP/tincan-data"
		(cd "$TMP/tincan-data" && exec "$TINCAN_BIN" --bind 127.0.0.1 --port "$port" \
			--data-dir "$TMP/tincan-data" --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
			--max-conns-per-ip 100000 --log-level warn) 2>"$TMP/tincan.log" &
		;;
	reference)
		node "$HERE/reference.mjs" --bind 127.0.0.1 --port "$port" \
			--cert "$TMP/cert.pem" --key "$TMP/key.pem" 2>"$TMP/reference.log" &
		;;
	*) die "unknown server '$s' (tincan, reference)" ;;
	esac
	PID[$s]=$!
	PORT[$s]=$port
	PIDS+=("$!")
	wait_https "$port" "${PID[$s]}" "$s" "$TMP/$s.log" health
	RUN_SERVERS+=("$s")
done
[ ${#RUN_SERVERS[@]} -gt 0 ] || die "no server to run"

read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN{exit !(l > 0.5)}'; then
	echo "bench/signal: warning: load average $load1 before the run; other processes will add noise" >&2
fi
nrates=$(wc -w <<<"$RATES")
echo "bench/signal: ${#RUN_SERVERS[@]} servers x $nrates rates x $ROUNDS rounds of ${WARMUP}+${DURATION} s" \
	"(plus connection setup) ≈ $((${#RUN_SERVERS[@]} * nrates * ROUNDS * (WARMUP + DURATION + 4))) s" >&2

RESULTS=$TMP/results
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
	for rate in $RATES; do
		for s in "${RUN_SERVERS[@]}"; do
			echo "bench/signal: round $round/$ROUNDS, $s, $rate msg/s" >&2
			out=$TMP/load.out
			rc=0
			# In the background and waited for, so that a signal reaches the
			# EXIT trap at once (bash runs traps only between commands).
			CLK_TCK=$(getconf CLK_TCK) timeout "$TIMEOUT" "${LOAD[@]}" --port "${PORT[$s]}" \
				--pid "${PID[$s]}" --clients "$CLIENTS" --rate "$rate" --duration "$DURATION" \
				--warmup "$WARMUP" --workers "$WORKERS" --offer-bytes "$OFFER_BYTES" \
				--answer-bytes "$ANSWER_BYTES" --ice-bytes "$ICE_BYTES" --label "$s" >"$out" &
			load_pid=$!
			PIDS+=("$load_pid")
			wait "$load_pid" || rc=$?
			keep=()
			for p in "${PIDS[@]}"; do [ "$p" = "$load_pid" ] || keep+=("$p"); done
			PIDS=("${keep[@]}")
			if ! kill -0 "${PID[$s]}" 2>/dev/null; then
				wait "${PID[$s]}" && st=0 || st=$?
				tail -40 "$TMP/$s.log" >&2
				die "$s DIED during the run (exit status $st)"
			fi
			if [ "$rc" != 0 ]; then
				echo "bench/signal: load generator failed against $s (status $rc; 124 = timed out)" >&2
				continue
			fi
			sed -n 's/^RESULT //p' "$out" | sed "s/^/$round /" >>"$RESULTS"
			sleep 1 # let the server close the run's connections before the next one
		done
	done
done
for s in "${RUN_SERVERS[@]}"; do
	[ -s "$TMP/$s.log" ] || continue
	grep -v 'msg=listening\|msg=certificate' "$TMP/$s.log" >"$TMP/$s.warn" || true
	[ -s "$TMP/$s.warn" ] || continue
	echo "bench/signal: $s logged at warn or above ($(wc -l <"$TMP/$s.warn") lines), first lines:" >&2
	head -10 "$TMP/$s.warn" >&2
done

echo
echo "signaling relay over WSS, $CLIENTS clients in $((CLIENTS / 2)) rooms of 2, messages of" \
	"$OFFER_BYTES/$ANSWER_BYTES/$ICE_BYTES bytes (offer/answer/ICE, 1:1:8);"
echo "$DURATION s measured after $WARMUP s warm-up, median of $ROUNDS interleaved rounds;" \
	"127.0.0.1, $(nproc) CPUs, no pinning; generator: $GEN_NOTE"
node - "$RESULTS" "$RATES" "${RUN_SERVERS[*]}" <<'EOF'
// Each column is the median over the rounds of that figure (a noisy round
// spoils one latency column, not the row); msg/CPU-s also shows min-max and
// p99 the best round.
const [file, ratesArg, serversArg] = process.argv.slice(2);
const fs = require('fs');
const rows = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
  const sp = l.indexOf(' ');
  return { round: Number(l.slice(0, sp)), ...JSON.parse(l.slice(sp + 1)) };
});
const rates = ratesArg.split(/\s+/).filter(Boolean).map(Number);
const servers = serversArg.split(' ');
const pad = (v, w) => String(v ?? '-').padStart(w);
const fix = (v, d) => (v === null || v === undefined || Number.isNaN(v) ? '-' : Number(v).toFixed(d));
const median = (runs, k) => {
  const v = runs.map((r) => r[k]).filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : null;
};
const min = (runs, k) => Math.min(...runs.map((r) => r[k] ?? Infinity));
const max = (runs, k) => Math.max(...runs.map((r) => r[k] ?? -Infinity));
const med = {};
console.log([pad('server', 10), pad('target/s', 9), pad('msg/s', 7), pad('p50 ms', 7), pad('p99 ms', 7),
  pad('(best)', 8), pad('p99.9 ms', 8), pad('srv CPU%', 8), pad('µs/msg', 7), pad('msg/CPU-s', 9),
  pad('(min-max)', 15), pad('gen CPU%', 8), pad('gen lag', 7), '  problems'].join(' '));
for (const rate of rates) {
  for (const s of servers) {
    const runs = rows.filter((r) => r.label === s && r.rate_target === rate);
    if (!runs.length) { console.log(`${pad(s, 10)} ${pad(rate, 9)}   (no result)`); continue; }
    const m = {};
    for (const k of ['achieved_rate', 'p50_us', 'p99_us', 'p999_us', 'server_cpu_pct', 'server_cpu_us_per_msg',
      'msgs_per_server_cpu_s', 'gen_cpu_pct', 'gen_loop_delay_p99_us']) m[k] = median(runs, k);
    m.p99_best_us = min(runs, 'p99_us');
    med[`${s}|${rate}`] = m;
    const probs = [];
    for (const k of ['lost', 'errors', 'unexpected', 'closed', 'mismatches', 'behind', 'skipped']) {
      const n = runs.reduce((a, r) => a + (r[k] || 0), 0);
      if (n) probs.push(`${k}=${n}`);
    }
    console.log([pad(s, 10), pad(rate, 9), pad(m.achieved_rate, 7), pad(fix(m.p50_us / 1000, 3), 7),
      pad(fix(m.p99_us / 1000, 3), 7), pad(`(${fix(m.p99_best_us / 1000, 3)})`, 8), pad(fix(m.p999_us / 1000, 3), 8),
      pad(fix(m.server_cpu_pct, 1), 8), pad(fix(m.server_cpu_us_per_msg, 1), 7), pad(m.msgs_per_server_cpu_s, 9),
      pad(`(${min(runs, 'msgs_per_server_cpu_s')}-${max(runs, 'msgs_per_server_cpu_s')})`, 15),
      pad(fix(m.gen_cpu_pct, 1), 8), pad(fix(m.gen_loop_delay_p99_us / 1000, 2), 7),
      '  ' + (probs.join(' ') || 'none')].join(' '));
  }
}
console.log('Each figure is the median over the rounds; (best): the lowest p99 of any round.');
console.log('latency: client write -> server -> other client read, in ms (both clients in the generator, one clock).');
console.log('srv CPU%: server utime+stime over the window (100 = one core); µs/msg: server CPU per message relayed;');
console.log('msg/CPU-s: messages relayed per second of server CPU. gen CPU%: the generator\'s own CPU (all threads);');
console.log('gen lag: p99 of how late the generator\'s send tick ran, in ms; when it is near the p99 latency, the');
console.log('generator or another process taking the CPU, not the server, set the tail.');
console.log('problems (all rounds): lost, error replies, unexpected messages, closed connections, relayed messages');
console.log('that differ from what was sent, messages the generator could not send on time (behind/skipped).');
if (!servers.includes('tincan') || !servers.includes('reference')) process.exit(0);
console.log('');
console.log([pad('target/s', 9), pad('msg/CPU-s tincan/ref', 21), pad('goal >=5x', 10), pad('tincan p99 ms', 14),
  pad('goal <=1 ms', 12)].join(' '));
for (const rate of rates) {
  const t = med[`tincan|${rate}`];
  const r = med[`reference|${rate}`];
  if (!t || !r) continue;
  const ratio = t.msgs_per_server_cpu_s / r.msgs_per_server_cpu_s;
  const p99 = t.p99_us / 1000;
  console.log([pad(rate, 9), pad(ratio.toFixed(2), 21), pad(ratio >= 5 ? 'met' : 'NOT met', 10),
    pad(p99.toFixed(3), 14), pad(rate === 10000 ? (p99 <= 1 ? 'met' : 'NOT met') : '(at 10000)', 12)].join(' '));
}
EOF

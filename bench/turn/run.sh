#!/usr/bin/env bash
# bench/turn/run.sh — TURN relaying: tincan against coturn, and the kernel's floor.
#
# Builds turnload.c (the load generator), starts tincan and coturn's
# turnserver on 127.0.0.1 side by side, and drives each with the same load:
# TURN_FLOWS allocations over UDP (long-term credentials), one channel each,
# ChannelData of TURN_PAYLOAD bytes at each rate of TURN_RATES (packets/s per
# flow), through the relay to an echo peer and back. Two paths per server:
#   echo  client -> relay -> echo peer (turnload's child, recvmmsg/sendmmsg)
#         -> relay -> client
#   r2r   two allocations on the same server that talk to each other through
#         their relayed addresses; tincan relays these in process
# and, without any server, the floor: the same flows sent straight to the
# echo process (recvmmsg + sendmmsg, batches of up to 64), whose CPU per
# echoed packet is what the kernel's loopback costs for one receive and one
# send — the least a relay can spend per relayed packet.
#
# For each server it prints CPU-seconds of the server per million relayed
# packets (utime+stime from /proc/<pid>/stat over the measured window; both
# directions count, so an echo round trip is two relayed packets), the highest
# rate sustained without loss, and the ratios tincan/coturn and tincan/floor.
# Goal (issue 3): at most half of coturn's CPU per packet, within 1.2x the
# floor, and the in-process path (tincan r2r) below the floor. Runs are
# interleaved round by round; the median round is reported. Nothing is
# written to the repository. See bench/README.md.
#
# Environment overrides:
#   TURN_FLOWS (20)                 allocations, one channel each (r2r: pairs)
#   TURN_RATES ("1000 2000 5000 10000")  packets/s per flow, one step each
#   TURN_DURATION (3)               seconds measured per step
#   TURN_WARMUP (1)                 seconds at the rate before that
#   TURN_ROUNDS (3)                 interleaved rounds; the median is reported
#   TURN_SERVERS ("tincan coturn")  TURN_PATHS ("echo r2r")  TURN_FLOOR (1)
#   TURN_PAYLOAD (200)              bytes of application data per packet
#   TURN_TICK_US (1000)             generator send tick (what is due is sent)
#   TURN_PIN (auto)                 auto: servers (and the floor's echo) on CPU 0,
#                                   the generator on the others; 0: no pinning
#   TURN_TIMEOUT (300)              seconds before one generator run is abandoned
#   TURN_SWEEP (1)                  1: then the rate sweep, each server's highest
#                                   loss-free rate on the echo path (0: skip it)
#   TURN_SWEEP_START (1000)         first rate probed, packets/s per flow; doubled
#                                   until a probe loses, then bisected
#   TURN_SWEEP_MAX (64000)          highest rate probed
#   TURN_SWEEP_PROBES (10)          probes per server at most
#   TURN_SWEEP_DURATION (2)         seconds measured per probe (after TURN_WARMUP)
#   TINCAN_BIN (./tincan)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/turn
TINCAN_BIN=${TINCAN_BIN:-$ROOT/tincan}
FLOWS=${TURN_FLOWS:-20}
RATES=${TURN_RATES:-"1000 2000 5000 10000"}
DURATION=${TURN_DURATION:-3}
WARMUP=${TURN_WARMUP:-1}
ROUNDS=${TURN_ROUNDS:-3}
SERVERS=${TURN_SERVERS:-"tincan coturn"}
PATHS=${TURN_PATHS:-"echo r2r"}
FLOOR=${TURN_FLOOR:-1}
PAYLOAD=${TURN_PAYLOAD:-200}
TICK_US=${TURN_TICK_US:-1000}
PIN=${TURN_PIN:-auto}
TIMEOUT=${TURN_TIMEOUT:-300}
SWEEP=${TURN_SWEEP:-1}
SWEEP_START=${TURN_SWEEP_START:-1000}
SWEEP_MAX=${TURN_SWEEP_MAX:-64000}
SWEEP_PROBES=${TURN_SWEEP_PROBES:-10}
SWEEP_DURATION=${TURN_SWEEP_DURATION:-2}
TINCAN_RELAY_PORTS=50000-50999
COTURN_MIN_PORT=51000
COTURN_MAX_PORT=51999

. "$(dirname "$0")/../lib.sh"
bench_init turn

for v in FLOWS DURATION WARMUP ROUNDS PAYLOAD TICK_US TIMEOUT SWEEP SWEEP_START SWEEP_MAX SWEEP_PROBES SWEEP_DURATION; do
	case ${!v} in *[!0-9]* | '') die "TURN_$v must be a whole number, got '${!v}'" ;; esac
done
for r in $RATES; do
	case $r in *[!0-9]* | '' | 0) die "TURN_RATES must be positive whole numbers, got '$r'" ;; esac
done
for p in $PATHS; do
	case $p in echo | r2r) ;; *) die "TURN_PATHS: unknown path '$p' (echo, r2r)" ;; esac
done
[ "$FLOWS" -ge 1 ] && [ "$FLOWS" -le 400 ] || die "TURN_FLOWS must be 1..400"
command -v cc >/dev/null && command -v pkg-config >/dev/null || die "cc and pkg-config are needed"
command -v node >/dev/null || die "node missing"
command -v curl >/dev/null || die "curl missing"
command -v ss >/dev/null || die "ss (iproute2) missing"
# r2r opens 2 x TURN_FLOWS sockets in the generator.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

# shellcheck disable=SC2046
cc -O2 -std=gnu17 -Wall "$HERE/turnload.c" -o "$TMP/turnload" $(pkg-config --cflags --libs openssl) ||
	die "cannot build turnload.c (needs libssl-dev, as tincan does)"

NCPU=$(nproc)
if [ "$PIN" = auto ] && [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
	SRV_PIN=(taskset -c 0)
	GEN_PIN=(taskset -c "1-$((NCPU - 1))")
	FLOOR_CPU=0
	PIN_NOTE="servers and the floor's echo pinned to CPU 0, generator to CPUs 1-$((NCPU - 1))"
else
	SRV_PIN=()
	GEN_PIN=()
	FLOOR_CPU=-1
	PIN_NOTE="no pinning"
fi

# A port free on 127.0.0.1 for both TCP and UDP. coturn binds with
# SO_REUSEPORT, so a port another coturn holds would be shared silently
# rather than refused: the UDP check here is what keeps them apart.

wait_ready() { # wait_ready NAME PID PORT LOGFILE: the UDP port is bound by PID
	local _
	for _ in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || { cat "$4" >&2; die "$1 exited during start"; }
		if ss -Hulnp "sport = :$3" 2>/dev/null | grep -q "pid=$2,"; then
			if [ "$1" != tincan ] || curl -sk --max-time 1 -o /dev/null "https://127.0.0.1:$3/health"; then
				return 0
			fi
		fi
		sleep 0.1
	done
	cat "$4" >&2
	die "$1 did not open UDP port $3 within 10 s"
}

declare -A PORT PID
RUN_SERVERS=()
for s in $SERVERS; do
	port=$(free_port) || die "no free port"
	case $s in
	tincan)
		if [ ! -x "$TINCAN_BIN" ]; then
			echo "bench/turn: $TINCAN_BIN not built (cd $ROOT && make); skipping tincan" >&2
			continue
		fi
		"$TINCAN_BIN" --help 2>&1 | grep -- --relay-ports >/dev/null ||
			{ echo "bench/turn: $TINCAN_BIN has no TURN (--relay-ports); skipping tincan" >&2; continue; }
		mkdir -p "$TMP/tincan-data"
		# --turn-quota, --turn-source-quota: r2r holds 2 x TURN_FLOWS allocations
		# of one user from one address; --turn-bandwidth 0: measure the relay, not the limit.
		(cd "$TMP/tincan-data" && exec "${SRV_PIN[@]}" "$TINCAN_BIN" --bind 127.0.0.1 --port "$port" \
			--data-dir "$TMP/tincan-data" --relay-ip 127.0.0.1 --allow-loopback-peers \
			--turn-user bench:bench --relay-ports "$TINCAN_RELAY_PORTS" \
			--turn-quota $((2 * FLOWS + 8)) --turn-source-quota $((2 * FLOWS + 8)) \
			--turn-bandwidth 0 --log-level warn) 2>"$TMP/tincan.log" &
		;;
	coturn)
		if ! command -v turnserver >/dev/null; then
			[ "$(id -u)" = 0 ] || die "turnserver missing (apt-get install coturn)"
			echo "bench/turn: installing coturn" >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q coturn >&2 || die "cannot install coturn"
		fi
		# The equivalent of tincan's setup: UDP on loopback, long-term
		# credentials for one static user, loopback peers allowed, no TLS or
		# DTLS listener, no CLI; its database, pid file and log in $TMP.
		"${SRV_PIN[@]}" turnserver -n --no-cli --no-tls --no-dtls -L 127.0.0.1 --listening-port "$port" \
			--relay-ip 127.0.0.1 --min-port "$COTURN_MIN_PORT" --max-port "$COTURN_MAX_PORT" \
			--allow-loopback-peers --lt-cred-mech --user bench:bench --realm tincan \
			--userdb "$TMP/turndb" --pidfile "$TMP/turnserver.pid" \
			--log-file "$TMP/coturn.log" --simple-log --no-stdout-log >"$TMP/coturn.out" 2>&1 &
		;;
	*) die "unknown server '$s' (tincan, coturn)" ;;
	esac
	PID[$s]=$!
	PORT[$s]=$port
	PIDS+=("$!")
	wait_ready "$s" "${PID[$s]}" "$port" "$TMP/$s.log"
	RUN_SERVERS+=("$s")
done
[ ${#RUN_SERVERS[@]} -gt 0 ] || [ "$FLOOR" = 1 ] || die "no server to run"

read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN{exit !(l > 0.5)}'; then
	echo "bench/turn: warning: load average $load1 before the run; other processes will add noise" >&2
fi
nrates=$(wc -w <<<"$RATES")
nruns=$((${#RUN_SERVERS[@]} * $(wc -w <<<"$PATHS") + (FLOOR == 1 ? 1 : 0)))
echo "bench/turn: $nruns runs x $nrates rates x $ROUNDS rounds of ${WARMUP}+${DURATION} s" \
	"≈ $((nruns * ROUNDS * (nrates * (WARMUP + DURATION + 1) + 1))) s" >&2
[ "$SWEEP" = 1 ] && echo "bench/turn: then the rate sweep: up to $SWEEP_PROBES probes per server of" \
	"${WARMUP}+${SWEEP_DURATION} s (lossy ones tried twice)" >&2

# run LABEL MODE [SERVER-ARGS...]: one generator run, every rate step.
RESULTS=$TMP/results
: >"$RESULTS"
run() {
	local label=$1 mode=$2 rc=0 gpid
	shift 2
	echo "bench/turn: round $round/$ROUNDS, $label $mode" >&2
	timeout "$TIMEOUT" "${GEN_PIN[@]}" "$TMP/turnload" --mode "$mode" --label "$label" \
		--flows "$FLOWS" --rates "$(tr ' ' , <<<"$RATES")" --duration "$DURATION" --warmup "$WARMUP" \
		--payload "$PAYLOAD" --tick-us "$TICK_US" --user bench:bench "$@" >"$TMP/gen.out" 2>"$TMP/gen.err" &
	gpid=$!
	PIDS+=("$gpid")
	wait "$gpid" || rc=$?
	if [ "$rc" != 0 ]; then
		cat "$TMP/gen.err" >&2
		echo "bench/turn: generator failed against $label ($mode), status $rc (124 = timed out)" >&2
	fi
	sed -n 's/^RESULT //p' "$TMP/gen.out" | sed "s/^/$round /" >>"$RESULTS"
}

for round in $(seq 1 "$ROUNDS"); do
	if [ "$FLOOR" = 1 ]; then
		run floor direct --echo-cpu "$FLOOR_CPU"
	fi
	for s in "${RUN_SERVERS[@]}"; do
		for p in $PATHS; do
			[ "$p" = echo ] && mode=turn || mode=r2r
			run "$s" "$mode" --server "127.0.0.1:${PORT[$s]}" --pid "${PID[$s]}"
			if ! kill -0 "${PID[$s]}" 2>/dev/null; then
				wait "${PID[$s]}" && st=0 || st=$?
				tail -40 "$TMP/$s.log" >&2
				die "$s DIED during the run (exit status $st)"
			fi
		done
	done
done

# The rate sweep: each server's highest loss-free rate on the echo path, with
# the same generator in the same run. A probe is one generator run at one
# rate; it is clean when nothing sent in its window was lost, lossy
# otherwise, and generator-bound when the generator could not produce the
# rate (then the server is at least that fast and its sweep ends). A lossy
# probe is tried once more and counts as clean if the retry is (a stall of
# the shared machine is not the server's limit; both servers get the same
# second chance). The rate doubles from TURN_SWEEP_START until a probe
# loses, then the gap is halved until it is under 1/16 of the rate. The
# servers' probes are interleaved so that load from elsewhere falls on both.
SWEEP_RESULTS=$TMP/sweep
: >"$SWEEP_RESULTS"
probe() { # probe SERVER RATE: prints clean, lossy or bound
	local s=$1 rate=$2 try line v
	for try in 1 2; do
		echo "bench/turn: sweep, $s at $FLOWS x $rate/s (try $try)" >&2
		timeout "$TIMEOUT" "${GEN_PIN[@]}" "$TMP/turnload" --mode turn --label "$s" \
			--flows "$FLOWS" --rates "$rate" --duration "$SWEEP_DURATION" --warmup "$WARMUP" \
			--payload "$PAYLOAD" --tick-us "$TICK_US" --user bench:bench \
			--server "127.0.0.1:${PORT[$s]}" --pid "${PID[$s]}" >"$TMP/gen.out" 2>"$TMP/gen.err" || true
		line=$(sed -n 's/^RESULT //p' "$TMP/gen.out" | head -1)
		v=$(node -e '
const r = process.argv[1] ? JSON.parse(process.argv[1]) : null;
if (!r || r.lost > 0) console.log("lossy");
else if (r.achieved_pps < 0.97 * r.target_pps || r.gen_cpu_pct > 95) console.log("bound");
else console.log("clean");' "$line")
		[ -n "$line" ] && echo "$try $v $line" >>"$SWEEP_RESULTS"
		[ "$v" = lossy ] || break
	done
	echo "$v"
}
sweep() {
	local s n lo hi next v
	declare -A LO HI NEXT DONE
	for s in "${RUN_SERVERS[@]}"; do LO[$s]=0 HI[$s]=0 NEXT[$s]=$SWEEP_START DONE[$s]=0; done
	for n in $(seq 1 "$SWEEP_PROBES"); do
		for s in "${RUN_SERVERS[@]}"; do
			[ "${DONE[$s]}" = 0 ] || continue
			v=$(probe "$s" "${NEXT[$s]}")
			kill -0 "${PID[$s]}" 2>/dev/null || die "$s DIED during the sweep"
			case $v in
			clean) LO[$s]=${NEXT[$s]} ;;
			bound) LO[$s]=${NEXT[$s]} DONE[$s]=1 ;;
			*) HI[$s]=${NEXT[$s]} ;;
			esac
			lo=${LO[$s]} hi=${HI[$s]}
			if [ "$hi" = 0 ]; then
				next=$((lo * 2))
				[ "$lo" -ge "$SWEEP_MAX" ] && DONE[$s]=1
				[ "$next" -gt "$SWEEP_MAX" ] && next=$SWEEP_MAX
			else
				next=$(((lo + hi) / 2 / 50 * 50))
				[ $((hi - lo)) -le $((lo / 16 > 50 ? lo / 16 : 50)) ] && DONE[$s]=1
			fi
			NEXT[$s]=$next
		done
	done
}
if [ "$SWEEP" = 1 ] && [ ${#RUN_SERVERS[@]} -gt 0 ]; then
	sweep
fi

if [ -s "$TMP/tincan.log" ]; then
	grep -v 'msg=listening\|msg=certificate\|msg=allow_loopback_peers' "$TMP/tincan.log" >"$TMP/tincan.warn" || true
	if [ -s "$TMP/tincan.warn" ]; then
		echo "bench/turn: tincan logged at warn or above ($(wc -l <"$TMP/tincan.warn") lines), first lines:" >&2
		head -10 "$TMP/tincan.warn" >&2
	fi
fi

coturn_version=$(dpkg-query -W -f '${Version}' coturn 2>/dev/null || echo '?')
echo
echo "TURN relay over UDP on 127.0.0.1: $FLOWS flows (allocations with one channel each; r2r: $FLOWS pairs)," \
	"ChannelData with $PAYLOAD bytes of data;"
echo "$DURATION s measured per rate after $WARMUP s at the rate, median of $ROUNDS interleaved rounds;" \
	"$NCPU CPUs, $PIN_NOTE; generator tick ${TICK_US} µs; coturn $coturn_version"
node "$HERE/report.mjs" "$RESULTS" "$SWEEP_RESULTS"

#!/usr/bin/env bash
# bench/sfu/run.sh — SFU forwarding: tincan against Janus's videoroom.
#
# The same load generator (build/rel/sfuload, `make sfuload`: the project's
# own DTLS client, SRTP, STUN and SDP code playing browsers) drives both
# servers in one run: SFU_PUBS publishers send VP8 (30 frames/s, about
# 1 Mbit/s, key frames at start and on PLI/FIR) and Opus (50 packets/s) into
# one room, SFU_SUBS subscribers receive every track. bench/sfu/drive.mjs
# does the signaling (tincan's WebSocket SFU messages; Janus's HTTP API) and
# reads the server's CPU (utime+stime from /proc/<pid>/stat) over the window.
#
# Janus does not use loopback candidates, so the servers and the generator
# live in two network namespaces of their own (unshare -n) joined by a veth
# pair with documentation addresses: servers and driver on 192.0.2.10, the
# generator on 192.0.2.20. Nothing leaves the machine; the namespaces (and
# the veth pair with them) go when their holder processes are killed at exit.
#
# Prints per server and SRTP profile: CPU-seconds per million forwarded
# packets, forwarded packets/s, loss, and the ratio tincan/Janus (goal,
# issue 11: at most 0.5). Runs are interleaved round by round; the median
# round is shown. See bench/README.md.
#
# Environment: SFU_PUBS (4), SFU_SUBS (20; a list such as "10 25 50 100" runs
# each size in every round), SFU_ROOMS (1: rooms of that shape side by side),
# SFU_MESH (0; 1: SFU_PUBS members per room that each publish and receive the
# others, no pure subscribers), SFU_SIMULCAST (0; 1: publishers send three
# VP8 layers, rid q/h/f), SFU_VERIFY (1: the generator decrypts one
# forwarded packet in this many), SFU_WARMUP (3), SFU_DURATION (10),
# SFU_ROUNDS (3), SFU_PROFILES ("gcm cm"), SFU_SERVERS ("tincan janus"),
# SFU_PIN (auto: servers on CPU 0, generator and driver on the others; 0: none),
# SFU_THREADS (1: tincan's --media-threads; a list such as "1 2" runs one
# tincan per count, "tincan" with 1 and "tincan-2t" with 2, each pinned to
# as many CPUs as it has media threads, and reports how forwarding scales),
# SFU_QUOTA (percent of one CPU: each tincan gets that times its media
# threads in all, each of its threads that at most, as if it ran on that
# many CPUs of that size; the servers saturate, and their forwarded
# packets/s compare directly),
# SFU_FPS (30) and SFU_PTIME (20 ms): the generator's video frames per
# second and audio per packet (lighter streams, for shapes such as 100 rooms
# x 4 that one generator CPU cannot drive at full rate),
# SFU_RPS (1: the generator's end of the veth receives on the generator's
# CPUs, not in the server's time; 0: as a plain veth does),
# SFU_TIMEOUT (120 s per run), TINCAN_BIN (./tincan), SFULOAD_BIN.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/sfu
TINCAN_BIN=${TINCAN_BIN:-$ROOT/tincan}
SFULOAD_BIN=${SFULOAD_BIN:-$ROOT/build/rel/sfuload}
PUBS=${SFU_PUBS:-4}
SUBS=${SFU_SUBS:-20}
ROOMS=${SFU_ROOMS:-1}
MESH=${SFU_MESH:-0}
SIMULCAST=${SFU_SIMULCAST:-0}
FPS=${SFU_FPS:-30}
PTIME=${SFU_PTIME:-20}
VERIFY=${SFU_VERIFY:-1}
WARMUP=${SFU_WARMUP:-3}
DURATION=${SFU_DURATION:-10}
ROUNDS=${SFU_ROUNDS:-3}
PROFILES=${SFU_PROFILES:-"gcm cm"}
SERVERS=${SFU_SERVERS:-"tincan janus"}
PIN=${SFU_PIN:-auto}
TIMEOUT=${SFU_TIMEOUT:-120}
THREADS=${SFU_THREADS:-1}
QUOTA=${SFU_QUOTA:-}
SRV_IP=192.0.2.10
GEN_IP=192.0.2.20
TINCAN_PORT=8443
JANUS_PORT=8088
JANUS_ROOM=1234

. "$(dirname "$0")/../lib.sh"
bench_init sfu
CGROUPS=()
trap 'bench_cleanup; for c in "${CGROUPS[@]}"; do rmdir "$c" 2>/dev/null || true; done' EXIT

for v in PUBS ROOMS MESH SIMULCAST FPS PTIME VERIFY WARMUP DURATION ROUNDS TIMEOUT; do
	case ${!v} in *[!0-9]* | '') die "SFU_$v must be a whole number, got '${!v}'" ;; esac
done
MAXSUBS=0
for n in $SUBS; do
	case $n in *[!0-9]* | '') die "SFU_SUBS must be whole numbers, got '$n'" ;; esac
	[ "$n" -gt "$MAXSUBS" ] && MAXSUBS=$n
done
for n in $THREADS; do
	case $n in *[!0-9]* | '' | 0) die "SFU_THREADS must be whole numbers from 1, got '$n'" ;; esac
done
case $QUOTA in '') ;; *[!0-9]*) die "SFU_QUOTA must be a whole number (percent), got '$QUOTA'" ;; *) [ "$QUOTA" -ge 5 ] || die "SFU_QUOTA must be at least 5 (a 1 ms quota in 20 ms)" ;; esac
[ "$MESH" = 1 ] && SUBS=0 MAXSUBS=0
for p in $PROFILES; do
	case $p in gcm | cm | both) ;; *) die "SFU_PROFILES: unknown profile '$p' (gcm, cm, both)" ;; esac
done
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -x "$SFULOAD_BIN" ] || die "$SFULOAD_BIN not built (make sfuload)"
command -v node >/dev/null || die "node missing"
command -v ip >/dev/null && command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	die "ip, unshare and nsenter (iproute2, util-linux) are needed"

# --- two network namespaces and a veth pair between them ---
unshare -n sleep infinity &
NS_SRV=$!
PIDS+=("$NS_SRV")
unshare -n sleep infinity &
NS_GEN=$!
PIDS+=("$NS_GEN")
sleep 0.2
VS=sfus$$ VG=sfug$$
ip link add "$VS" type veth peer name "$VG" || die "cannot make a veth pair"
# A veth delivers what a server sends by running the receiver's network
# stack right away, on the sender's CPU and in the server's CPU time: the
# generator's UDP receive work would count as the server's. On two hosts
# each receives on its own CPUs; RPS on the generator's end does that here
# (SFU_RPS=0: the old way).
RPS_NOTE=""
if [ "${SFU_RPS:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && [ -w "/sys/class/net/$VG/queues/rx-0/rps_cpus" ]; then
	printf '%x' $(( ((1 << $(nproc)) - 1) & ~1 )) >"/sys/class/net/$VG/queues/rx-0/rps_cpus"
	RPS_NOTE="; the generator's receiving runs on its CPUs (RPS)"
fi
ip link set "$VS" netns "$NS_SRV"
ip link set "$VG" netns "$NS_GEN"
in_srv() { nsenter -t "$NS_SRV" -n "$@"; }
in_gen() { nsenter -t "$NS_GEN" -n "$@"; }
in_srv ip link set lo up
in_srv ip addr add "$SRV_IP/24" dev "$VS"
in_srv ip link set "$VS" up
in_gen ip link set lo up
in_gen ip addr add "$GEN_IP/24" dev "$VG"
in_gen ip link set "$VG" up

NCPU=$(nproc)
if [ "$PIN" = auto ] && [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
	SRV_PIN=(taskset -c 0)
	GEN_PIN=(taskset -c "1-$((NCPU - 1))")
	PIN_NOTE="servers pinned to CPU 0, generator and driver to CPUs 1-$((NCPU - 1))"
else
	SRV_PIN=()
	GEN_PIN=()
	PIN_NOTE="no pinning"
fi

# --- the servers, side by side in the server namespace ---
declare -A PID URL QUOTA_FOR
# start_tincan NAME THREADS PORT: one tincan with --media-threads THREADS,
# pinned (with SFU_PIN auto) to CPUs 0..THREADS-1.
start_tincan() {
	local name=$1 threads=$2 port=$3 pin=("${SRV_PIN[@]}")
	if [ "$threads" -gt 1 ] && [ ${#pin[@]} -gt 0 ]; then
		pin=(taskset -c "0-$((threads <= NCPU ? threads - 1 : NCPU - 1))")
	fi
	mkdir -p "$TMP/$name-data"
	(cd "$TMP/$name-data" && exec nsenter -t "$NS_SRV" -n "${pin[@]}" "$TINCAN_BIN" --bind "$SRV_IP" \
		--port "$port" --data-dir "$TMP/$name-data" --db :memory: --max-sfu-room $((PUBS + MAXSUBS + 4)) \
		--media-threads "$threads" --log-level warn) 2>"$TMP/$name.log" &
	PID[$name]=$!
	PIDS+=("$!")
	URL[$name]=wss://$SRV_IP:$port/ws
	if [ -n "$QUOTA" ]; then
		QUOTA_FOR[$name]=$threads
	fi
	local _
	for _ in $(seq 1 100); do
		kill -0 "${PID[$name]}" 2>/dev/null || { cat "$TMP/$name.log" >&2; die "$name exited during start"; }
		in_srv curl -sk --max-time 1 -o /dev/null "https://$SRV_IP:$port/health" && return 0
		sleep 0.1
	done
	die "$name did not answer within 10 s"
}

# Janus with only what the bench needs: the videoroom plugin with one room,
# the HTTP transport on 127.0.0.1 (of the server namespace), ICE on the veth.
start_janus() {
	command -v janus >/dev/null || die "janus missing (Debian package janus)"
	local J=$TMP/janus lib
	lib=$(dirname "$(find /usr/lib -path '*janus/plugins/libjanus_videoroom.so' | head -1)")/..
	mkdir -p "$J"
	cat >"$J/janus.jcfg" <<EOF
general: {
	configs_folder = "$J"
	plugins_folder = "$lib/plugins"
	transports_folder = "$lib/transports"
	events_folder = "$lib/events"
	loggers_folder = "$lib/loggers"
	debug_level = 3
	log_to_stdout = true
}
certificates: {
}
media: {
	rtp_port_range = "20000-20999"
}
nat: {
	nice_debug = false
	ice_enforce_list = "$VS"
}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_websockets.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
events: {
	broadcast = false
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
EOF
	cat >"$J/janus.transport.http.jcfg" <<EOF
general: {
	json = "compact"
	base_path = "/janus"
	http = true
	port = $JANUS_PORT
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
}
EOF
	# Like a room of the sample configuration, without its 128 kbit/s REMB cap
	# and without periodic PLIs (tincan sends none either).
	local r
	{
		printf 'general: {\n}\n'
		for r in $(seq "$JANUS_ROOM" $((JANUS_ROOM + ROOMS - 1))); do
			printf 'room-%s: {\n\tdescription = "bench"\n\tpublishers = %s\n\tbitrate = 0\n\tfir_freq = 0\n' "$r" $((PUBS + 2))
			printf '\taudiocodec = "opus"\n\tvideocodec = "vp8"\n\tnotify_joining = false\n}\n'
		done
	} >"$J/janus.plugin.videoroom.jcfg"
	nsenter -t "$NS_SRV" -n "${SRV_PIN[@]}" janus -C "$J/janus.jcfg" -F "$J" -o >"$TMP/janus.log" 2>&1 &
	PID[janus]=$!
	PIDS+=("$!")
	URL[janus]=http://127.0.0.1:$JANUS_PORT/janus
	local _
	for _ in $(seq 1 100); do
		kill -0 "${PID[janus]}" 2>/dev/null || { cat "$TMP/janus.log" >&2; die "janus exited during start"; }
		in_srv curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$JANUS_PORT/janus/info" && return 0
		sleep 0.1
	done
	cat "$TMP/janus.log" >&2
	die "janus did not answer within 10 s"
}

RUN_SERVERS=()
for s in $SERVERS; do
	case $s in
	tincan)
		[ -x "$TINCAN_BIN" ] || die "$TINCAN_BIN not built (make)"
		port=$TINCAN_PORT
		for n in $THREADS; do
			name=tincan
			[ "$n" = 1 ] || name=tincan-${n}t
			start_tincan "$name" "$n" "$port"
			RUN_SERVERS+=("$name")
			port=$((port + 1))
		done
		continue
		;;
	janus) start_janus ;;
	*) die "unknown server '$s' (tincan, janus)" ;;
	esac
	RUN_SERVERS+=("$s")
done

# SFU_QUOTA: each tincan in a cgroup (v1 cpu controller) with QUOTA % of a
# CPU per media thread, and each of its threads in a child cgroup with
# QUOTA % at most: as if it had that many CPUs of that size, so a server
# whose work sits on one thread gets no more than one of them.
cap_threads() {
	local name=$1 n=$2 cg tid
	cg=/sys/fs/cgroup/cpu/tincan-bench-$$-$name
	mkdir "$cg" || die "cannot make the cgroup $cg"
	CGROUPS+=("$cg")
	echo 20000 >"$cg/cpu.cfs_period_us" # 20 ms; the kernel takes quotas from 1 ms
	echo $((QUOTA * 200 * n)) >"$cg/cpu.cfs_quota_us"
	for tid in $(ls "/proc/${PID[$name]}/task"); do
		mkdir "$cg/t$tid"
		CGROUPS=("$cg/t$tid" "${CGROUPS[@]}")
		echo 20000 >"$cg/t$tid/cpu.cfs_period_us"
		echo $((QUOTA * 200)) >"$cg/t$tid/cpu.cfs_quota_us"
		echo "$tid" >"$cg/t$tid/tasks"
	done
}
for s in "${!QUOTA_FOR[@]}"; do
	cap_threads "$s" "${QUOTA_FOR[$s]}"
done

read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN{exit !(l > 0.5)}'; then
	echo "bench/sfu: warning: load average $load1 before the run; other processes will add noise" >&2
fi
SIZES=$SUBS
[ "$MESH" = 1 ] && SIZES=0
nruns=$((${#RUN_SERVERS[@]} * $(wc -w <<<"$PROFILES") * $(wc -w <<<"$SIZES") * ROUNDS))
if [ "$MESH" = 1 ]; then
	SHAPE="$ROOMS room(s) x $PUBS members, each publishing and receiving the other $((PUBS - 1))"
else
	SHAPE="$ROOMS room(s), $PUBS publishers x $SUBS subscribers"
fi
echo "bench/sfu: $nruns runs of ~$((WARMUP + DURATION + 6)) s; $SHAPE" >&2

RESULTS=$TMP/results
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
	for n in $SIZES; do
	for prof in $PROFILES; do
		for s in "${RUN_SERVERS[@]}"; do
			echo "bench/sfu: round $round/$ROUNDS, $s, SRTP $prof, $n subscribers" >&2
			rc=0
			uptime >&2
			timeout "$TIMEOUT" nsenter -t "$NS_SRV" -n "${GEN_PIN[@]}" node "$HERE/drive.mjs" --server "${s%%-*}" \
				--url "${URL[$s]}" --pid "${PID[$s]}" --pubs "$PUBS" --subs "$n" --rooms "$ROOMS" --mesh "$MESH" \
				--verify "$VERIFY" --warmup "$WARMUP" --simulcast "$SIMULCAST" \
				--duration "$DURATION" --srtp "$prof" --room "$([ "$s" = janus ] && echo "$JANUS_ROOM" || echo "b$round$prof$n")" \
				--gen "nsenter -t $NS_GEN -n $SFULOAD_BIN --bind $GEN_IP --fps $FPS --ptime $PTIME" >"$TMP/drive.out" 2>"$TMP/drive.err" || rc=$?
			if [ "$rc" != 0 ]; then
				tail -20 "$TMP/drive.err" >&2
				echo "bench/sfu: the run against $s ($prof) failed, status $rc (124 = timed out)" >&2
			fi
			grep -v '^RESULT' "$TMP/drive.err" | head -5 >&2 || true
			sed -n 's/^RESULT //p' "$TMP/drive.out" | sed "s/^/{\"round\":$round,\"name\":\"$s\",\"ncpu\":$NCPU,\"r\":/; s/\$/}/" >>"$RESULTS"
			kill -0 "${PID[$s]}" 2>/dev/null || { tail -40 "$TMP/$s.log" >&2; die "$s DIED during the run"; }
		done
	done
	done
done

for s in "${RUN_SERVERS[@]}"; do
	if [ -s "$TMP/$s.log" ]; then
		grep -v 'msg=listening\|msg=certificate' "$TMP/$s.log" | grep -iv '^\s*$' >"$TMP/$s.warn" || true
		[ "$s" = janus ] && { grep -i 'warn\|err' "$TMP/$s.log" >"$TMP/$s.warn" || true; }
		if [ -s "$TMP/$s.warn" ]; then
			echo "bench/sfu: $s logged $(wc -l <"$TMP/$s.warn") warning lines, first ones:" >&2
			head -5 "$TMP/$s.warn" >&2
			echo "bench/sfu: the most frequent ones (numbers as N):" >&2
			sed 's/[0-9][0-9]*/N/g' "$TMP/$s.warn" | sort | uniq -c | sort -rn | head -3 >&2
		fi
	fi
done

janus_version=$(dpkg-query -W -f '${Version}' janus 2>/dev/null || echo '?')
echo
read -r load2 _ </proc/loadavg
if [ "$SIMULCAST" = 1 ]; then
	MEDIA="VP8 simulcast q/h/f ~0.15/0.35/1 Mbit/s at 30 fps, sent at $FPS fps"
else
	MEDIA="VP8 ~1 Mbit/s at 30 fps, sent at $FPS fps"
fi
MEDIA="$MEDIA + Opus $((1000 / PTIME)) pkt/s per publisher"
echo "SFU forwarding: $SHAPE; $MEDIA;" \
	"veth between two network namespaces; generator decrypts 1 forwarded packet in $VERIFY;"
[ -n "$QUOTA" ] && PIN_NOTE="$PIN_NOTE; each tincan capped at $QUOTA % of a CPU per media thread and each of its threads at $QUOTA % (cgroup cpu quotas)"
echo "$DURATION s measured after $WARMUP s, median of $ROUNDS interleaved rounds; $NCPU CPUs, $PIN_NOTE$RPS_NOTE;" \
	"load average before: $load1, after: $load2; Janus $janus_version"
node "$HERE/report.mjs" "$RESULTS"

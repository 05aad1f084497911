# Shared prologue of the benchmark scripts: a temp dir, the list of started
# processes, and a cleanup that stops them by PID however the script ends.
#
#   . "$(dirname "$0")/../lib.sh"; bench_init http
#
# Afterwards: $TMP, PIDS+=("$pid") for every process started, die MESSAGE.

bench_init() {
	BENCH_NAME=$1
	PIDS=()
	TMP=$(mktemp -d "/tmp/tincan-bench-$1.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}

die() { echo "bench/$BENCH_NAME: $*" >&2; exit 1; }

# Shared prologue of the benchmark scripts: a temp dir, the list of started
# processes, and a cleanup that stops them by PID however the script ends.
#
#   . "$(dirname "$0")/../lib.sh"; bench_init http
#
# Afterwards: $TMP, PIDS+=("$pid") for every process started, die MESSAGE,
# free_port, wait_https and bench_cert.

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

# Prints a port that is free on 127.0.0.1 for both TCP and UDP (tincan
# binds both on its one port).
free_port() {
	node -e '
const net = require("net"), dgram = require("dgram");
(function attempt(left) {
  const s = net.createServer();
  s.listen(0, "127.0.0.1", () => {
    const port = s.address().port;
    const u = dgram.createSocket("udp4");
    u.once("error", () => { s.close(); if (left > 0) attempt(left - 1); else process.exit(1); });
    u.bind(port, "127.0.0.1", () => { u.close(); s.close(); console.log(port); });
  });
})(20);'
}

# Waits up to 15 s until https://127.0.0.1:PORT/PATH answers; dies (with
# the server's log) if the process exits or never answers.
wait_https() { # wait_https PORT PID NAME LOGFILE [PATH]
	local i
	for i in $(seq 1 150); do
		kill -0 "$2" 2>/dev/null || { cat "$4" >&2; die "$3 exited during start"; }
		curl -sk --max-time 1 -o /dev/null "https://127.0.0.1:$1/${5:-}" && return 0
		sleep 0.1
	done
	cat "$4" >&2
	die "$3 did not answer on port $1 within 15 s"
}

# One P-256 certificate for localhost in $TMP/cert.pem and $TMP/key.pem, so
# the servers compared negotiate the same TLS 1.3 suite.
bench_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
}

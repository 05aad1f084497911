// The aiortc test client (tests/integration/sfu_aiortc_client.py, on
// Debian's python3-aiortc) as a child process, for the tests that put a
// WebRTC stack nobody here wrote through tincan's SFU (sfu-aiortc,
// sfu-bwe). It joins an SFU room, publishes a solid-colour video and a
// silent audio track, subscribes to the others and prints one JSON event a
// line on stdout ("frames" reports, "offer", "estimate", "error", ...);
// closing its stdin makes it leave and exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT_DIR } from './net.mjs';

const PYTHON = '/usr/bin/python3';
const CLIENT = join(ROOT_DIR, 'tests', 'integration', 'sfu_aiortc_client.py');

/**
 * Starts one client in `room` of the tincan at host:port, publishing video
 * of colour [r, g, b]. opts: host (127.0.0.1), netns (runs it in that
 * network namespace), extra (more arguments for the client). Its events
 * land in .events and its stderr in .stderr.
 */
export function aiortc(port, room, color, { host = '127.0.0.1', netns, extra = [] } = {}) {
  const args = [CLIENT, '--url', `wss://${host}:${port}/ws`, '--room', room, '--color', color.join(','), ...extra];
  const stdio = { stdio: ['pipe', 'pipe', 'pipe'] };
  const proc = netns ? spawn('ip', ['netns', 'exec', netns, PYTHON, ...args], stdio) : spawn(PYTHON, args, stdio);
  const events = [];
  const stderr = [];
  let pending = '';
  let wake = () => {};
  proc.stdout.on('data', (chunk) => {
    pending += chunk.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      events.push(JSON.parse(pending.slice(0, nl)));
      pending = pending.slice(nl + 1);
    }
    wake();
  });
  proc.stderr.on('data', (chunk) => stderr.push(chunk.toString()));
  const exited = new Promise((ok) => proc.on('exit', (code, signal) => { ok({ code, signal }); wake(); }));
  let gone = false;
  exited.then(() => { gone = true; });
  return {
    events,
    stderr,
    /** The latest "frames" report (none yet: no video, no audio). */
    get last() { return events.filter((e) => e.event === 'frames').at(-1) || { video: 0, audio: 0 }; },
    /** The receive-side estimates it reported, in bit/s. */
    get estimates() { return events.filter((e) => e.event === 'estimate').map((e) => e.bps); },
    /** Resolves with the first event (from index `from`) that pred accepts. */
    async waitFor(pred, what, ms = 30_000, from = 0) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = events.slice(from).find(pred);
        if (hit) return hit;
        if (gone || Date.now() > deadline) {
          assert.fail(`aiortc ${color}: no ${what} within ${ms} ms (exited: ${gone}); last events: `
            + `${JSON.stringify(events.slice(-3))}; stderr: ${stderr.join('').slice(-2000)}`);
        }
        await new Promise((ok) => { wake = ok; setTimeout(ok, 500); });
      }
    },
    /** Closes its stdin (it leaves and exits), SIGKILL if it has not after 5 s. */
    async stop() {
      if (gone) return;
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// Answers on the main UDP port leave from the address the request was sent
// to (IP_PKTINFO / IPV6_PKTINFO), with tincan bound to the wildcard address
// on a host with several addresses. Without that, the kernel picks the
// source by route and a client that sent to the second address drops every
// answer: TURN over UDP then fails on multi-homed hosts, on every IPv6 host
// with several global addresses and behind floating IPs.
//
// All of 127.0.0.0/8 is local on Linux, so a client bound to 127.0.0.2 that
// sends to 127.0.0.3 shows it over IPv4 (through the dual-stack socket, as
// v4-mapped addresses); for IPv6 the test adds fd00::2 and fd00::3 to the
// loopback of a network namespace of its own, where tincan may also bind the
// wildcard without listening on the host's real interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { canUseNetns, makeNetns } from '../lib/netns.mjs';

const CHILD = fileURLToPath(new URL('./udp-source-child.mjs', import.meta.url));

test('answers leave from the address the request came to (IPv4, v4-mapped, IPv6, TURN relay)', { timeout: 60_000, skip: !canUseNetns() && 'needs root for a network namespace' }, () => {
  const ns = makeNetns('udpsrc', ['fd00::2/128', 'fd00::3/128']);
  let r;
  try {
    r = spawnSync(ns.prefix[0], [...ns.prefix.slice(1), process.execPath, CHILD], { encoding: 'utf8', timeout: 50_000, env: process.env });
  } finally {
    ns.remove();
  }
  const line = r.stdout.trim().split('\n').pop();
  assert.ok(line && line.startsWith('{'), `child reported nothing (status ${r.status}):\n${r.stderr}`);
  const out = JSON.parse(line);
  assert.equal(out.error, undefined, `child failed: ${out.error}\n${r.stderr}`);
  const p = out.port;
  assert.equal(out.v4.source, `127.0.0.3:${p}`, 'the answer to 127.0.0.3 comes from 127.0.0.3');
  assert.equal(out.v4.mapped, out.v4.local, 'XOR-MAPPED-ADDRESS is the client (127.0.0.2)');
  assert.equal(out.v4main.source, `127.0.0.1:${p}`, 'the answer to 127.0.0.1 comes from 127.0.0.1');
  assert.equal(out.v6.source, `fd00::3:${p}`, 'the answer to fd00::3 comes from fd00::3');
  assert.equal(out.v6.mapped, out.v6.local, 'XOR-MAPPED-ADDRESS is the client (fd00::2)');
  assert.equal(out.v6lo.source, `::1:${p}`, 'the answer to ::1 comes from ::1');
  assert.deepEqual(out.turn, { allocate: 'ok', data: 'hello through the relay' },
    'a TURN allocation made through 127.0.0.3 works, and peer data reaches the client from there');
});

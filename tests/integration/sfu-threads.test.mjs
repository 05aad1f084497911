// The SFU's media threads (docs/sfu.md, "Threading"): tincan with
// --media-threads 2 and two SFU rooms of 2 publishers x 2 subscribers each,
// driven by the bench's load generator (build/rel/sfuload: the project's
// DTLS client, SRTP, ICE and SDP code playing browsers, with
// bench/sfu/drive.mjs's signaling). The rooms land on different threads
// (sfu_thread_rooms), every subscriber of both receives and decrypts every
// track it was offered, each thread forwards (sfu_thread_forwarded_packets_total)
// and the threads' counters add up to the total, which covers what the
// subscribers received; what the threads sent counts in the main port's
// udp_sent_packets_total. Then every member leaves while the publishers
// still send (rooms and sessions freed while datagrams are queued for their
// threads), and the server, an ASan build, must stop without a report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { start } from './net.mjs';
import { scrape } from './prom.mjs';
import { Gen, SFULOAD, setupTincan, measure } from '../../bench/sfu/drive.mjs';

const PUBS = 2;
const SUBS = 2;

test('two SFU rooms on two media threads: both forward, the metrics add up', { timeout: 90000 }, async () => {
  assert.ok(existsSync(SFULOAD), `${SFULOAD} is missing: make sfuload`);
  const srv = await start({ args: ['--media-threads', '2'] });
  const gen = new Gen([SFULOAD, '--bind', '127.0.0.1']);
  let run;
  try {
    run = await setupTincan(gen, { url: `wss://127.0.0.1:${srv.port}/ws`, room: `threads${process.pid}`, rooms: 2, pubs: PUBS, subs: SUBS });
    assert.equal(gen.connected.size, 2 * (PUBS + SUBS));
    const r = await measure(gen, { pid: srv.proc.pid, warmup: 1, duration: 2 });
    assert.equal(r.auth_fail, 0, 'SRTP: nothing fails to authenticate');
    assert.equal(r.final.subs.length, 2 * SUBS);
    for (const s of r.final.subs) {
      assert.equal(s.tracks.length, 2 * PUBS, `subscriber ${s.id} was offered both publishers' audio and video`);
      for (const t of s.tracks) assert.ok(t.recv >= 20, `subscriber ${s.id}: ${t.recv} packets of ${t.ssrc}`);
    }
    assert.ok(r.loss_pct < 5, `loss ${r.loss_pct} %`);

    const { m } = await scrape(srv.port);
    assert.equal(m.get('tincan_sfu_media_threads'), 2);
    assert.equal(m.get('tincan_sfu_rooms'), 2);
    const rooms = [0, 1].map((i) => m.get('tincan_sfu_thread_rooms', { thread: String(i) }));
    assert.deepEqual(rooms, [1, 1], 'one room pinned to each thread');
    const fwd = [0, 1].map((i) => m.get('tincan_sfu_thread_forwarded_packets_total', { thread: String(i) }));
    const total = m.get('tincan_sfu_forwarded_packets_total');
    assert.ok(fwd[0] > 0 && fwd[1] > 0, `both threads forward: ${fwd}`);
    assert.equal(fwd[0] + fwd[1], total, 'the threads add up to the total');
    const recvTotal = r.final.subs.reduce((n, sub) => n + sub.tracks.reduce((k, t) => k + t.recv, 0), 0);
    assert.ok(total >= recvTotal, `forwarded ${total} >= received ${recvTotal}`);
    assert.ok(m.get('tincan_udp_sent_packets_total') >= recvTotal, `the threads' sends count on the main port: ${m.get('tincan_udp_sent_packets_total')} < ${recvTotal}`);
    for (const reason of ['srtp_auth', 'overload', 'no_session']) {
      assert.equal(m.get('tincan_sfu_dropped_total', { reason }) ?? 0, 0, `no ${reason} drops`);
    }

    // Everyone leaves while media flows.
    gen.send({ op: 'start' });
    await run.close();
    run = null;
    gen.send({ op: 'stop' });
    const after = (await scrape(srv.port)).m;
    assert.equal(after.get('tincan_sfu_rooms'), 0);
    assert.equal(after.get('tincan_sfu_sessions'), 0);
  } finally {
    if (run) await run.close();
    await gen.quit();
    await srv.stop();
  }
});

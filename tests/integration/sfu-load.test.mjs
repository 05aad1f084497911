// The SFU bench's load generator against tincan, briefly: build/rel/sfuload
// (`make sfuload`; the project's DTLS client, SRTP, STUN and SDP code
// playing browsers) with bench/sfu/drive.mjs's signaling, 2 publishers x 3
// subscribers in one SFU room on 127.0.0.1. It checks that the media is
// really forwarded: every subscriber receives, decrypts and parses RTP of
// exactly the SSRCs tincan offered it (the audio and video of each
// publisher, with their own SSRCs as long as tincan keeps them), nothing fails
// SRTP authentication, and what arrives is close to what was sent times
// the subscribers, and tincan's metrics show no SRTP or SRTCP failures
// of the generator's packets. Not a timing test: bench/sfu/run.sh measures. It keeps
// the generator working, so the bench does not rot between runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { start } from './net.mjs';
import { scrape } from './prom.mjs';
import { Gen, SFULOAD, setupTincan, measure } from '../../bench/sfu/drive.mjs';

const PUBS = 2;
const SUBS = 3;

/** The media SSRC of each live m-section (the first of an FID group). */
function mediaSsrcs(sdp) {
  return sdp.split(/\r?\n(?=m=)/).slice(1).filter((m) => !/^m=\S+ 0 /.test(m)).map((m) => {
    const fid = /^a=ssrc-group:FID (\d+)/m.exec(m);
    return Number(fid ? fid[1] : /^a=ssrc:(\d+)/m.exec(m)[1]);
  });
}

test('sfuload: 2 publishers x 3 subscribers through tincan, every track forwarded and decrypted', { timeout: 60000 }, async () => {
  assert.ok(existsSync(SFULOAD), `${SFULOAD} is missing: make sfuload`);
  const srv = await start();
  const gen = new Gen([SFULOAD, '--bind', '127.0.0.1']);
  const offers = new Map(); // publisher id → its offer
  const subOffers = new Map(); // subscriber id → tincan's latest offer
  const ask = gen.ask.bind(gen);
  gen.ask = async (cmd, pred, ms) => { // keep the descriptions, to know the SSRCs
    const ev = await ask(cmd, pred, ms);
    if (cmd.op === 'pub') offers.set(cmd.id, ev.sdp);
    if (cmd.op === 'offer') subOffers.set(cmd.id, cmd.sdp);
    return ev;
  };
  let run;
  try {
    run = await setupTincan(gen, { url: `wss://127.0.0.1:${srv.port}/ws`, room: `load${process.pid}`, pubs: PUBS, subs: SUBS });
    assert.equal(gen.connected.size, PUBS + SUBS);
    const r = await measure(gen, { pid: srv.proc.pid, warmup: 1, duration: 2 });
    const ssrcs = [...offers.values()].flatMap((sdp) => [...sdp.matchAll(/^a=ssrc:(\d+) cname:/gm)].map((m) => Number(m[1])));
    assert.equal(ssrcs.length, 2 * PUBS);
    assert.equal(r.auth_fail, 0, 'SRTP: nothing fails to authenticate');
    assert.ok(r.sent_pps > 0, 'the publishers sent');
    assert.equal(r.final.subs.length, SUBS);
    for (const s of r.final.subs) {
      const got = s.tracks.filter((t) => t.recv > 0).map((t) => t.ssrc).sort();
      const offered = mediaSsrcs(subOffers.get(s.id)).sort();
      assert.equal(offered.length, 2 * PUBS, `tincan offered subscriber ${s.id} every publisher track`);
      assert.deepEqual(got, offered, `subscriber ${s.id} receives the tracks it was offered, and only those`);
      if (!ssrcs.every((x) => offered.includes(x))) {
        // tincan rewrites SSRCs: then at least one per publisher track
        assert.equal(new Set(offered).size, ssrcs.length);
      }
      for (const t of s.tracks) assert.ok(t.recv >= 20, `subscriber ${s.id}: ${t.recv} packets of ${t.ssrc}`);
    }
    // In the window each subscriber gets what the publishers sent (bar loss on a busy machine).
    assert.ok(r.fwd >= 0.8 * r.sent_pps * r.secs * SUBS, `forwarded ${r.fwd}, sent ${Math.round(r.sent_pps * r.secs)} x ${SUBS}`);
    assert.ok(r.loss_pct < 5, `loss ${r.loss_pct} %`);
    // tincan's own counters agree: it forwarded at least what arrived, and
    // dropped nothing for SRTP (the generator's SRTP and SRTCP decrypt there).
    const { m } = await scrape(srv.port);
    const recvTotal = r.final.subs.reduce((n, sub) => n + sub.tracks.reduce((k, t) => k + t.recv, 0), 0);
    assert.ok(m.get('tincan_sfu_forwarded_packets_total') >= recvTotal, 'forwarded counter');
    assert.equal(m.get('tincan_sfu_dropped_total', { reason: 'srtp_auth' }) ?? 0, 0, 'no SRTP drops in tincan');
    assert.ok(r.final.rtcp_out > 0, 'sender and receiver reports went out');
  } finally {
    if (run) await run.close();
    await gen.quit();
    await srv.stop();
  }
});

/** A member of the room without transports that hears its messages (active-speaker). */
async function listener(port, room) {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { rejectUnauthorized: false });
  const seen = [];
  let wake = () => {};
  ws.on('message', (d) => { seen.push(JSON.parse(d.toString())); wake(); });
  await new Promise((ok, no) => { ws.on('open', ok); ws.on('error', no); });
  ws.send(JSON.stringify({ type: 'join', room, sfu: true }));
  /** Resolves with the first message since `from` that pred accepts. */
  const next = (pred, from, ms) => new Promise((ok, no) => {
    const t = setTimeout(() => no(new Error(`no such message in ${ms} ms: ${JSON.stringify(seen.slice(from))}`)), ms);
    const look = () => {
      const m = seen.slice(from).find(pred);
      if (m) { clearTimeout(t); wake = () => {}; ok(m); }
    };
    wake = look;
    look();
  });
  return { ws, seen, next };
}

test('sfuload: simulcast publishers and their audio levels: the top layer forwarded, the active speaker follows the level', { timeout: 60000 }, async () => {
  assert.ok(existsSync(SFULOAD), `${SFULOAD} is missing: make sfuload`);
  const srv = await start();
  const gen = new Gen([SFULOAD, '--bind', '127.0.0.1', '--simulcast', '1']);
  const room = `simload${process.pid}`;
  let run;
  let ear;
  try {
    ear = await listener(srv.port, room);
    run = await setupTincan(gen, { url: `wss://127.0.0.1:${srv.port}/ws`, room, pubs: 3, subs: 2 });
    const peers = run.rooms[0].members.filter((m) => m.pub).map((m) => m.peer);
    // Publisher 2 speaks first, then publisher 3 (RFC 6464 levels, -dBov).
    const from = ear.seen.length;
    const t0 = Date.now();
    gen.send({ op: 'start' });
    gen.send({ op: 'level', id: 2, level: 20 });
    assert.equal((await ear.next((m) => m.type === 'active-speaker', from, 10000)).peer, peers[1]);
    const from2 = ear.seen.length;
    gen.send({ op: 'level', id: 2, level: 127 });
    gen.send({ op: 'level', id: 3, level: 15 });
    assert.equal((await ear.next((m) => m.type === 'active-speaker', from2, 10000)).peer, peers[2]);
    // Three layers go up; with no sfu-view and no bandwidth estimate each
    // subscriber gets the top one (~1 Mbit/s; q is ~0.15, h ~0.35).
    const r = await measure(gen, { pid: srv.proc.pid, warmup: 0, duration: 2 });
    const secs = (Date.now() - t0 - 500) / 1000; // since the start, less the drain after the stop
    assert.equal(r.auth_fail, 0);
    const { m } = await scrape(srv.port);
    assert.equal(m.get('tincan_sfu_dropped_total', { reason: 'unknown_ssrc' }) ?? 0, 0, 'every layer\'s SSRC learnt from its rid');
    for (const s of r.final.subs) {
      const video = s.tracks.filter((t) => t.video);
      assert.equal(video.length, 3, `subscriber ${s.id}: a video track per publisher`);
      for (const t of video) {
        const kbps = (8 * t.bytes) / 1000 / secs;
        assert.ok(kbps > 600, `subscriber ${s.id} gets the top layer of ${t.ssrc}: ${Math.round(kbps)} kbit/s`);
      }
    }
  } finally {
    ear?.ws.close();
    if (run) await run.close();
    await gen.quit();
    await srv.stop();
  }
});

test('sfuload: 10 publishers x 2 subscribers: every subscriber gets all 10 publishers (20 m-sections, past the old cap of 16)', { timeout: 60000 }, async () => {
  assert.ok(existsSync(SFULOAD), `${SFULOAD} is missing: make sfuload`);
  const srv = await start();
  const gen = new Gen([SFULOAD, '--bind', '127.0.0.1', '--verify', '4']);
  let run;
  try {
    run = await setupTincan(gen, { url: `wss://127.0.0.1:${srv.port}/ws`, room: `ten${process.pid}`, pubs: 10, subs: 2 });
    const r = await measure(gen, { pid: srv.proc.pid, warmup: 1, duration: 2 });
    assert.equal(r.auth_fail, 0);
    for (const s of r.final.subs) {
      const live = s.tracks.filter((t) => t.recv > 0);
      assert.equal(live.length, 20, `subscriber ${s.id} receives ${live.length} tracks: ${JSON.stringify(s.tracks)}`);
      assert.equal(live.filter((t) => t.video).length, 10);
    }
  } finally {
    if (run) await run.close();
    await gen.quit();
    await srv.stop();
  }
});

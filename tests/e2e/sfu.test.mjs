// Real media through tincan's own SFU (issue 11, first milestone): three
// headless Chromium pages join one SFU room over the signaling WebSocket,
// each publishes the fake camera and microphone on a publisher
// RTCPeerConnection and receives the other two on a subscriber
// RTCPeerConnection (docs/sfu.md). The pages are driven with
// page.evaluate; the web client's UI is not used (the pages sit on /health
// only to have the server's secure origin).
//
// What a user would check: each page decodes the other two's video
// (getStats: two inbound video streams with framesDecoded > 0), and both of
// its transports run over the server's main port (the selected pair's
// remote candidate is 127.0.0.1:PORT), and RTCP reports go both ways
// through the SFU (/metrics). A second test sends garbage DTLS and
// RTP to the port from a stranger's socket: it is dropped and counted in
// /metrics, and the call goes on decoding.
//
// Chromium gathers no loopback candidates unless told to: helpers'
// useSfuPages() launches it with --allow-loopback-in-peer-connection.
//
// Run: TINCAN_BIN=$PWD/tincan node --test tests/e2e/sfu.test.mjs
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { useSfuPages } from './helpers.mjs';
import { scrape } from '../integration/prom.mjs';

const STEP = { timeout: 60_000 };

// ---- code that runs in the pages ------------------------------------------

/** In the page: joins the SFU room, publishes camera + mic, answers sfu-offers. */
async function pageJoin({ room }) {
  const log = (s) => window.sfuLog.push(s);
  window.sfuLog = [];
  const ws = new WebSocket(`wss://${location.host}/ws`);
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error('ws failed')); });
  const pub = new RTCPeerConnection();
  const sub = new RTCPeerConnection();
  Object.assign(window, { ws, pub, sub });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  for (const t of stream.getTracks()) pub.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
  let subChain = Promise.resolve();
  const send = (m) => ws.send(JSON.stringify(m));
  const publish = async () => {
    const offer = await pub.createOffer();
    await pub.setLocalDescription(offer);
    send({ type: 'sfu-publish', sdp: offer.sdp });
  };
  const subscribe = async (sdp) => {
    await sub.setRemoteDescription({ type: 'offer', sdp });
    const answer = await sub.createAnswer();
    await sub.setLocalDescription(answer);
    send({ type: 'sfu-subscribe-answer', sdp: answer.sdp });
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    log(m.type + (m.code ? `:${m.code} ${m.message}` : ''));
    if (m.type === 'joined') publish().catch((e) => log(`publish error ${e}`));
    if (m.type === 'sfu-answer') pub.setRemoteDescription({ type: 'answer', sdp: m.sdp }).catch((e) => log(`answer error ${e}`));
    if (m.type === 'sfu-offer') subChain = subChain.then(() => subscribe(m.sdp)).catch((e) => log(`offer error ${e}`));
  };
  send({ type: 'join', room, sfu: true });
}

/** In the page: what getStats says about both transports. */
async function pageStats() {
  const pairOf = async (pc) => {
    const report = await pc.getStats();
    const all = [...report.values()];
    const transport = all.find((s) => s.type === 'transport');
    const pair = transport && report.get(transport.selectedCandidatePairId);
    const remote = pair && report.get(pair.remoteCandidateId);
    return { state: pc.connectionState, remote: remote && { address: remote.address, port: remote.port }, all };
  };
  const pub = await pairOf(window.pub);
  const sub = await pairOf(window.sub);
  const video = sub.all.filter((s) => s.type === 'inbound-rtp' && s.kind === 'video');
  const outbound = pub.all.filter((s) => s.type === 'outbound-rtp');
  return {
    pub: { state: pub.state, remote: pub.remote, sent: outbound.map((s) => s.packetsSent) },
    sub: { state: sub.state, remote: sub.remote },
    decoded: video.map((s) => s.framesDecoded ?? 0),
    log: window.sfuLog,
  };
}

// ---- the test -------------------------------------------------------------

describe('three browsers through the SFU', { timeout: 180_000 }, () => {
  const env = useSfuPages(3, {}, STEP);

  /** Polls until every page decodes two videos over the main port, or fails. */
  async function waitForMedia(timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stats = await Promise.all(env.pages.map((p) => p.evaluate(pageStats)));
      const ok = stats.every((s) => s.decoded.filter((n) => n > 0).length === 2
        && s.pub.remote?.port === env.server.port && s.sub.remote?.port === env.server.port);
      if (ok) return stats;
      if (Date.now() > deadline) assert.fail(`not every page decodes two videos within ${timeoutMs} ms: ${JSON.stringify(stats)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  test('each page decodes the other two over the main port', STEP, async () => {
    for (const page of env.pages) await page.evaluate(pageJoin, { room: 'sfu-e2e' });
    const stats = await waitForMedia();
    for (const s of stats) {
      assert.equal(s.pub.remote.address, '127.0.0.1');
      assert.equal(s.sub.remote.address, '127.0.0.1');
      assert.equal(s.decoded.length, 2, 'two inbound video streams');
    }
    // RTCP both ways: the publishers' sender reports reach the subscribers
    // (lip sync) and the publishers get our receiver reports, within seconds.
    let m;
    for (let i = 0; i < 100; i++) {
      m = (await scrape(env.server.port)).m;
      if (m.get('tincan_sfu_sender_reports_forwarded_total') > 0 && m.get('tincan_sfu_receiver_reports_total') > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(m.get('tincan_sfu_sender_reports_forwarded_total') > 0, 'sender reports forwarded');
    assert.ok(m.get('tincan_sfu_receiver_reports_total') > 0, 'receiver reports sent');
    assert.equal(m.get('tincan_sfu_sessions'), 6, 'a publisher and a subscriber transport per page');
    assert.ok(m.get('tincan_sfu_forwarded_packets_total') > 100);
    assert.ok(m.get('tincan_sfu_keyframe_requests_total') >= 1);
  });

  test('garbage DTLS and RTP to the port is dropped and counted, and the call goes on', STEP, async () => {
    const before_ = (await scrape(env.server.port)).m;
    const sock = dgram.createSocket('udp4');
    await new Promise((ok) => sock.bind(0, '127.0.0.1', ok));
    const dtls = Buffer.alloc(100, 0x42);
    dtls[0] = 22; // a DTLS handshake record from an address that passed no ICE check
    const rtp = Buffer.alloc(120, 0x17);
    rtp[0] = 0x80;
    rtp[1] = 96;
    for (let i = 0; i < 20; i++) {
      for (const b of [dtls, rtp]) await new Promise((ok) => sock.send(b, env.server.port, '127.0.0.1', ok));
    }
    sock.close();
    const frames = (s) => s.decoded.reduce((a, b) => a + b, 0);
    const then = await Promise.all(env.pages.map((p) => p.evaluate(pageStats)));
    let m;
    for (let i = 0; i < 40; i++) {
      m = (await scrape(env.server.port)).m;
      if (m.get('tincan_sfu_dropped_total', { reason: 'no_session' }) - before_.get('tincan_sfu_dropped_total', { reason: 'no_session' }) >= 40) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(m.get('tincan_sfu_dropped_total', { reason: 'no_session' })
      - before_.get('tincan_sfu_dropped_total', { reason: 'no_session' }) >= 40, 'the 40 datagrams are counted');
    await new Promise((r) => setTimeout(r, 1500));
    const now = await Promise.all(env.pages.map((p) => p.evaluate(pageStats)));
    now.forEach((s, i) => assert.ok(frames(s) > frames(then[i]), `page ${i} keeps decoding`));
  });

  test('the server logged no errors', () => {
    const bad = env.server.logs.filter((l) => /level=(error|fatal)/.test(l));
    assert.deepEqual(bad, []);
  });
});

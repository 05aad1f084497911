// A browser that reaches tincan only through TURN joins an SFU room
// (issue 11, "Relay-only"): two headless Chromium pages in one SFU room,
// one plain, one with iceTransportPolicy "relay" and a single ICE server,
// turns: on the main port. The relay-only page's relay candidate talks to
// the SFU's host candidate — the server's own main port — and TURN hands
// those datagrams to the SFU in process (and the SFU's answers back to the
// allocation), as relay-to-relay does, instead of refusing the main port
// as a peer.
//
// The pages are driven with page.evaluate as in sfu.test.mjs (the web
// client's UI is not used; the pages sit on /health only to have the
// server's secure origin), so the test does not depend on the web client.
//
// What a user would check: each page decodes the other's video
// (framesDecoded > 0); on the relay-only page both transports' selected
// pairs are relay (allocated over TLS) to the server's main port; the
// plain page's pairs go to the main port directly. /metrics shows the
// datagrams TURN handed over, and no TURN refusal of an own address.
//
// Run: node --test tests/e2e/sfu-relay.test.mjs   (TINCAN_BIN picks another binary)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { passPrejoin, useSfuPages, waitDecoding } from './helpers.mjs';
import { scrape } from '../integration/prom.mjs';

const USER = 'test';
const PASSWORD = 'secret';
const STEP = { timeout: 60_000 };

// ---- code that runs in the pages ------------------------------------------

/** In the page: joins the SFU room with both transports built from config. */
async function pageJoin({ room, config }) {
  const log = (s) => window.sfuLog.push(s);
  window.sfuLog = [];
  const ws = new WebSocket(`wss://${location.host}/ws`);
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error('ws failed')); });
  const pub = new RTCPeerConnection(config);
  const sub = new RTCPeerConnection(config);
  Object.assign(window, { ws, pub, sub });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  for (const t of stream.getTracks()) pub.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
  let subChain = Promise.resolve();
  const send = (m) => ws.send(JSON.stringify(m));
  const publish = async () => {
    await pub.setLocalDescription(await pub.createOffer());
    send({ type: 'sfu-publish', sdp: pub.localDescription.sdp });
  };
  const subscribe = async (sdp) => {
    await sub.setRemoteDescription({ type: 'offer', sdp });
    await sub.setLocalDescription(await sub.createAnswer());
    send({ type: 'sfu-subscribe-answer', sdp: sub.localDescription.sdp });
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

/** In the page: both transports' selected pairs and the decoded frames. */
async function pageStats() {
  const pairOf = async (pc) => {
    const report = await pc.getStats();
    const all = [...report.values()];
    const transport = all.find((s) => s.type === 'transport');
    const pair = transport && report.get(transport.selectedCandidatePairId);
    const pick = (c) => c && { type: c.candidateType, address: c.address, port: c.port, relayProtocol: c.relayProtocol };
    return {
      state: pc.connectionState,
      local: pick(pair && report.get(pair.localCandidateId)),
      remote: pick(pair && report.get(pair.remoteCandidateId)),
      all,
    };
  };
  const pub = await pairOf(window.pub);
  const sub = await pairOf(window.sub);
  const video = sub.all.filter((s) => s.type === 'inbound-rtp' && s.kind === 'video');
  delete pub.all;
  delete sub.all;
  return { pub, sub, decoded: video.map((s) => s.framesDecoded ?? 0), log: window.sfuLog };
}

// ---- the test -------------------------------------------------------------

// Both ways the SFU's media may run: on the main loop with TURN
// (--media-threads 1: the SFU hands its answers to the relay directly) and
// on a media thread (2: through the main loop's queue).
for (const threads of [1, 2]) {
  describe(`a relay-only browser in an SFU room, --media-threads ${threads}`, { timeout: 180_000 }, () => {
    const env = useSfuPages(2, {
      args: ['--relay-ip', '127.0.0.1', '--turn-user', `${USER}:${PASSWORD}`, '--media-threads', String(threads)],
    }, STEP);

    test('the relay-only page and the plain page decode each other, through TURN into the SFU', STEP, async () => {
      const relay = {
        iceServers: [{ urls: `turns:localhost:${env.server.port}?transport=tcp`, username: USER, credential: PASSWORD }],
        iceTransportPolicy: 'relay',
      };
      await env.pages[0].evaluate(pageJoin, { room: 'sfu-relay', config: {} });
      await env.pages[1].evaluate(pageJoin, { room: 'sfu-relay', config: relay });
      const deadline = Date.now() + 40_000;
      let stats;
      for (;;) {
        stats = await Promise.all(env.pages.map((p) => p.evaluate(pageStats)));
        if (stats.every((s) => s.decoded.some((n) => n > 0) && s.pub.remote && s.sub.remote)) break;
        if (Date.now() > deadline) assert.fail(`no video both ways within 40 s: ${JSON.stringify(stats)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const [plain, relayed] = stats;
      for (const side of ['pub', 'sub']) {
        assert.equal(relayed[side].local.type, 'relay', `relay-only ${side}: ${JSON.stringify(relayed[side])}`);
        assert.equal(relayed[side].local.relayProtocol, 'tls', `relay-only ${side} allocated over turns:`);
        assert.equal(relayed[side].remote.port, env.server.port, `relay-only ${side} reaches the main port`);
        assert.equal(plain[side].local.type, 'host', `plain ${side}: ${JSON.stringify(plain[side])}`);
        assert.equal(plain[side].remote.port, env.server.port);
      }
      // Media keeps flowing both ways: each page decodes 30 more frames.
      const first = stats.map((s) => Math.max(...s.decoded));
      for (;;) {
        const now = await Promise.all(env.pages.map((p) => p.evaluate(pageStats)));
        if (now.every((s, i) => Math.max(...s.decoded) >= first[i] + 30)) break;
        if (Date.now() > deadline + 20_000) assert.fail(`video stopped: ${JSON.stringify(now)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const { m } = await scrape(env.server.port);
      const handed = m.get('tincan_sfu_from_turn_total');
      assert.ok(handed > 50, `TURN handed the relayed checks, DTLS and media to the SFU in process (${handed})`);
      assert.equal(m.get('tincan_turn_refused_total', { reason: 'own_address' }), 0, 'TURN refused no own address');
      assert.equal(m.get('tincan_sfu_sessions'), 4);
      assert.ok(m.get('tincan_sfu_forwarded_packets_total') > 100);
    });

    // The real web client: /r/<name>?sfu&relay makes every connection of the
    // call relay-only, with the TURN servers of its welcome (turn: and
    // turns: on the main port, credentials of tincan's own), like a network
    // that lets only TCP 443 out. It and a plain page of the web client
    // decode each other; the relay page's SFU connection runs from a relay
    // candidate (the plain page's may too: it has the same ICE servers).
    test('the web client with ?relay joins an SFU room through TURN', STEP, async () => {
      const people = [];
      try {
        for (const query of ['sfu&relay', 'sfu']) {
          const ctx = await env.browser.newContext({ ignoreHTTPSErrors: true });
          const page = await ctx.newPage();
          page.setDefaultTimeout(30_000);
          people.push({ ctx, page });
          await page.goto(`${env.server.url}/r/webrelay?${query}`);
          await passPrejoin(page, { name: `Person ${people.length}` });
        }
        const [relayed, plain] = await Promise.all(people.map((p) => waitDecoding(p.page, 1, { timeout: 40_000 })));
        for (const s of Object.values(relayed)) {
          assert.equal(s.path, 'sfu');
          assert.equal(s.candidateType, 'relay', `the relay-only client's SFU connection: ${JSON.stringify(relayed)}`);
        }
        // The plain page has the same TURN servers and may start on a relay
        // pair too; it only has to get through.
        for (const s of Object.values(plain)) assert.equal(s.path, 'sfu', JSON.stringify(plain));
      } finally {
        for (const p of people) await p.ctx.close().catch(() => {});
      }
    });

    test('the server logged no errors', () => {
      const bad = env.server.logs.filter((l) => /level=(error|fatal)/.test(l));
      assert.deepEqual(bad, []);
    });
  });
}

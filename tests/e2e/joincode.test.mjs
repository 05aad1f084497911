// A client of the join-code backend, in two real Chromium pages, against
// tincan (issue 5): the pages pair with the REST API exactly as the seed's
// example sequence does (create a pending code, accept it, poll check until
// it answers the roomid), then each opens a WebSocket on "/" and speaks the
// join-code dialect (join_room, room_ready, webrtc_offer / webrtc_answer /
// ice_candidate with trickle ICE) and the call is up when both pages decode
// the other's fake camera (framesDecoded > 0 in getStats).
//
// The client is written here, in the style of such an app, and runs inside
// the pages with page.evaluate; the pages sit on /health only to have the
// server's secure origin. The ICE servers are the ones tincan hands out in
// `connected`, so the call works the way a real deployment's would.
//
// Run: node --test tests/e2e/joincode.test.mjs   (TINCAN_BIN picks another binary)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { shot, useServerAndBrowser } from './helpers.mjs';

const STEP = { timeout: 60_000 };

// ---- code that runs in the pages ------------------------------------------

/** In the page: a REST call; resolves with {status, body}. */
async function pageRest({ method, path, body }) {
  const res = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * In the page: connects on "/", joins roomId and runs the call; candidates
 * trickle both ways. Who offers: rule "initiator" follows room_ready's
 * hint; rule "lowerId" ignores it, as a client written for another server
 * would, and the one with the smaller clientId offers. Keeps its state in
 * window.jc for the test to read.
 */
async function pageJoin({ roomId, rule }) {
  const jc = { log: [], errors: [] };
  window.jc = jc;
  const ws = new WebSocket(`wss://${location.host}/`);
  const send = (m) => ws.send(JSON.stringify(m));
  const connected = new Promise((ok, fail) => {
    ws.onerror = () => fail(new Error('websocket error'));
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === 'connected') ok(m);
    };
  });
  const hello = await connected;
  jc.clientId = hello.clientId;
  const pc = new RTCPeerConnection({ iceServers: hello.iceServers });
  jc.pc = pc;
  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.onicecandidate = (ev) => {
    if (ev.candidate) send({ type: 'ice_candidate', candidate: ev.candidate.toJSON() });
  };
  ws.onmessage = async (ev) => {
    const m = JSON.parse(ev.data);
    jc.log.push(m.type);
    try {
      const offerer = rule === 'initiator' ? m.initiator : jc.clientId < m.peerId;
      if (m.type === 'room_ready' && offerer) {
        await pc.setLocalDescription(await pc.createOffer());
        send({ type: 'webrtc_offer', sdp: pc.localDescription.sdp });
      } else if (m.type === 'webrtc_offer') {
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: 'webrtc_answer', sdp: pc.localDescription.sdp });
      } else if (m.type === 'webrtc_answer') {
        await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      } else if (m.type === 'ice_candidate') {
        await pc.addIceCandidate(m.candidate);
      } else if (m.type === 'error') {
        jc.errors.push(`${m.code}: ${m.message}`);
      }
    } catch (e) {
      jc.errors.push(String(e));
    }
  };
  send({ type: 'join_room', roomId });
  const video = document.createElement('video');
  video.autoplay = true;
  video.muted = true;
  video.style.width = '320px';
  pc.ontrack = (ev) => { video.srcObject = ev.streams[0]; };
  document.body.replaceChildren(video);
}

/** In the page: frames of the other's video decoded so far, and the log. */
async function pageState() {
  const jc = window.jc;
  const report = await jc.pc.getStats();
  const video = [...report.values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
  return { framesDecoded: video?.framesDecoded ?? 0, log: jc.log, errors: jc.errors, state: jc.pc.connectionState };
}

// ---- the test -------------------------------------------------------------

describe('a join-code client: REST pairing, the WebSocket dialect, a real call', { timeout: 120_000 }, () => {
  const env = useServerAndBrowser({}, STEP);

  /** Pairs two pages over REST, joins them with `rule`, checks video both ways. */
  async function pairAndCall(rule) {
    const context = await env.browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const [one, two] = [await context.newPage(), await context.newPage()];
      for (const page of [one, two]) {
        page.setDefaultTimeout(30_000);
        await page.goto(`${env.server.url}/health`);
      }
      const joinid = String(100000 + Math.floor(Math.random() * 900000));
      const exp = new Date(Date.now() + 5 * 60_000).toISOString();
      const rest = (page, method, path, body) => page.evaluate(pageRest, { method, path, body });

      // The seed's example sequence, from the pages themselves.
      assert.deepEqual(await rest(one, 'POST', '/api/rooms', { joinid, exp, client1: 'device-one' }),
        { status: 201, body: { ok: true } });
      assert.equal((await rest(one, 'POST', '/api/rooms/check', { joinid, client1: 'device-one' })).status, 204,
        'check before the accept: still pending');
      const accepted = await rest(two, 'POST', '/api/rooms/accept', { joinid, client2: 'device-two' });
      assert.equal(accepted.status, 200);
      const { roomid } = accepted.body;
      assert.match(roomid, /^[0-9a-f-]{36}$/, 'a UUID roomid');
      assert.deepEqual(await rest(one, 'POST', '/api/rooms/check', { joinid, client1: 'device-one' }),
        { status: 200, body: { roomid } });
      assert.deepEqual(await rest(two, 'GET', `/api/rooms?roomid=${roomid}`),
        { status: 200, body: { roomid, client1: 'device-one', client2: 'device-two' } });

      await one.evaluate(pageJoin, { roomId: roomid, rule });
      await two.evaluate(pageJoin, { roomId: roomid, rule });

      const deadline = Date.now() + 30_000;
      let states;
      for (;;) {
        states = await Promise.all([one, two].map((p) => p.evaluate(pageState)));
        if (states.every((s) => s.framesDecoded > 0)) break;
        if (Date.now() > deadline) assert.fail(`no video on both sides: ${JSON.stringify(states)}`);
        await new Promise((ok) => setTimeout(ok, 250));
      }
      for (const [i, s] of states.entries()) {
        assert.deepEqual(s.errors, [], `page ${i + 1}: no errors`);
        assert.ok(s.log.includes('room_joined') && s.log.includes('room_ready'), `page ${i + 1} log: ${s.log}`);
      }
      // The first page joined first, so room_ready names it the initiator.
      const ids = await Promise.all([one, two].map((p) => p.evaluate(() => window.jc.clientId)));
      const offerer = rule === 'initiator' || ids[0] < ids[1] ? 0 : 1;
      const answerer = 1 - offerer;
      assert.ok(states[answerer].log.includes('webrtc_offer'), `page ${answerer + 1} got the offer`);
      assert.ok(states[offerer].log.includes('webrtc_answer'), `page ${offerer + 1} got the answer`);
      await shot(two, `joincode-call-${rule}`);

      // Hanging up: the other side hears peer_disconnected.
      await one.close();
      await two.waitForFunction(() => window.jc.log.includes('peer_disconnected'));

      // The room row stays until the app deletes it; DELETE is idempotent.
      for (let i = 0; i < 2; i++) {
        assert.equal((await rest(two, 'DELETE', '/api/rooms', { roomid })).status, 200);
      }
      assert.equal((await rest(two, 'GET', `/api/rooms?roomid=${roomid}`)).status, 404);
    } finally {
      await context.close();
    }
  }

  test('two pages pair with a join code and decode each other\'s video (offerer from room_ready)', STEP,
    () => pairAndCall('initiator'));

  test('the same with a client that ignores tincan\'s initiator hint (the lower clientId offers)', STEP,
    () => pairAndCall('lowerId'));

  test('the server logged no errors', () => {
    const bad = env.server.logs.filter((l) => /level=(error|fatal)/.test(l));
    assert.deepEqual(bad, []);
  });
});

// Code for relay-only calls between two headless Chromium pages, driven
// from the test process with page.evaluate (the web client's UI is not
// used): an RTCPeerConnection sending the fake camera, a description once
// ICE gathering is complete (no trickle), and getStats() of the call.
// Shared by turn-relay.test.mjs and turn-multihome.test.mjs.
import assert from 'node:assert/strict';

// ---- code that runs in the pages ------------------------------------------

/** In the page: a relay-only RTCPeerConnection sending the fake camera. */
export async function pageSetup(config) {
  const pc = new RTCPeerConnection(config);
  window.pc = pc;
  window.pcErrors = [];
  pc.addEventListener('icecandidateerror', (ev) => {
    window.pcErrors.push(`${ev.url} ${ev.errorCode} ${ev.errorText}`);
  });
  const stream = await navigator.mediaDevices.getUserMedia({ video: true });
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
}

/** In the page: resolves with the local description once ICE gathering is complete. */
export async function pageDescribe({ remote, timeoutMs }) {
  const pc = window.pc;
  if (remote) await pc.setRemoteDescription(remote);
  await pc.setLocalDescription(remote ? await pc.createAnswer() : await pc.createOffer());
  await new Promise((ok) => {
    if (pc.iceGatheringState === 'complete') { ok(); return; }
    const timer = setTimeout(ok, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(timer); ok(); }
    });
  });
  return { type: pc.localDescription.type, sdp: pc.localDescription.sdp };
}

/** In the page: what getStats says about the call so far. */
export async function pageStats() {
  const pc = window.pc;
  const report = await pc.getStats();
  const all = [...report.values()];
  const video = all.find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
  const transport = all.find((s) => s.type === 'transport');
  let pair = transport && report.get(transport.selectedCandidatePairId);
  if (!pair) pair = all.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
  const cand = (id) => {
    const c = id && report.get(id);
    return c && {
      candidateType: c.candidateType, relayProtocol: c.relayProtocol, protocol: c.protocol,
      address: c.address, port: c.port, url: c.url,
    };
  };
  return {
    connectionState: pc.connectionState,
    iceConnectionState: pc.iceConnectionState,
    framesDecoded: video?.framesDecoded ?? 0,
    local: cand(pair?.localCandidateId),
    remote: cand(pair?.remoteCandidateId),
    errors: window.pcErrors,
  };
}

// ---- the test -------------------------------------------------------------

/** Relay candidates ("typ relay") in an SDP. */
export const relayCandidates = (sdp) => sdp.split(/\r?\n/).filter((l) => /^a=candidate:.* typ relay/.test(l));

/** Polls both pages until each decodes video and has a selected pair, or fails. */
export async function waitForCall(pages, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await Promise.all(pages.map((p) => p.evaluate(pageStats)));
    // Both decode, and both sides name the same pair (right after
    // nomination one side's stats may still show the pair it tried before).
    const agreed = stats.every((s) => s.framesDecoded > 0 && s.local && s.remote)
      && stats[0].remote.port === stats[1].local.port && stats[1].remote.port === stats[0].local.port;
    if (agreed) return stats;
    if (Date.now() > deadline) {
      assert.fail(`no relayed video over one agreed pair on both sides within ${timeoutMs} ms: ${JSON.stringify(stats)}`);
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
}


/**
 * Makes the relay-only call between two pages already at a secure origin:
 * each sets up with config, the first offers, the second answers, each
 * description must carry a relay candidate. Returns both pages' stats once
 * both decode video over one agreed pair (see waitForCall).
 */
export async function relayOfferAnswer(pages, config) {
  for (const page of pages) await page.evaluate(pageSetup, config);
  const [a, b] = pages;
  const url = config.iceServers.map((s) => s.urls).join(' ');
  const offer = await a.evaluate(pageDescribe, { timeoutMs: 10_000 });
  assert.ok(relayCandidates(offer.sdp).length > 0,
    `the offer has a relay candidate from ${url}; page errors: ${JSON.stringify(await a.evaluate(() => window.pcErrors))}`);
  const answer = await b.evaluate(pageDescribe, { remote: offer, timeoutMs: 10_000 });
  assert.ok(relayCandidates(answer.sdp).length > 0,
    `the answer has a relay candidate from ${url}; page errors: ${JSON.stringify(await b.evaluate(() => window.pcErrors))}`);
  await a.evaluate((desc) => window.pc.setRemoteDescription(desc), answer);
  return waitForCall(pages);
}

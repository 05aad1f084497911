// Code that runs in the pages of the SFU interop tests (Chromium through
// playwright-core, Firefox ESR through puppeteer-core): join an SFU room
// over the signaling WebSocket, publish the fake camera and microphone on
// a publisher RTCPeerConnection, answer tincan's sfu-offers on a
// subscriber RTCPeerConnection (docs/protocol.md, "SFU rooms"), and read
// getStats(). Both drivers' page.evaluate(fn, arg) take these functions.
// The video is capped at 320×240 at 15 frames/s to keep the CPU of a
// shared test machine low.
import assert from 'node:assert/strict';

/**
 * In the page: joins the SFU room, publishes camera + mic, answers
 * sfu-offers. bundlePolicy: the RTCPeerConnections' (with max-bundle
 * Firefox offers every m-section but the first with port 0 and
 * a=bundle-only).
 */
export async function pageJoin({ room, bundlePolicy = 'balanced' }) {
  const log = (s) => window.sfuLog.push(s);
  window.sfuLog = [];
  window.sfuSdp = { offers: [], answers: [] };
  const ws = new WebSocket(`wss://${location.host}/ws`);
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error('ws failed')); });
  const pub = new RTCPeerConnection({ bundlePolicy });
  const sub = new RTCPeerConnection({ bundlePolicy });
  Object.assign(window, { ws, pub, sub });
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: 320, height: 240, frameRate: 15 },
  });
  for (const t of stream.getTracks()) pub.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
  let subChain = Promise.resolve();
  const send = (m) => ws.send(JSON.stringify(m));
  const publish = async () => {
    const offer = await pub.createOffer();
    await pub.setLocalDescription(offer);
    window.sfuSdp.offers.push(offer.sdp);
    send({ type: 'sfu-publish', sdp: offer.sdp });
  };
  const subscribe = async (sdp) => {
    await sub.setRemoteDescription({ type: 'offer', sdp });
    const answer = await sub.createAnswer();
    await sub.setLocalDescription(answer);
    window.sfuSdp.answers.push(answer.sdp);
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
export async function pageStats() {
  const pairOf = async (pc) => {
    const report = await pc.getStats();
    const all = [...report.values()];
    // Chromium names the pair in its transport stats; Firefox marks it selected.
    const transport = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = (transport && report.get(transport.selectedCandidatePairId))
      || all.find((s) => s.type === 'candidate-pair' && s.selected)
      || all.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    const remote = pair && report.get(pair.remoteCandidateId);
    return { state: pc.connectionState, remote: remote && { address: remote.address, port: remote.port }, all };
  };
  const pub = await pairOf(window.pub);
  const sub = await pairOf(window.sub);
  const video = sub.all.filter((s) => s.type === 'inbound-rtp' && s.kind === 'video');
  const audio = sub.all.filter((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
  const outbound = pub.all.filter((s) => s.type === 'outbound-rtp');
  return {
    pub: { state: pub.state, remote: pub.remote, sent: outbound.map((s) => s.packetsSent) },
    sub: { state: sub.state, remote: sub.remote },
    decoded: video.map((s) => s.framesDecoded ?? 0),
    audioPackets: audio.map((s) => s.packetsReceived ?? 0),
    log: window.sfuLog,
  };
}

/** In the page: the descriptions it sent and got (for failure messages and vectors). */
export const pageSdp = () => window.sfuSdp;

/**
 * Polls pages ({name, page}) until each decodes `count` videos with more
 * than minFrames each (or more than in `after`, an earlier result) and both
 * of its transports run over port; fails after timeoutMs with every page's
 * stats. Returns the stats, in the order of pages.
 */
export async function waitForMedia(pages, { count, port, after = null, minFrames = 0, timeoutMs = 45_000 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await Promise.all(pages.map((p) => p.page.evaluate(pageStats)));
    const ok = stats.every((s, i) => {
      const floor = (j) => Math.max(minFrames, after?.[i]?.decoded?.[j] ?? 0);
      return s.decoded.length === count && s.decoded.every((n, j) => n > floor(j))
        && s.pub.remote?.port === port && s.sub.remote?.port === port;
    });
    if (ok) return stats;
    if (Date.now() > deadline) {
      const named = Object.fromEntries(stats.map((s, i) => [pages[i].name, s]));
      assert.fail(`not every page decodes ${count} videos over port ${port} within ${timeoutMs} ms: ${JSON.stringify(named)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

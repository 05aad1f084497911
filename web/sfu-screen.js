// Screen share in SFU rooms (docs/rooms.md): the pieces web/sfu-call.js
// hooks in.
//
// The sharer publishes the share's video, and its sound when the share has
// one (tab or system audio), as more sendonly tracks on its publisher
// connection (a new sfu-publish offer on the same transport; tincan
// forwards them like a camera and microphone). tincan forwards each track
// with a=msid:<publisher's peer id> <publisher's track id>: the stream id
// is the publisher's, so a share cannot be told apart by its stream as in a
// mesh call. In an SFU room the sharer's `state` therefore names the
// share's video *track* id as `screen` and its sound's as `screenAudio`,
// and a subscriber reads the msid track id of each forwarded m-section (by
// its mid) to sort tracks into camera and screen.
//
// The share's video asks for AV1, then VP9, then VP8 (setCodecPreferences,
// as in mesh calls); tincan takes the first of those the offer lists for a
// track without simulcast and offers that codec to every subscriber. An
// encrypted room keeps VP8 (e2ee.js: AV1's packetizer reads the payload).

/** The msid track id of the m-section `mid` in pc's remote description, or null. */
export function msidTrackOf(pc, mid) {
  const sdp = pc.remoteDescription ? pc.remoteDescription.sdp : '';
  if (!sdp || mid === null || mid === undefined) return null;
  for (const section of sdp.split(/\r\nm=/).slice(1)) {
    if (!new RegExp(`\\r\\na=mid:${mid.replace(/[^\w-]/g, '')}\\r\\n`).test(`\r\n${section}\r\n`)) continue;
    const m = /\r\na=msid:\S+ (\S+)/.exec(`\r\n${section}`);
    return m ? m[1] : null;
  }
  return null;
}

/** The id that `state` names as our share in an SFU room: its video track's. */
export function screenTrackId(stream) {
  const video = stream ? stream.getVideoTracks()[0] : null;
  return video ? video.id : null;
}

/** The id that `state` names as our share's sound (`screenAudio`), or null. */
export function screenAudioId(stream) {
  const audio = stream ? stream.getAudioTracks()[0] : null;
  return audio ? audio.id : null;
}

/**
 * Adds the share's video and sound to the publisher connection (sendonly,
 * the video with the codec order and sender limits of its quality, both
 * with the room's encryption). Returns the transceivers, for dropScreen().
 */
export function addScreen(pc, stream, prefs, transform) {
  const out = [];
  for (const track of stream ? stream.getAudioTracks() : []) {
    const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    if (transform) transform.attach(t.sender, 'audio');
    out.push(t);
  }
  for (const track of stream ? stream.getVideoTracks() : []) {
    const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    if (transform) transform.attach(t.sender, 'video');
    if (!transform && prefs && prefs.codecs && t.setCodecPreferences) {
      try { t.setCodecPreferences(prefs.codecs); } catch { /* the browser keeps its own order */ }
    }
    if (prefs && prefs.maxBitrate) {
      const p = t.sender.getParameters();
      p.encodings = p.encodings && p.encodings.length ? p.encodings : [{}];
      p.encodings[0].maxBitrate = prefs.maxBitrate;
      if (prefs.maxFramerate) p.encodings[0].maxFramerate = prefs.maxFramerate;
      t.sender.setParameters(p).catch(() => {});
    }
    out.push(t);
  }
  return out;
}

/** Stops the share's transceivers (their m-sections are rejected in the next offer). */
export function dropScreen(transceivers) {
  for (const t of transceivers) {
    try { t.stop(); } catch { /* the connection is closed */ }
  }
}

/**
 * A member's received tracks sorted: {camera, screen} where screen has the
 * tracks whose msid track id is screenId or screenAudioId (none without a
 * screenId), and camera the newest live track of each kind of the others.
 * received: [{track, tid}].
 */
export function sortTracks(received, screenId, screenAudioId = null) {
  const live = received.filter((r) => r.track.readyState === 'live');
  const ids = [screenId, screenAudioId].filter(Boolean);
  const scr = screenId ? live.filter((r) => ids.includes(r.tid)).map((r) => r.track) : [];
  const cam = new Map();
  for (const r of live) if (!scr.includes(r.track)) cam.set(r.track.kind, r.track);
  return { camera: [...cam.values()], screen: scr };
}

/** Whether a MediaStream (or null) holds exactly these tracks. */
export function sameTracks(stream, tracks) {
  const have = stream ? stream.getTracks() : [];
  return have.length === tracks.length && tracks.every((t) => have.includes(t));
}

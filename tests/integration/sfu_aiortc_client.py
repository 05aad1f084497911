#!/usr/bin/python3
"""A WebRTC client nobody here wrote, in an SFU room of tincan.

aiortc (Debian's python3-aiortc) joins an SFU room over tincan's signaling
WebSocket (docs/protocol.md, "SFU rooms") and, like the browsers, keeps two
peer connections: a publisher that offers a synthetic video track (a solid
colour, 320x240 at 15 frames/s, encoded by aiortc) and a synthetic audio
track (silence, Opus), and a subscriber that answers tincan's sfu-offers
and decodes what tincan forwards from the other members.

It prints one JSON object per line on stdout for the test that drives it
(tests/integration/sfu-aiortc.test.mjs):
  {"event": "joined", "peerId": ...}
  {"event": "answer"}                      tincan answered the publisher
  {"event": "offer", "sdp": ...}           an sfu-offer arrived (and was answered)
  {"event": "track", "kind": ...}          the subscriber got a track
  {"event": "frames", "video": n, "audio": n, "rgb": [r, g, b], "size": [w, h],
   "pub": state, "sub": state}             every 0.5 s
  {"event": "error", "code": ..., "message": ...}   an error from tincan
  {"event": "estimate", "bps": n}          tincan's sfu-estimate
  {"event": "speaker", "peer": id}         tincan's active-speaker
It stops when stdin closes or on SIGTERM.

Usage: sfu_aiortc_client.py --url wss://127.0.0.1:PORT/ws --room NAME
       --color R,G,B [--answer-setup passive] [--dump FILE] [--noise]
--answer-setup rewrites a=setup in the subscriber's answers (to show that
tincan refuses an answerer that wants to be the DTLS server). --dump
writes the descriptions both sides sent to FILE as JSON (test vectors).
--noise sends random pixels over the colour instead (a solid colour
encodes to almost nothing; noise keeps aiortc's VP8 near its 500 kbit/s
target), for tests that need a video bigger than a bottleneck.
"""
import argparse
import asyncio
import fractions
import json
import re
import signal
import ssl
import sys
import time

import av
import numpy
import websockets
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

FPS = 15
WIDTH, HEIGHT = 320, 240


def emit(**obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class ColourTrack(MediaStreamTrack):
    """Solid-colour frames at FPS, timestamps on the 90 kHz clock."""

    kind = "video"

    def __init__(self, rgb, noise=False):
        super().__init__()
        self.image = numpy.zeros((HEIGHT, WIDTH, 3), numpy.uint8)
        self.image[:, :] = rgb
        self.noise = noise
        self.count = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.count / FPS
        await asyncio.sleep(max(0, due - time.monotonic()))
        image = self.image
        if self.noise:
            image = numpy.random.randint(0, 256, (HEIGHT, WIDTH, 3), numpy.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self.count * (90000 // FPS)
        frame.time_base = fractions.Fraction(1, 90000)
        self.count += 1
        return frame


class Client:
    def __init__(self, args):
        self.args = args
        self.pub = RTCPeerConnection()
        self.sub = RTCPeerConnection()
        self.video = 0
        self.audio = 0
        self.rgb = None
        self.size = None
        self.ws = None
        self.sdp = {"publish": None, "answer": None, "offers": [], "answers": []}
        self.sub.on("track", self.on_track)

    def on_track(self, track):
        emit(event="track", kind=track.kind)
        asyncio.ensure_future(self.consume(track))

    async def consume(self, track):
        while True:
            try:
                frame = await track.recv()
            except Exception:  # the track ended
                return
            if track.kind == "video":
                self.video += 1
                img = frame.to_ndarray(format="rgb24")
                self.rgb = [int(v) for v in img.reshape(-1, 3).mean(axis=0)]
                self.size = [frame.width, frame.height]
            else:
                self.audio += 1

    async def send(self, msg):
        await self.ws.send(json.dumps(msg))

    async def publish(self):
        rgb = [int(v) for v in self.args.color.split(",")]
        self.pub.addTransceiver(ColourTrack(rgb, self.args.noise), direction="sendonly")
        self.pub.addTransceiver(AudioStreamTrack(), direction="sendonly")
        await self.pub.setLocalDescription(await self.pub.createOffer())
        self.sdp["publish"] = self.pub.localDescription.sdp
        await self.send({"type": "sfu-publish", "sdp": self.pub.localDescription.sdp})

    async def subscribe(self, sdp):
        await self.sub.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.sub.setLocalDescription(await self.sub.createAnswer())
        answer = self.sub.localDescription.sdp
        if self.args.answer_setup:
            answer = re.sub(r"a=setup:\w+", "a=setup:" + self.args.answer_setup, answer)
        self.sdp["offers"].append(sdp)
        self.sdp["answers"].append(answer)
        await self.send({"type": "sfu-subscribe-answer", "sdp": answer})
        emit(event="offer", sdp=sdp)

    async def on_message(self, m):
        t = m.get("type")
        if t == "joined":
            emit(event="joined", peerId=m["peerId"])
            await self.publish()
        elif t == "sfu-answer":
            self.sdp["answer"] = m["sdp"]
            await self.pub.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="answer"))
            emit(event="answer")
        elif t == "sfu-offer":
            await self.subscribe(m["sdp"])
        elif t == "error":
            emit(event="error", code=m.get("code"), message=m.get("message"))
        elif t == "sfu-estimate":
            emit(event="estimate", bps=m.get("bps"))
        elif t == "active-speaker":
            emit(event="speaker", peer=m.get("peer"))

    async def report(self):
        while True:
            await asyncio.sleep(0.5)
            emit(event="frames", video=self.video, audio=self.audio, rgb=self.rgb, size=self.size,
                 pub=self.pub.connectionState, sub=self.sub.connectionState)
            if self.args.dump:
                with open(self.args.dump, "w") as f:
                    json.dump(self.sdp, f)

    async def run(self, stop):
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE  # the test server's certificate is self-signed
        async with websockets.connect(self.args.url, ssl=tls) as ws:
            self.ws = ws
            await self.send({"type": "join", "room": self.args.room, "sfu": True})
            reporter = asyncio.ensure_future(self.report())
            reader = asyncio.ensure_future(self.read())
            await asyncio.wait([reader, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
            reporter.cancel()
            reader.cancel()
        await self.pub.close()
        await self.sub.close()

    async def read(self):
        async for text in self.ws:
            await self.on_message(json.loads(text))


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--room", required=True)
    p.add_argument("--color", default="200,40,40")
    p.add_argument("--answer-setup")
    p.add_argument("--dump")
    p.add_argument("--noise", action="store_true")
    args = p.parse_args()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.connect_read_pipe(lambda: StdinWatch(stop), sys.stdin)
    await Client(args).run(stop)


class StdinWatch(asyncio.Protocol):
    """Sets stop when stdin closes (the test process went away)."""

    def __init__(self, stop):
        self.stop = stop

    def connection_lost(self, exc):
        self.stop.set()


if __name__ == "__main__":
    asyncio.run(main())

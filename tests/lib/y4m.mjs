// A small Y4M video for Chromium's --use-file-for-fake-video-capture: a
// low-resolution camera, so that a test with many pages (each decoding all
// the others) stays light. The picture moves (a bright bar sweeps across a
// grey ramp) so the encoder keeps sending real frames.
import { writeFileSync } from 'node:fs';

/** Writes a width×height 4:2:0 Y4M file of `frames` frames at fps to path. */
export function writeY4m(path, { width = 160, height = 120, frames = 30, fps = 15 } = {}) {
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const ySize = width * height;
  const cSize = (width / 2) * (height / 2);
  const parts = [header];
  for (let f = 0; f < frames; f++) {
    const y = Buffer.alloc(ySize);
    const bar = Math.floor((f / frames) * width);
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        y[row * width + col] = Math.abs(col - bar) < 8 ? 235 : 40 + ((row + col + f * 3) % 120);
      }
    }
    parts.push(Buffer.from('FRAME\n'), y, Buffer.alloc(cSize, 90 + f), Buffer.alloc(cSize, 160 - f));
  }
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

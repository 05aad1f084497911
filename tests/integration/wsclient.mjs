// A thin promise wrapper around the npm `ws` client for tests that behave
// like a well-mannered browser: queued JSON messages, the close code, and
// open/handshake failures as rejections.
import WebSocket from 'ws';

/**
 * Connects to wss://127.0.0.1:port/ws (opts.host: another address; an IPv6
 * one without brackets). Resolves once open with
 * { ws, next(ms), closed (promise of {code, reason}), send(obj|string) }.
 */
export function wsClient(port, opts = {}) {
  return new Promise((ok, fail) => {
    const host = opts.host ? (opts.host.includes(':') ? `[${opts.host}]` : opts.host) : '127.0.0.1';
    const ws = new WebSocket(`wss://${host}:${port}${opts.path || '/ws'}`, {
      rejectUnauthorized: false,
      servername: 'localhost',
      handshakeTimeout: opts.handshakeTimeout || 10000,
      ...(opts.ws || {}),
    });
    const queue = [];
    let bytes = 0; // payload bytes received
    ws.on('message', (data) => { bytes += data.length; });
    const waiters = [];
    let closeInfo = null;
    const closed = new Promise((res) => ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      res(closeInfo);
      for (const w of waiters.splice(0)) w.fail(new Error(`socket closed (${code} ${closeInfo.reason}) while waiting for a message`));
    }));
    ws.on('message', (data, isBinary) => {
      const msg = { data: isBinary ? data : data.toString(), isBinary };
      const w = waiters.shift();
      if (w) w.ok(msg);
      else queue.push(msg);
    });
    ws.on('error', (e) => { if (ws.readyState !== WebSocket.OPEN) fail(e); });
    ws.once('open', () => ok({
      ws,
      closed,
      send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
      /** Next message as JSON (text) within ms. */
      next(ms = 5000) {
        if (queue.length) return Promise.resolve(JSON.parse(queue.shift().data));
        if (closeInfo) return Promise.reject(new Error(`socket already closed (${closeInfo.code})`));
        return new Promise((res, rej) => {
          const w = {
            ok: (m) => { clearTimeout(w.t); res(JSON.parse(m.data)); },
            fail: (e) => { clearTimeout(w.t); rej(e); },
          };
          w.t = setTimeout(() => {
            waiters.splice(waiters.indexOf(w), 1);
            rej(new Error(`no message within ${ms} ms`));
          }, ms);
          waiters.push(w);
        });
      },
      close: () => { try { ws.terminate(); } catch { /* already gone */ } },
      /** Payload bytes received so far. */
      bytes: () => bytes,
    }));
  });
}

// HTTPS static files, caching, compression, error statuses, security
// headers, /health, and the plain-HTTP redirect on the same port.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  start, tlsConnect, tcpConnect, Reader, readResponse, request, rawExchange, buildRequest,
  securityHeaderProblems, ROOT_DIR,
} from './net.mjs';

const T = { timeout: 15000 };

describe('HTTPS static files and errors', () => {
  let srv;
  before(async () => { srv = await start(); });
  after(async () => { await srv?.stop(); });

  test('GET / answers 200 text/html with the web client page', T, async () => {
    const res = await request(srv.port, 'GET', '/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] || '', /^text\/html\b/i);
    assert.equal(Number(res.headers['content-length']), res.body.length, 'Content-Length matches body');
    const html = res.body.toString();
    assert.match(html, /<!doctype html>/i);
    assert.match(html, /<\/html>/i);
    assert.match(res.headers['cache-control'] || '', /no-cache/i, 'index.html must be revalidated (Cache-Control: no-cache)');
    // The page opens a WebSocket to this server: CSP must allow wss: to it.
    const csp = res.headers['content-security-policy'] || '';
    assert.match(csp, /connect-src [^;]*'self'/, `CSP ${csp}`);
    assert.match(csp, new RegExp(`connect-src [^;]*wss:(\\s|;|$|//127\\.0\\.0\\.1:${srv.port}(\\s|;|$))`), `CSP connect-src allows wss to this host: ${csp}`);
    const onDisk = join(ROOT_DIR, 'web', 'index.html');
    if (existsSync(onDisk)) {
      assert.equal(html, readFileSync(onDisk, 'utf8'), 'served page equals web/index.html (rebuild if web/ changed)');
    }
  });

  test('HEAD / has the same headers as GET and no body', T, async () => {
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    try {
      sock.write(buildRequest(srv.port, 'GET', '/'));
      const get = await readResponse(reader);
      sock.write(buildRequest(srv.port, 'HEAD', '/'));
      const head = await readResponse(reader, { head: true });
      assert.equal(head.status, 200);
      for (const h of ['content-type', 'content-length', 'etag', 'cache-control']) {
        assert.equal(head.headers[h], get.headers[h], `HEAD ${h} equals GET ${h}`);
      }
      // If HEAD had sent a body, it would now be parsed as the next response.
      sock.write(buildRequest(srv.port, 'GET', '/health'));
      const next = await readResponse(reader);
      assert.equal(next.status, 200, 'the request after HEAD is answered cleanly (HEAD sent no body bytes)');
      assert.match(next.headers['content-type'] || '', /application\/json/);
    } finally {
      sock.destroy();
    }
  });

  test('keep-alive: two requests on one TLS connection', T, async () => {
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    try {
      sock.write(buildRequest(srv.port, 'GET', '/'));
      const a = await readResponse(reader);
      assert.equal(a.status, 200);
      assert.doesNotMatch(a.headers.connection || '', /close/i, 'no Connection: close on a keep-alive request');
      sock.write(buildRequest(srv.port, 'GET', '/app.js'));
      const b = await readResponse(reader);
      assert.equal(b.status, 200);
      assert.match(b.headers['content-type'] || '', /javascript/i);
      assert.equal(reader.closed, false, 'connection still open after two requests');
    } finally {
      sock.destroy();
    }
  });

  test('pipelined requests in one write are answered in order', T, async () => {
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    try {
      sock.write(buildRequest(srv.port, 'GET', '/health') + buildRequest(srv.port, 'GET', '/')
        + buildRequest(srv.port, 'GET', '/no-such-file'));
      const a = await readResponse(reader);
      const b = await readResponse(reader);
      const c = await readResponse(reader);
      assert.deepEqual([a.status, b.status, c.status], [200, 200, 404]);
      assert.match(a.headers['content-type'], /json/);
      assert.match(b.headers['content-type'], /html/);
    } finally {
      sock.destroy();
    }
  });

  test('Connection: close is honoured', T, async () => {
    const { res, reader, sock } = await rawExchange(srv.port, buildRequest(srv.port, 'GET', '/health', { Connection: 'close' }));
    try {
      assert.equal(res.status, 200);
      assert.ok(await reader.closesWithin(3000), 'server closes the connection after answering');
    } finally {
      sock.destroy();
    }
  });

  test('ETag on / and /app.js; If-None-Match gives 304 without body', T, async () => {
    for (const path of ['/', '/app.js']) {
      const first = await request(srv.port, 'GET', path);
      assert.equal(first.status, 200, `${path} status`);
      const etag = first.headers.etag;
      assert.ok(etag, `${path} has an ETag`);
      assert.match(etag, /^(W\/)?"[^"]+"$/, `${path} ETag is a quoted string`);
      const again = await request(srv.port, 'GET', path);
      assert.equal(again.headers.etag, etag, `${path} ETag is stable`);

      const sock = await tlsConnect(srv.port);
      const reader = new Reader(sock);
      try {
        sock.write(buildRequest(srv.port, 'GET', path, { 'If-None-Match': etag }));
        const nm = await readResponse(reader);
        assert.equal(nm.status, 304, `${path} If-None-Match → 304`);
        assert.equal(nm.headers.etag, etag, '304 repeats the ETag');
        // A body after the 304 would corrupt the next response on this connection.
        sock.write(buildRequest(srv.port, 'GET', '/health'));
        const next = await readResponse(reader);
        assert.equal(next.status, 200, 'the 304 carried no body bytes');
        assert.match(next.headers['content-type'] || '', /json/);
      } finally {
        sock.destroy();
      }
      const other = await request(srv.port, 'GET', path, { 'If-None-Match': '"definitely-not-it"' });
      assert.equal(other.status, 200, `${path} with a stale ETag → 200`);
    }
  });

  test('Accept-Encoding: gzip gives a gzip body equal to the plain one', T, async () => {
    for (const path of ['/', '/app.js']) {
      const plain = await request(srv.port, 'GET', path);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers['content-encoding'], undefined, `${path} without Accept-Encoding is not compressed`);
      const gz = await request(srv.port, 'GET', path, { 'Accept-Encoding': 'gzip, deflate, br' });
      assert.equal(gz.status, 200);
      assert.equal(gz.headers['content-encoding'], 'gzip', `${path} Content-Encoding`);
      assert.match(gz.headers.vary || '', /accept-encoding/i, `${path} Vary: Accept-Encoding`);
      assert.equal(Number(gz.headers['content-length']), gz.body.length);
      assert.ok(gunzipSync(gz.body).equals(plain.body), `${path} gunzipped body equals plain body`);
    }
  });

  test('gzip and plain variants: both carry Vary, ETags differ, each revalidates', T, async () => {
    for (const path of ['/', '/app.js']) {
      const plain = await request(srv.port, 'GET', path);
      const gz = await request(srv.port, 'GET', path, { 'Accept-Encoding': 'gzip' });
      assert.match(plain.headers.vary || '', /accept-encoding/i, `${path} Vary: Accept-Encoding on the plain variant too`);
      assert.ok(gz.headers.etag, `${path} gzip variant has an ETag`);
      assert.notEqual(gz.headers.etag, plain.headers.etag,
        `${path}: a strong ETag must differ between the gzip and the plain body (RFC 9110 8.8.3)`);
      const r = await request(srv.port, 'GET', path, { 'Accept-Encoding': 'gzip', 'If-None-Match': gz.headers.etag });
      assert.equal(r.status, 304, `${path} gzip ETag revalidates`);
    }
  });

  test('security headers on 200, 304, 404, 405 and 400 responses', T, async () => {
    const ok = await request(srv.port, 'GET', '/');
    const cases = {
      200: ok,
      304: await request(srv.port, 'GET', '/', { 'If-None-Match': ok.headers.etag }),
      404: await request(srv.port, 'GET', '/nope.html'),
      405: await request(srv.port, 'POST', '/', { 'Content-Length': '0' }),
      400: (await rawExchange(srv.port, 'THIS IS NOT HTTP\r\n\r\n')).res,
      health: await request(srv.port, 'GET', '/health'),
    };
    const problems = [];
    for (const [what, res] of Object.entries(cases)) {
      for (const p of securityHeaderProblems(res.headers)) problems.push(`${what} (status ${res.status}): ${p}`);
    }
    assert.deepEqual(problems, []);
    assert.equal(cases[304].status, 304);
    assert.equal(cases[404].status, 404);
  });

  test('every file in web/ is served byte for byte with a type the browser accepts', T, async () => {
    const webDir = join(ROOT_DIR, 'web');
    if (!existsSync(webDir)) return;
    const types = {
      '.html': /^text\/html/, '.js': /^(text|application)\/javascript/, '.mjs': /^(text|application)\/javascript/,
      '.css': /^text\/css/, '.json': /^application\/(manifest\+)?json/, '.webmanifest': /^application\/manifest\+json/,
      '.svg': /^image\/svg\+xml/, '.png': /^image\/png/, '.ico': /^image\/(x-icon|vnd\.microsoft\.icon)/,
      '.woff2': /^font\/woff2/, '.txt': /^text\/plain/,
    };
    const walk = (d, pre) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory()
      ? walk(join(d, e.name), `${pre}${e.name}/`) : [`${pre}${e.name}`]));
    const problems = [];
    for (const rel of walk(webDir, '')) {
      const res = await request(srv.port, 'GET', `/${rel}`);
      const ext = extname(rel);
      if (res.status !== 200) { problems.push(`/${rel}: status ${res.status}`); continue; }
      if (types[ext] && !types[ext].test(res.headers['content-type'] || '')) problems.push(`/${rel}: Content-Type ${res.headers['content-type']}`);
      if (!res.body.equals(readFileSync(join(webDir, rel)))) problems.push(`/${rel}: body differs from web/${rel} (stale build?)`);
    }
    assert.deepEqual(problems, []);
  });

  test('/, /index.html and /sw.js carry Cache-Control: no-cache', T, async () => {
    for (const p of ['/', '/index.html', '/sw.js']) {
      const res = await request(srv.port, 'GET', p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers['cache-control'] || '', /no-cache/, `${p} Cache-Control ${res.headers['cache-control']}`);
    }
  });

  test('HTTP/1.0 without keep-alive is answered and closed', T, async () => {
    const { res, reader, sock } = await rawExchange(srv.port, 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
    try {
      assert.equal(res.status, 200);
      assert.ok(await reader.closesWithin(3000), 'HTTP/1.0 connection closed after the response');
    } finally {
      sock.destroy();
    }
  });

  test('a request body is consumed: the next request on the connection is parsed cleanly', T, async () => {
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    try {
      // If the server did not skip the 11-byte body, "GET /x HTTP" would start the next request.
      sock.write(buildRequest(srv.port, 'POST', '/', { 'Content-Length': '11' }, 'GET /x HTTP'));
      const a = await readResponse(reader);
      assert.equal(a.status, 405);
      if (/close/i.test(a.headers.connection || '')) {
        // Closing after an error is allowed, if the server says so and does it.
        assert.ok(await reader.closesWithin(2000), 'Connection: close but the connection stayed open');
        return;
      }
      sock.write(buildRequest(srv.port, 'GET', '/health'));
      const b = await readResponse(reader);
      assert.equal(b.status, 200, 'request after a POST with a body');
    } finally {
      sock.destroy();
    }
  });

  test('request smuggling shapes are refused and the connection closed', T, async () => {
    const shapes = {
      'Content-Length twice, different values': 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n',
      'Transfer-Encoding and Content-Length': 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n',
      'Transfer-Encoding chunked': 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n',
      'Content-Length not a number': 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n',
      'negative Content-Length': 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'space before the colon': 'GET /health HTTP/1.1\r\nHost : x\r\n\r\n',
      'obsolete line folding': 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n',
    };
    const problems = [];
    for (const [name, raw] of Object.entries(shapes)) {
      const { res, reader, sock } = await rawExchange(srv.port, raw);
      const closed = await reader.closesWithin(2000);
      sock.destroy();
      if (res.status < 400 || res.status >= 500) problems.push(`${name}: status ${res.status}`);
      else if (!closed) problems.push(`${name}: ${res.status} but the connection stayed open`);
    }
    assert.deepEqual(problems, []);
  });

  test('HEAD of an unknown path is 404 without a body', T, async () => {
    const sock = await tlsConnect(srv.port);
    const reader = new Reader(sock);
    try {
      sock.write(buildRequest(srv.port, 'HEAD', '/nope'));
      const res = await readResponse(reader, { head: true });
      assert.equal(res.status, 404);
      // Whether or not the server keeps the connection, nothing may follow the head.
      await reader.closesWithin(500);
      assert.equal(reader.buf.length, 0, `HEAD 404 sent body bytes: ${JSON.stringify(reader.buf.toString('latin1'))}`);
    } finally {
      sock.destroy();
    }
  });

  test('404 for an unknown path, with a short text body', T, async () => {
    const res = await request(srv.port, 'GET', '/does/not/exist.js');
    assert.equal(res.status, 404);
    assert.ok(res.body.length > 0 && res.body.length < 1024, 'short body');
    assert.match(res.headers['content-type'] || '', /^text\/plain/i);
  });

  test('405 for POST / with an Allow header', T, async () => {
    const res = await request(srv.port, 'POST', '/', { 'Content-Type': 'text/plain', 'Content-Length': '5' }, { body: 'hello' });
    assert.equal(res.status, 405);
    const allow = (res.headers.allow || '').toUpperCase().split(/\s*,\s*/);
    assert.ok(allow.includes('GET') && allow.includes('HEAD'), `Allow lists GET and HEAD (got ${res.headers.allow})`);
    assert.ok(!allow.includes('POST'), 'Allow does not list POST');
  });

  test('414 for a 5000-byte URI', T, async () => {
    const res = await request(srv.port, 'GET', '/' + 'a'.repeat(4999));
    assert.equal(res.status, 414);
  });

  test('431 for more than 8 KiB of headers', T, async () => {
    const headers = {};
    for (let i = 0; i < 9; i++) headers[`X-Filler-${i}`] = 'x'.repeat(1000);
    const res = await request(srv.port, 'GET', '/', headers);
    assert.equal(res.status, 431);
  });

  test('431 for one 9000-byte header', T, async () => {
    const res = await request(srv.port, 'GET', '/', { Cookie: 'c=' + 'y'.repeat(9000) });
    assert.equal(res.status, 431);
  });

  test('headers just under 8 KiB are still accepted', T, async () => {
    const res = await request(srv.port, 'GET', '/health', { 'X-Filler': 'z'.repeat(6000) });
    assert.equal(res.status, 200);
  });

  test('400 for a garbage request line', T, async () => {
    const { res, reader, sock } = await rawExchange(srv.port, 'THIS IS NOT HTTP\r\n\r\n');
    try {
      assert.equal(res.status, 400);
      assert.ok(await reader.closesWithin(3000), 'connection closed after a 400');
    } finally {
      sock.destroy();
    }
  });

  test('400 for an HTTP/1.1 request without Host (RFC 9112 3.2)', T, async () => {
    const { res, sock } = await rawExchange(srv.port, 'GET /health HTTP/1.1\r\n\r\n');
    sock.destroy();
    assert.equal(res.status, 400);
  });

  test('400 for two Host headers or a Host with illegal characters', T, async () => {
    const a = await rawExchange(srv.port, 'GET /health HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n');
    a.sock.destroy();
    assert.equal(a.res.status, 400, 'two Host headers');
    const b = await rawExchange(srv.port, "GET /health HTTP/1.1\r\nHost: a; script-src *\r\n\r\n");
    b.sock.destroy();
    assert.equal(b.res.status, 400, 'Host with spaces and ;');
  });

  test('400 for a request line with a bad version and for a header without colon', T, async () => {
    const a = await rawExchange(srv.port, 'GET / HTTP/9.9\r\nHost: x\r\n\r\n');
    a.sock.destroy();
    assert.ok([400, 505].includes(a.res.status), `bad version → 400 or 505 (got ${a.res.status})`);
    const b = await rawExchange(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n');
    b.sock.destroy();
    assert.equal(b.res.status, 400);
  });

  test('413 for Content-Length 20000 (answered without waiting for the body)', T, async () => {
    const res = await request(srv.port, 'POST', '/', { 'Content-Type': 'application/json', 'Content-Length': '20000' });
    assert.equal(res.status, 413);
  });

  test('GET /health → 200 JSON with status, version, uptime_s, connections', T, async () => {
    const res = await request(srv.port, 'GET', '/health');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] || '', /^application\/json/i);
    const body = JSON.parse(res.body.toString());
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.version, 'string');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof body.uptime_s, 'number');
    assert.ok(body.uptime_s >= 0);
    assert.equal(typeof body.connections, 'number');
    assert.ok(body.connections >= 1, 'the asking connection is counted');
  });

  test('path traversal never leaves the web root', T, async () => {
    for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd',
      '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/./../etc/passwd', '//etc/passwd']) {
      const res = await request(srv.port, 'GET', p);
      assert.ok([400, 404].includes(res.status), `${p} → ${res.status}`);
      assert.doesNotMatch(res.body.toString(), /root:/);
    }
  });

  test('STUN bytes on the TCP port get no HTTP answer and do not hurt the server', T, async () => {
    const sock = await tcpConnect(srv.port);
    const reader = new Reader(sock);
    // Binding request: type 0x0001, length 0, magic cookie, 12-byte transaction id.
    const stun = Buffer.concat([Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), Buffer.alloc(12, 7)]);
    sock.write(stun);
    const closed = await reader.closesWithin(3000);
    const got = reader.buf;
    sock.destroy();
    assert.ok(!got.toString('latin1').startsWith('HTTP/'), 'no HTTP response to STUN');
    if (!closed) assert.ok(got.length >= 20 && (got[0] & 0xc0) === 0, 'if not closed, the answer is STUN');
    const h = await request(srv.port, 'GET', '/health');
    assert.equal(h.status, 200);
  });
});

describe('plain HTTP on the TLS port', () => {
  let srv;
  before(async () => { srv = await start(); });
  after(async () => { await srv?.stop(); });

  test('308 to https://<Host><path>', T, async () => {
    for (const [host, path] of [[`localhost:${srv.port}`, '/some/path?x=1&y=%20'], ['call.example.test', '/']]) {
      const { res, sock } = await rawExchange(srv.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { plain: true });
      sock.destroy();
      assert.equal(res.status, 308);
      assert.equal(res.headers.location, `https://${host}${path}`);
    }
  });

  test('a long target (up to the 4 KiB limit) still gets its 308 with the whole Location; longer gets 414', T, async () => {
    for (const len of [1400, 2000, 4000]) {
      const path = '/' + 'a'.repeat(len - 1);
      const host = 'call.example.test';
      const { res, sock } = await rawExchange(srv.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { plain: true });
      sock.destroy();
      assert.equal(res.status, 308, `target of ${len} bytes`);
      assert.equal(res.headers.location, `https://${host}${path}`);
    }
    const { res, sock } = await rawExchange(srv.port, `GET /${'b'.repeat(5000)} HTTP/1.1\r\nHost: h.test\r\n\r\n`, { plain: true });
    sock.destroy();
    assert.equal(res.status, 414);
  });

  test('308 for HEAD and POST too, and the server still serves TLS afterwards', T, async () => {
    const { res, sock } = await rawExchange(srv.port, `HEAD /x HTTP/1.1\r\nHost: h.test\r\n\r\n`, { plain: true, head: true });
    sock.destroy();
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, 'https://h.test/x');
    const post = await rawExchange(srv.port, `POST /api HTTP/1.1\r\nHost: h.test\r\nContent-Length: 0\r\n\r\n`, { plain: true });
    post.sock.destroy();
    assert.equal(post.res.status, 308);
    const h = await request(srv.port, 'GET', '/health');
    assert.equal(h.status, 200);
  });
});

describe('--web-root serves files from disk', () => {
  let srv;
  let dir;
  const index = '<!doctype html>\n<html><head><title>web-root test</title></head><body>hi</body></html>\n';
  const js = 'export const answer = 42;\n'.repeat(50);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tincan-webroot-'));
    mkdirSync(join(dir, 'www', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'www', 'index.html'), index);
    writeFileSync(join(dir, 'www', 'app.js'), js);
    writeFileSync(join(dir, 'www', 'sub', 'style.css'), 'body{color:red}\n');
    writeFileSync(join(dir, 'secret.txt'), 'TOP-SECRET-OUTSIDE-WEB-ROOT\n');
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'secret.txt'), 'TOP-SECRET-OUTSIDE-WEB-ROOT\n');
    symlinkSync(join(dir, 'outside'), join(dir, 'www', 'abs'));    // a directory outside, by absolute path
    symlinkSync('../outside', join(dir, 'www', 'up'));              // the same, relative
    symlinkSync('sub', join(dir, 'www', 'inside'));                 // a directory inside the root
    srv = await start({ args: ['--web-root', join(dir, 'www')] });
  });
  after(async () => {
    await srv?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('GET / and /app.js return the files byte for byte', T, async () => {
    const a = await request(srv.port, 'GET', '/');
    assert.equal(a.status, 200);
    assert.equal(a.body.toString(), index);
    const b = await request(srv.port, 'GET', '/app.js');
    assert.equal(b.status, 200);
    assert.equal(b.body.toString(), js);
    assert.match(b.headers['content-type'] || '', /javascript/);
    const c = await request(srv.port, 'GET', '/sub/style.css');
    assert.equal(c.status, 200);
    assert.match(c.headers['content-type'] || '', /^text\/css/);
  });

  test('no path escapes the web root', T, async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt',
      '/sub/../../secret.txt', '/sub/%2e%2e/%2e%2e/secret.txt', '/./../secret.txt', '/..\\secret.txt', '/%252e%252e/secret.txt']) {
      const res = await request(srv.port, 'GET', p);
      assert.doesNotMatch(res.body.toString(), /TOP-SECRET/, `${p} leaked a file outside the web root (status ${res.status})`);
      assert.notEqual(res.status, 200, `${p} → 200`);
    }
  });

  test('a symlinked directory never leads out of the web root; one that stays inside is followed', T, async () => {
    for (const p of ['/abs/secret.txt', '/up/secret.txt']) {
      const res = await request(srv.port, 'GET', p);
      assert.equal(res.status, 404, `${p} → ${res.status}`);
      assert.doesNotMatch(res.body.toString(), /TOP-SECRET/);
    }
    const ok = await request(srv.port, 'GET', '/inside/style.css');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'body{color:red}\n');
  });
});

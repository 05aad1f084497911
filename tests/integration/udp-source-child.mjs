// Runs inside a network namespace of its own (see udp-source.test.mjs):
// starts tincan bound to the wildcard address and reports, as one JSON
// line, where each answer on the main UDP port came from.
import dgram from 'node:dgram';
import { start } from './net.mjs';
import { encodeMessage, Message, METHOD, ATTR, TurnClient, UdpPeer, turnArgs, udpRange, hostPort } from './stun-client.mjs';

/** Sends a Binding from `from` to `to`:port; resolves with the answer's source and mapped address. */
function binding(family, from, to, port) {
  return new Promise((ok, fail) => {
    const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    const timer = setTimeout(() => { sock.close(); fail(new Error(`no answer from ${to} to ${from}`)); }, 3000);
    sock.on('message', (d, rinfo) => {
      clearTimeout(timer);
      const msg = new Message(Buffer.from(d));
      const mapped = msg.xorAddr(ATTR.XOR_MAPPED_ADDRESS);
      sock.close();
      ok({ source: `${rinfo.address}:${rinfo.port}`, mapped: hostPort(mapped), local: `${from}:${local}` });
    });
    let local;
    sock.bind({ address: from, port: 0 }, () => {
      local = sock.address().port;
      sock.send(encodeMessage({ method: METHOD.BINDING }).buf, port, to);
    });
  });
}

/** A TURN allocation over UDP to 127.0.0.3 from 127.0.0.2; data from a peer comes back through it. */
async function turnThroughSecondAddress(port) {
  const client = await TurnClient.connect('udp', port, { user: 'u', pass: 'p' }, { host: '127.0.0.3', localAddress: '127.0.0.2' });
  try {
    const res = await client.allocate();
    if (res.error) return { allocate: res.error.code };
    const peer = await UdpPeer.open();
    const perm = await client.createPermission(peer.addr);
    if (perm.error) return { allocate: 'ok', permission: perm.error.code };
    peer.send(client.relayed, Buffer.from('hello through the relay'));
    const got = await client.data(Buffer.from('hello through the relay'), 3000);
    await client.release();
    peer.sock.close();
    return { allocate: 'ok', data: got.data.toString() };
  } finally {
    client.close();
  }
}

const range = await udpRange(42000, 20);
const srv = await start({ bind: null, args: [...turnArgs(range, '--turn-user', 'u:p', '--allow-loopback-peers')] });
const out = {};
try {
  out.v4 = await binding(4, '127.0.0.2', '127.0.0.3', srv.port);
  out.v4main = await binding(4, '127.0.0.2', '127.0.0.1', srv.port);
  out.v6 = await binding(6, 'fd00::2', 'fd00::3', srv.port);
  out.v6lo = await binding(6, '::1', '::1', srv.port);
  out.turn = await turnThroughSecondAddress(srv.port);
} catch (e) {
  out.error = e.message;
}
await srv.stop();
out.port = srv.port;
process.stdout.write(JSON.stringify(out) + '\n');

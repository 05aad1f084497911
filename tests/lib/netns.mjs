// Network namespaces for tests that need a wildcard-bound server or more
// than one address: inside a namespace of its own, tincan may bind "::"
// (only the namespace's loopback exists there) and the test may add
// addresses (fd00::2, fd00::3) without touching the host. Needs root, as
// CI and the developer machines have.
import { execFileSync, spawnSync } from 'node:child_process';

/** True if this process may create network namespaces. */
export function canUseNetns() {
  const r = spawnSync('unshare', ['-n', 'true']);
  return r.status === 0;
}

/**
 * Creates a named namespace with loopback up and extra addresses on lo
 * (e.g. ['fd00::2/128']), and, with opts.iface, an interface "eth0"
 * (one end of a veth pair whose other end stays inside too) with those addresses (e.g. ['192.0.2.10/32'], a documentation range that
 * exists only inside the namespace): browsers gather candidates on no
 * loopback interface, so a page needs one to make a call at all.
 * Returns { name, prefix (argv that runs a command inside), remove() }.
 */
export function makeNetns(tag, addrs = [], opts = {}) {
  const name = `tincan-${tag}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  const ip = (...a) => execFileSync('ip', ['-n', name, ...a]);
  try {
    ip('link', 'set', 'lo', 'up');
    for (const a of addrs) ip('addr', 'add', a, 'dev', 'lo', ...(a.includes(':') ? ['nodad'] : []));
    if (opts.iface) {
      // A veth pair with both ends inside: an interface with carrier.
      ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
      // No IPv6 link-local addresses made (and DAD-checked) after the links
      // come up: each is an address change, and Chromium aborts the page
      // loads and connects under way at a network change.
      for (const dev of ['eth0', 'eth1']) ip('link', 'set', dev, 'addrgenmode', 'none');
      for (const a of opts.iface) ip('addr', 'add', a, 'dev', 'eth0', ...(a.includes(':') ? ['nodad'] : []));
      ip('link', 'set', 'eth1', 'up');
      ip('link', 'set', 'eth0', 'up');
    }
  } catch (e) {
    spawnSync('ip', ['netns', 'del', name]);
    throw e;
  }
  return {
    name,
    prefix: ['ip', 'netns', 'exec', name],
    remove() { spawnSync('ip', ['netns', 'del', name]); },
  };
}

/**
 * Cuts every packet to or from addr inside the namespace (iptables DROP on
 * INPUT both ways: on loopback each packet passes INPUT once), as a network
 * that goes silent would: no resets, no ICMP. Returns restore(), which
 * removes exactly those rules again.
 */
export function cutAddress(ns, addr) {
  const rules = [['-s', addr, '-j', 'DROP'], ['-d', addr, '-j', 'DROP']];
  for (const r of rules) execFileSync('ip', ['netns', 'exec', ns.name, 'iptables', '-I', 'INPUT', ...r]);
  let restored = false;
  return function restore() {
    if (restored) return;
    restored = true;
    for (const r of rules) spawnSync('ip', ['netns', 'exec', ns.name, 'iptables', '-D', 'INPUT', ...r]);
  };
}

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
 * (e.g. ['fd00::2/128']); returns { name, exec(args) → argv prefix, remove() }.
 */
export function makeNetns(tag, addrs = []) {
  const name = `tincan-${tag}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  const ip = (...a) => execFileSync('ip', ['-n', name, ...a]);
  ip('link', 'set', 'lo', 'up');
  for (const a of addrs) ip('addr', 'add', a, 'dev', 'lo', ...(a.includes(':') ? ['nodad'] : []));
  return {
    name,
    prefix: ['ip', 'netns', 'exec', name],
    remove() { spawnSync('ip', ['netns', 'del', name]); },
  };
}

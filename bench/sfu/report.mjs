// bench/sfu/report.mjs — the table of bench/sfu/run.sh from its results
// file: one {"round":N,"r":{…drive.mjs RESULT…}} a line. Per room shape
// (subscribers), server and SRTP profile the median round (by CPU per
// forwarded packet) with the min–max, then the ratio tincan / Janus per shape
// and profile (goal, issues 11 and 12: ≤ 0.5). "per core" columns divide by
// the server's CPU share: what one core would forward at the same cost per
// packet (an extrapolation; a saturated server shows it directly).
// With tincan at several --media-threads counts (SFU_THREADS="1 2"), a last
// table shows how forwarding scales: each thread's CPU share, and the
// forwarded packets/s at which the server would saturate — when its
// busiest thread fills a CPU, or all its threads together fill the CPUs it
// may use, whichever comes first — against tincan's with one thread. With
// SFU_QUOTA each server is capped at that share of a CPU per thread and
// saturates: then the measured forwarded packets/s against one thread's
// ("vs 1 thread" next to them) is the scaling itself.
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => {
  const o = JSON.parse(l);
  return { ...o.r, server: o.name || o.r.server, ncpu: o.ncpu || 1 };
});
if (!rows.length) {
  console.log('no results (every run failed; see the messages above)');
  process.exit(1);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

const groups = new Map();
for (const r of rows) {
  const k = `${r.subs ?? '-'} ${r.server} ${r.srtp}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}

const head = ['subs', 'server', 'SRTP', 'rounds', 'CPU-s/Mpkt (min-max)', 'fwd pkt/s', 'sent pkt/s', 'loss %', 'CPU %',
  'fwd pkt/s/core', 'video/core', 'gen CPU %', 'tracks', 'kbit/s/video', 'RTCP→subs/s', 'RTCP→pubs/s', 'PLI+FIR', 'NACK'];
const lines = [head];
const med = {};
for (const [k, rs] of groups) {
  const [subs, server, srtp] = k.split(' ');
  const cpu = rs.map((r) => r.cpu_s_per_mpkt).filter((x) => x !== null);
  const m = median(cpu);
  const mid = rs.find((r) => r.cpu_s_per_mpkt === m) || rs[0];
  med[k] = m;
  const perS = (x) => x / mid.secs;
  const core = mid.cpu_pct > 0 ? 100 / mid.cpu_pct : null;
  lines.push([subs, server, `${srtp} (${(mid.profiles || []).join('/')})`, String(rs.length),
    `${f(m)} (${f(Math.min(...cpu))}-${f(Math.max(...cpu))})`, f(median(rs.map((r) => r.fwd_pps)), 0),
    f(median(rs.map((r) => r.sent_pps)), 0), f(Math.max(...rs.map((r) => r.loss_pct)), 3), f(mid.cpu_pct),
    f(core && mid.fwd_pps * core, 0), f(core && mid.video_streams !== undefined ? mid.video_streams * core : null, 0),
    f(mid.gen_cpu_pct), String(mid.tracks_min ?? '-'), f(mid.video_kbps, 0),
    f(perS(mid.rtcp_to_subs), 0), f(perS(mid.rtcp_to_pubs), 0), String(mid.plis), String(mid.nacks)]);
  const short = rs.filter((r) => r.tracks_short || r.auth_fail);
  if (short.length) console.log(`warning: ${k}: ${short.length} round(s) with subscribers missing tracks or SRTP failures`);
  const behind = rs.filter((r) => r.gen_behind);
  if (behind.length) console.log(`warning: ${k}: the generator fell behind in ${behind.length} round(s): it, not the server, was the limit`);
}
const w = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
for (const l of lines) console.log(l.map((c, i) => c.padEnd(w[i])).join('  '));

console.log();
console.log('rounds: ' + rows.map((r) => `${r.subs}/${r.server}/${r.srtp} ${f(r.cpu_s_per_mpkt)} µs/pkt ${f(r.fwd_pps, 0)} pkt/s gen ${f(r.gen_cpu_pct, 0)}%`).join('; '));
console.log();
for (const subs of new Set(rows.map((r) => r.subs ?? '-'))) {
  for (const srtp of new Set(rows.map((r) => r.srtp))) {
    const t = med[`${subs} tincan ${srtp}`], j = med[`${subs} janus ${srtp}`];
    if (t && j) {
      console.log(`ratio tincan/janus, CPU per forwarded packet, ${subs} subscribers, SRTP ${srtp}: ${f(t / j, 2)}` +
        `  (goal ≤ 0.5: ${t / j <= 0.5 ? 'met' : 'NOT met'})`);
    }
  }
}

/* Scaling over media threads: the model above, per shape and profile. */
const threadsOf = (name) => (name === 'tincan' ? 1 : Number((/^tincan-(\d+)t$/.exec(name) || [])[1]) || 0);
const capacity = (r) => {
  const n = Math.min(threadsOf(r.server), r.ncpu);
  const busiest = Math.max(0, ...(r.thread_cpu_pct || []));
  const limit = Math.max(busiest, r.cpu_pct / n);
  return limit > 0 ? (r.fwd_pps * 100) / limit : null;
};
const scaled = rows.filter((r) => threadsOf(r.server) > 0);
if (new Set(scaled.map((r) => r.server)).size > 1) {
  console.log();
  const sh = ['subs', 'SRTP', 'server', 'fwd pkt/s', 'vs 1 thread', 'CPU %', 'threads CPU % (busiest first)', 'fwd pkt/s at saturation', 'vs 1 thread'];
  const out = [sh];
  for (const subs of new Set(scaled.map((r) => r.subs ?? '-'))) {
    for (const srtp of new Set(scaled.map((r) => r.srtp))) {
      const caps = new Map(), fwds = new Map();
      for (const name of [...new Set(scaled.map((r) => r.server))].sort((a, b) => threadsOf(a) - threadsOf(b))) {
        const rs = scaled.filter((r) => r.server === name && (r.subs ?? '-') === subs && r.srtp === srtp);
        if (!rs.length) continue;
        const c = median(rs.map(capacity).filter((x) => x !== null));
        const mid = rs.find((r) => capacity(r) === c) || rs[0];
        caps.set(name, c);
        fwds.set(name, median(rs.map((r) => r.fwd_pps)));
        const one = caps.get('tincan'), fone = fwds.get('tincan');
        out.push([String(subs), srtp, name, f(fwds.get(name), 0), fone ? f(fwds.get(name) / fone, 2) : '-', f(mid.cpu_pct),
          (mid.thread_cpu_pct || []).map((x) => f(x)).join(' '), f(c, 0), one ? f(c / one, 2) : '-']);
      }
    }
  }
  const sw = sh.map((_, i) => Math.max(...out.map((l) => l[i].length)));
  for (const l of out) console.log(l.map((c, i) => c.padEnd(sw[i])).join('  '));
}

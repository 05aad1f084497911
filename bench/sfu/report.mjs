// bench/sfu/report.mjs — the table of bench/sfu/run.sh from its results
// file: one {"round":N,"r":{…drive.mjs RESULT…}} a line. Per room shape
// (subscribers), server and SRTP profile the median round (by CPU per
// forwarded packet) with the min–max, then the ratio tincan / Janus per shape
// and profile (goal, issues 11 and 12: ≤ 0.5). "per core" columns divide by
// the server's CPU share: what one core would forward at the same cost per
// packet (an extrapolation; a saturated server shows it directly).
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).r);
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

// Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`) as the functions with the most self time,
// for `npm run bench:site -- --cpu-prof`.
import { readFileSync } from 'node:fs';

/** The parts of the V8 CPU profile format (Chrome DevTools protocol `Profiler.Profile`) read here. */
interface CpuProfile {
  nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface SelfTime {
  name: string;
  location: string;
  selfMs: number;
  /** Share of all samples, idle included. */
  share: number;
  /** Share of samples when the process was not idle. */
  busyShare: number;
}

/** The `limit` functions with the most self time; `rootDir` is stripped from file URLs to keep lines short. */
export function topSelfTime(
  profileFile: string,
  rootDir: string,
  limit = 12,
): { functions: SelfTime[]; busyMs: number; totalMs: number } {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const totalHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0) || 1;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const msPerHit = totalMs / totalHits;
  const byFunction = new Map<string, { name: string; location: string; hits: number }>();
  let idleHits = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idleHits += hits;
    const location = url === '' ? '' : `${shortUrl(url, rootDir)}:${lineNumber + 1}`;
    const name = functionName === '' ? '(anonymous)' : functionName;
    const key = `${name} ${location}`;
    const entry = byFunction.get(key) ?? { name, location, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
  }
  const busyHits = totalHits - idleHits || 1;
  const functions = [...byFunction.values()]
    .filter((f) => f.name !== '(idle)')
    .sort((a, b) => b.hits - a.hits)
    .slice(0, limit)
    .map((f) => ({
      name: f.name,
      location: f.location,
      selfMs: f.hits * msPerHit,
      share: f.hits / totalHits,
      busyShare: f.hits / busyHits,
    }));
  return { functions, busyMs: busyHits * msPerHit, totalMs };
}

function shortUrl(url: string, rootDir: string): string {
  const rootUrl = `file://${rootDir}/`;
  if (url.startsWith(rootUrl)) return url.slice(rootUrl.length).replace(/^node_modules\//, '');
  return url;
}

import { summarize } from './stats.js';

/**
 * One worker's memory over a long window: whether it stays flat.
 *
 * A firing worker's memory is a sawtooth: V8 lets its old generation grow to several times the
 * live data, then collects it (every 20–40 s at 1,000 × 8), so RSS swings by 50–80 MB. A mean
 * over one minute holds one or two teeth and depends on where they fall; comparing the first
 * minute with the last therefore said "not flat" of a flat sawtooth, and could say "flat" of a
 * slow leak. The check compares the means of the window's first and last thirds (up to 3 minutes
 * each, sampled every second: several teeth each), scaled to the whole window — the growth a
 * straight line through the two means would give from the window's start to its end — and
 * reports the least-squares slope of every sample beside it.
 */
export interface WorkerMemoryTrend {
  worker: string;
  /** Length of each of the two compared spans (the window's first and last), ms. */
  spanMs: number;
  /** Mean RSS over the window's first span, MB. */
  firstRssMb: number;
  /** Mean RSS over the window's last span, MB. */
  lastRssMb: number;
  /** (last − first), scaled from the spans' distance to the whole window, MB. */
  growthMb: number;
  /** Least-squares slope of every RSS sample in the window, MB per minute. */
  slopeMbPerMin: number;
  /** Largest RSS in the first and the last span, MB: the sawtooth's top. */
  firstMaxRssMb: number;
  lastMaxRssMb: number;
  maxRssMb: number;
  /** Mean V8 heap used over the first and the last span, MB (NaN: never sampled). */
  firstHeapMb: number;
  lastHeapMb: number;
  /** RSS samples in the window. */
  samples: number;
}

interface Sample {
  at: number;
  mb: number;
}

/** The spans compared: the window's first and last third, at most this long each. */
const SPAN_MAX_MS = 180_000;

/** Samples of each worker's RSS (and, less often, heap) taken through a window, summarized start against end. */
export class MemoryTrend {
  private readonly rss = new Map<string, Sample[]>();
  private readonly heap = new Map<string, Sample[]>();

  /** One RSS sample (undefined: the process is gone, nothing is kept). */
  addRss(worker: string, at: number, rssMb: number | undefined): void {
    if (rssMb !== undefined) push(this.rss, worker, at, rssMb);
  }

  addHeap(worker: string, at: number, heapMb: number): void {
    if (Number.isFinite(heapMb)) push(this.heap, worker, at, heapMb);
  }

  /** Per worker, for samples in [from, to): the window's first span against its last. */
  summarize(from: number, to: number): WorkerMemoryTrend[] {
    const windowMs = to - from;
    const spanMs = Math.min(SPAN_MAX_MS, windowMs / 3);
    return [...this.rss].map(([worker, all]) => {
      const rss = all.filter((s) => s.at >= from && s.at < to);
      const heap = (this.heap.get(worker) ?? []).filter((s) => s.at >= from && s.at < to);
      const first = summarize(mbOf(rss.filter((s) => s.at < from + spanMs)));
      const last = summarize(mbOf(rss.filter((s) => s.at >= to - spanMs)));
      return {
        worker,
        spanMs,
        firstRssMb: round1(first.mean),
        lastRssMb: round1(last.mean),
        // The spans' centres lie windowMs − spanMs apart.
        growthMb: round1(((last.mean - first.mean) * windowMs) / (windowMs - spanMs)),
        slopeMbPerMin: round1(slopePerMs(rss) * 60_000),
        firstMaxRssMb: round1(first.max),
        lastMaxRssMb: round1(last.max),
        maxRssMb: round1(summarize(mbOf(rss)).max),
        firstHeapMb: round1(summarize(mbOf(heap.filter((s) => s.at < from + spanMs))).mean),
        lastHeapMb: round1(summarize(mbOf(heap.filter((s) => s.at >= to - spanMs))).mean),
        samples: rss.length,
      };
    });
  }

  /** One worker's RSS samples in [from, to), as [ms after from, MB] pairs (for the raw figures). */
  rssSeries(worker: string, from: number, to: number): [number, number][] {
    return (this.rss.get(worker) ?? []).filter((s) => s.at >= from && s.at < to).map((s) => [s.at - from, round1(s.mb)]);
  }
}

/**
 * Flat: every worker was sampled at both ends, and none grew by more than 10 % of its first
 * span's mean RSS, or 10 MB if that is more.
 */
export function memoryFlat(trends: readonly WorkerMemoryTrend[]): boolean {
  return trends.length > 0 && trends.every((t) => Number.isFinite(t.growthMb) && t.growthMb <= allowedGrowthMb(t.firstRssMb));
}

/** The growth over the window `memoryFlat` allows a worker whose first span's mean RSS is `firstRssMb`. */
export function allowedGrowthMb(firstRssMb: number): number {
  return Math.max(firstRssMb * 0.1, 10);
}

function push(map: Map<string, Sample[]>, worker: string, at: number, mb: number): void {
  let list = map.get(worker);
  if (!list) map.set(worker, (list = []));
  list.push({ at, mb });
}

function mbOf(xs: readonly Sample[]): number[] {
  return xs.map((s) => s.mb);
}

function slopePerMs(xs: readonly Sample[]): number {
  if (xs.length < 2) return Number.NaN;
  const mt = xs.reduce((a, s) => a + s.at, 0) / xs.length;
  const mm = xs.reduce((a, s) => a + s.mb, 0) / xs.length;
  let num = 0;
  let den = 0;
  for (const s of xs) {
    num += (s.at - mt) * (s.mb - mm);
    den += (s.at - mt) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** One worker's memory over a long window: whether it stays flat. */
export interface WorkerMemoryTrend {
  worker: string;
  /** Mean RSS over the window's first minute, MB. */
  firstMinuteRssMb: number;
  /** Mean RSS over the window's last minute, MB. */
  lastMinuteRssMb: number;
  maxRssMb: number;
  /** Mean V8 heap used over the first and the last minute, MB. */
  firstMinuteHeapMb: number;
  lastMinuteHeapMb: number;
  samples: number;
}

interface Sample {
  at: number;
  rssMb: number;
  heapMb: number;
}

/** Samples of each worker's RSS and heap taken through a window, summarized minute against minute. */
export class MemoryTrend {
  private readonly samples = new Map<string, Sample[]>();

  add(worker: string, at: number, rssMb: number | undefined, heapMb: number): void {
    if (rssMb === undefined) return; // the process is gone
    let list = this.samples.get(worker);
    if (!list) this.samples.set(worker, (list = []));
    list.push({ at, rssMb, heapMb });
  }

  /** Per worker, for samples in [from, to): the first minute's mean against the last minute's. */
  summarize(from: number, to: number): WorkerMemoryTrend[] {
    const minute = Math.min(60_000, (to - from) / 2);
    const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : Math.round(xs.reduce((a, b) => a + b, 0) / xs.length));
    return [...this.samples].map(([worker, all]) => {
      const inWindow = all.filter((s) => s.at >= from && s.at < to);
      const first = inWindow.filter((s) => s.at < from + minute);
      const last = inWindow.filter((s) => s.at >= to - minute);
      return {
        worker,
        firstMinuteRssMb: mean(first.map((s) => s.rssMb)),
        lastMinuteRssMb: mean(last.map((s) => s.rssMb)),
        maxRssMb: Math.round(Math.max(0, ...inWindow.map((s) => s.rssMb))),
        firstMinuteHeapMb: mean(first.map((s) => s.heapMb)),
        lastMinuteHeapMb: mean(last.map((s) => s.heapMb)),
        samples: inWindow.length,
      };
    });
  }
}

/** Flat: no worker's last-minute mean RSS is more than 10 % (and 10 MB) above its first minute's. */
export function memoryFlat(trends: readonly WorkerMemoryTrend[]): boolean {
  return trends.length > 0 && trends.every((t) => t.lastMinuteRssMb <= Math.max(t.firstMinuteRssMb * 1.1, t.firstMinuteRssMb + 10));
}

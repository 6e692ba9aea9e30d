/**
 * One histogram series set's counts (one label set): observed with no allocation, written in
 * Prometheus' text format as prom-client writes a histogram (`le` first among the labels).
 */
export class BucketCounts {
  /** By bucket, not cumulative; the last one is above every bound (`+Inf`). */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let b = 0;
    while (b < this.bounds.length && value > this.bounds[b]!) b++;
    this.counts[b]!++;
    this.sum += value;
    this.count++;
  }

  /**
   * Appends its series to `lines`: `buckets` are each bucket's series up to its labels
   * (`bucketPrefixes`), `labels` the rest of them (`,job="a"` or empty).
   */
  write(lines: string[], name: string, buckets: readonly string[], labels: string): void {
    let below = 0;
    for (let b = 0; b < this.counts.length; b++) {
      below += this.counts[b]!;
      lines.push(`${buckets[b]}${labels}} ${below}`);
    }
    const own = labels === '' ? '' : `{${labels.slice(1)}}`;
    lines.push(`${name}_sum${own} ${this.sum}`, `${name}_count${own} ${this.count}`);
  }
}

/** Each bucket's series of histogram `name` up to its other labels: `name_bucket{le="0.5"`, `+Inf` last. */
export function bucketPrefixes(name: string, bounds: readonly number[]): string[] {
  return [...bounds.map(String), '+Inf'].map((le) => `${name}_bucket{le="${le}"`);
}

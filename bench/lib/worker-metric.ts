/**
 * A worker's metric as its `/metrics` endpoint on 127.0.0.1:`port` shows it now: the sum of every
 * series of `name` (whatever its labels), 0 if it has none or the endpoint cannot be read.
 */
export async function workerMetric(port: number, name: string): Promise<number> {
  return (await workerMetrics(port, [name]))[name]!;
}

/** Several metrics of one worker (each as `workerMetric` reads it), from one read of `/metrics`. */
export async function workerMetrics<N extends string>(port: number, names: readonly N[]): Promise<Record<N, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const sums = Object.fromEntries(names.map((n) => [n, 0])) as Record<N, number>;
  for (const line of text.split('\n')) {
    for (const name of names) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sums[name] += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
  }
  return sums;
}

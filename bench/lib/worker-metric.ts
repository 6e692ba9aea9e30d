/**
 * A worker's metric as its `/metrics` endpoint on 127.0.0.1:`port` shows it now: the sum of every
 * series of `name` (whatever its labels), 0 if it has none or the endpoint cannot be read.
 */
export async function workerMetric(port: number, name: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

/** Formatting shared by the pages. */

export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const d = Date.parse(iso) - now;
  const a = Math.abs(d);
  const s = a < 1000 ? 'now' : a < 60_000 ? `${Math.round(a / 1000)} s` : a < 3_600_000 ? `${Math.round(a / 60_000)} min` : a < 86_400_000 ? `${Math.round(a / 3_600_000)} h` : `${Math.round(a / 86_400_000)} d`;
  return s === 'now' ? 'now' : d < 0 ? `${s} ago` : `in ${s}`;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function itemList(items: readonly number[]): string {
  const sorted = [...items].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j;
  }
  return parts.join(',') || '-';
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A cron in words for the common shapes (6 fields with seconds, or 5); the cron itself otherwise. */
export function describeCron(cron: string | null | undefined): string {
  if (!cron) return '-';
  const f = cron.trim().split(/\s+/);
  const [sec, min, hour, dom, mon, dow] = f.length === 6 ? f : ['0', ...f];
  if (f.length !== 5 && f.length !== 6) return cron;
  const any = (x: string | undefined) => x === '*' || x === '?';
  const step = (x: string | undefined) => /^\*\/(\d+)$/.exec(x ?? '')?.[1];
  const num = (x: string | undefined) => (/^\d+$/.test(x ?? '') ? Number(x) : undefined);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (any(sec) && any(min) && any(hour) && any(dom) && any(mon) && any(dow)) return 'every second';
  if (step(sec) && any(min) && any(hour) && any(dom) && any(mon) && any(dow)) return `every ${step(sec)} seconds`;
  if (num(sec) !== undefined && any(min) && any(hour) && any(dom) && any(mon) && any(dow)) return 'every minute';
  if (num(sec) !== undefined && step(min) && any(hour) && any(dom) && any(mon) && any(dow)) return `every ${step(min)} minutes`;
  if (num(sec) !== undefined && num(min) !== undefined && any(hour) && any(dom) && any(mon) && any(dow)) return `every hour at minute ${num(min)}`;
  if (num(sec) !== undefined && num(min) !== undefined && num(hour) !== undefined) {
    const at = `${pad(num(hour)!)}:${pad(num(min)!)}${num(sec) ? `:${pad(num(sec)!)}` : ''}`;
    if (any(dom) && any(mon) && any(dow)) return `daily at ${at}`;
    if (any(dom) && any(mon) && num(dow) !== undefined) return `${DAYS[num(dow)! % 7]}s at ${at}`;
    if (num(dom) !== undefined && any(mon) && any(dow)) return `monthly on day ${num(dom)} at ${at}`;
    if (num(dom) !== undefined && num(mon) !== undefined && any(dow)) return `yearly on ${num(mon)}/${num(dom)} at ${at}`;
  }
  return cron;
}

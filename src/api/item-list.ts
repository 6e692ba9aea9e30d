/** Item numbers as compact ranges: `[0, 1, 2, 3, 5, 7, 8]` → `0-3,5,7-8`; `[]` → `''`. */
export function formatItemList(items: readonly number[]): string {
  const sorted = [...new Set(items)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Fires that did not run and are to be recorded with an item's next run: how many, and the latest
 * of them (`missed` and `skipped` of a `BeginRequest`).
 */
export interface FireNote {
  count: number;
  latest: Date;
}

/** Both notes as one: counts added, the later `latest`. */
export function mergeNote(a: FireNote | undefined, b: FireNote): FireNote;
export function mergeNote(a: FireNote | undefined, b: FireNote | undefined): FireNote | undefined;
export function mergeNote(a: FireNote | undefined, b: FireNote | undefined): FireNote | undefined {
  if (!a) return b;
  if (!b) return a;
  return { count: a.count + b.count, latest: a.latest > b.latest ? a.latest : b.latest };
}

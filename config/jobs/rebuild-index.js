// A plain async function works as a handler too.
import { setTimeout as sleep } from 'node:timers/promises';

export default async function rebuildIndex(ctx) {
  await sleep(300 + 100 * ctx.item, undefined, { signal: ctx.signal });
  ctx.log.info({ index: ctx.itemParameter }, 'index rebuilt');
}

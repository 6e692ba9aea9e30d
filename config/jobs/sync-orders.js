// A sharded module handler: item N syncs the orders of its city (the item parameter),
// i.e. rows where id % shards = item. Stages are recorded, so a re-run skips finished ones.
import { defineJob } from 'zkshard';
import { setTimeout as sleep } from 'node:timers/promises';

export default defineJob(async (ctx) => {
  const rows = await ctx.stage('fetch', async () => {
    await sleep(100, undefined, { signal: ctx.signal });
    return 50 + ctx.item; // pretend: rows with id % shards = item
  });
  await ctx.stage('write', async () => {
    await sleep(200, undefined, { signal: ctx.signal });
  });
  ctx.log.info({ city: ctx.itemParameter, rows, token: ctx.fencingToken }, 'orders synced');
});

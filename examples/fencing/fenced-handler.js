// How a handler uses the token: pass ctx.fencingToken with every write to the store.
import { defineJob } from 'zkshard';
import { FencedStore } from './fenced-store.js';

const store = new FencedStore(); // stands for your database

export default defineJob(async (ctx) => {
  const total = await ctx.stage('compute', async () => 42 + ctx.item);
  store.write(`${ctx.job}#${ctx.item}`, ctx.fencingToken, { total, fire: ctx.fireId });
});

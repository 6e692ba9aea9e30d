import { join } from 'node:path';
import { fourLetterWord, parseMntr, parseSrvr } from '../../src/testing/four-letter-word.js';
import { LOOPBACK } from '../../src/testing/zookeeper-server.js';
import { BenchFleet } from '../lib/bench-fleet.js';
import { startBenchZooKeeper } from '../lib/bench-zookeeper.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import { benchJobs, waitForCompleteSeconds } from './lateness.js';

/** The ZooKeeper server's own counters at one moment. */
interface ServerCounters {
  at: number;
  /** Last transaction id: every write (a multi counts once) increments it. */
  zxid: bigint;
  /** Requests received, pings included. */
  packetsReceived: number;
}

export interface CoordinationFigures {
  jobs: number;
  items: number;
  workers: number;
  windowMs: number;
  /** Fire instants in the window (one per second). */
  instants: number;
  transactions: number;
  requests: number;
  /** Transactions per worker per fire instant. */
  txPerWorkerInstant: number;
  /** Requests (pings included) per worker per fire instant. */
  requestsPerWorkerInstant: number;
  /** Items each worker fires per instant. */
  itemsPerWorker: number;
}

async function readCounters(port: number): Promise<ServerCounters> {
  const [srvr, mntr] = await Promise.all([fourLetterWord(LOOPBACK, port, 'srvr'), fourLetterWord(LOOPBACK, port, 'mntr')]);
  const zxid = parseSrvr(srvr).fields['Zxid'];
  const packets = parseMntr(mntr)['zk_packets_received'];
  if (zxid === undefined || typeof packets !== 'number') throw new Error(`unexpected srvr/mntr answer: Zxid ${zxid}, zk_packets_received ${packets}`);
  return { at: Date.now(), zxid: BigInt(zxid), packetsReceived: packets };
}

/**
 * Runs `jobs` × `items` every-second fires on `workers` processes and reads the server's
 * transaction id (`srvr`) and request count (`mntr`) before and after a window of steady firing.
 */
export async function measureCoordination(ctx: ScenarioContext, o: { jobs: number; items: number; workers: number; windowMs: number }): Promise<CoordinationFigures> {
  const tag = `coordination-${o.jobs}`;
  const zk = await startBenchZooKeeper(ctx.cleanup, join(ctx.dir, `${tag}-zk`));
  const dir = join(ctx.dir, tag);
  const fleet = new BenchFleet({ connect: zk.connectString, namespace: 'bench', dir, jobs: benchJobs(o.jobs, o.items), workers: o.workers }, ctx.cleanup);
  try {
    const t0 = Date.now();
    await fleet.start();
    await fleet.waitSteady(60_000 + o.jobs * o.items * 5, ctx.signal);
    await waitForCompleteSeconds(dir, o.jobs * o.items, ctx.signal);
    ctx.log(`${o.jobs} jobs × ${o.items} items: steady after ${((Date.now() - t0) / 1000).toFixed(1)} s; counting for ${o.windowMs / 1000} s`);
    // Start and end half-way between instants, so that the window holds whole instants.
    await sleepUnlessAborted(1500 - (Date.now() % 1000), ctx.signal);
    const before = await readCounters(zk.port);
    await sleepUnlessAborted(o.windowMs, ctx.signal);
    const after = await readCounters(zk.port);
    const instants = Math.round((after.at - before.at) / 1000);
    const transactions = Number(after.zxid - before.zxid);
    const requests = after.packetsReceived - before.packetsReceived;
    return {
      ...o,
      instants,
      transactions,
      requests,
      txPerWorkerInstant: transactions / (o.workers * instants),
      requestsPerWorkerInstant: requests / (o.workers * instants),
      itemsPerWorker: (o.jobs * o.items) / o.workers,
    };
  } finally {
    await fleet.close();
    await zk.close();
  }
}

/** Scenario 4: ZooKeeper transactions and requests per worker per fire instant, from the server's counters. */
export const coordination: Scenario = {
  name: 'coordination',
  summary: "ZooKeeper transactions and requests per worker per fire instant (server's srvr/mntr counters): 1, 10, 1,000 jobs × 8 items, 4 workers",
  async run(ctx): Promise<ScenarioResult> {
    const windowMs = ctx.quick ? 5000 : 20_000;
    const figures: CoordinationFigures[] = [];
    for (const jobs of [1, 10, 1000]) {
      if (ctx.signal.aborted) break;
      const f = await measureCoordination(ctx, { jobs, items: 8, workers: 4, windowMs });
      ctx.log(`${jobs} jobs: ${f.txPerWorkerInstant.toFixed(2)} transactions, ${f.requestsPerWorkerInstant.toFixed(2)} requests per worker per instant`);
      figures.push(f);
    }
    const worst = figures.reduce((a, f) => Math.max(a, f.txPerWorkerInstant), 0);
    return {
      scenario: 'coordination',
      params: { windowMs, workers: 4, items: 8, cron: '* * * * * *' },
      tables: [
        {
          title: "ZooKeeper work per worker per fire instant (server's own counters: srvr Zxid, mntr zk_packets_received)",
          columns: ['jobs × items', 'items per worker', 'window', 'transactions', 'tx / worker / instant', 'requests', 'requests / worker / instant'],
          rows: figures.map((f) => [`${f.jobs} × ${f.items}`, f.itemsPerWorker, `${f.instants} s`, f.transactions, f.txPerWorkerInstant.toFixed(2), f.requests, f.requestsPerWorkerInstant.toFixed(2)]),
        },
      ],
      targets: figures.length ? [{ what: 'transactions per worker per fire instant, any job count', target: '≤ 2', measured: worst.toFixed(2), met: worst <= 2 }] : [],
      data: { figures },
      notes: [
        'Transactions are zxid increments: a multi counts once. Besides the begin and release of each instant, each worker writes its clock-check node every 30 s and the history sweep may add one for items that ran long ago.',
        'Requests include the session pings (about one per worker every sessionTimeout/3) and every read.',
      ],
    };
  },
};

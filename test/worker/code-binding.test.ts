import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Worker } from '../../src/worker/worker.js';
import { WorkerMetrics } from '../../src/observability/worker-metrics.js';
import { decodeMemberInfo } from '../../src/membership/member-info.js';
import type { JobDefinition } from '../../src/config/job-definition.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { RECORD_HANDLER, RECORD_SCRIPT, type RunRecord } from '../support/worker-process.js';
import { testJob } from '../support/test-job.js';

/** A logger that keeps every line it writes, parsed. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

describe('Worker: the code it runs comes only from its own file', () => {
  let ctx: ZkTestContext;
  let dir: string;
  const workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.shutdown()));
    await ctx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const records = (file: string): RunRecord[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord);

  it('a definition rewritten in ZooKeeper (open namespace, no credentials) runs nothing foreign; schedule changes still apply', async () => {
    ctx = new ZkTestContext('codebind');
    dir = mkdtempSync(join(tmpdir(), 'zkshard-codebind-'));
    const record = join(dir, 'record.jsonl');
    writeFileSync(record, '');
    process.env.RECORD_FILE = record;
    const local = testJob('scripted', { shards: 2, handler: undefined, command: [RECORD_SCRIPT], jobParameter: 'before' });
    const { logger, lines } = capturingLogger();
    const metrics = new WorkerMetrics();
    const w = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id: 'w1', jobs: [{ definition: local, overwrite: false }], baseDir: dir, logger, metrics });
    workers.push(w);
    await w.start();
    await waitFor(() => records(record).some((r) => r.event === 'script'), { timeoutMs: 10_000, message: 'the local script runs' });

    // A plain client rewrites the stored definition: a foreign command, and a new job parameter.
    const zk = await ctx.client();
    const foreign = ['/bin/sh', '-c', 'echo \'{"event":"foreign"}\' >> "$RECORD_FILE"'];
    const stored = JSON.parse((await zk.getData(ctx.paths.job('scripted'))).data.toString()) as JobDefinition;
    await zk.setData(ctx.paths.job('scripted'), Buffer.from(JSON.stringify({ ...stored, command: foreign, jobParameter: 'after' })));

    // The worker keeps running its own script, with ZooKeeper's new job parameter, on both items.
    await waitFor(() => [0, 1].every((item) => records(record).some((r) => r.event === 'script' && r.jobParam === 'after' && r.item === item)), { timeoutMs: 10_000, message: 'runs with the stored job parameter' });
    expect(records(record).filter((r) => (r.event as string) === 'foreign')).toEqual([]);

    // Reported: the log at error (once), the metric, and the member node (for zkctl).
    const reports = lines.filter((l) => l.level === 50 && String(l.msg).includes('another handler or command'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ job: 'scripted', local: `command ${JSON.stringify([RECORD_SCRIPT])}`, stored: `command ${JSON.stringify(foreign)}` });
    expect(await metrics.text()).toMatch(/zkshard_job_code_mismatch\{zkshard_job="scripted"\} 1/);
    const member = await waitFor(async () => {
      const names = await zk.getChildren(ctx.paths.workers);
      const info = decodeMemberInfo((await zk.getData(ctx.paths.member(names[0]!))).data);
      return info?.codeMismatch?.includes('scripted') ? info : undefined;
    }, { message: 'member publishes the mismatch' });
    expect(member.codeMismatch).toEqual(['scripted']);

    // A stored module handler instead of the command: still the local script.
    await zk.setData(ctx.paths.job('scripted'), Buffer.from(JSON.stringify({ ...stored, command: undefined, handler: RECORD_HANDLER, jobParameter: 'handler' })));
    await waitFor(() => records(record).some((r) => r.event === 'script' && r.jobParam === 'handler'), { timeoutMs: 10_000, message: 'runs the local script' });
    expect(records(record).filter((r) => r.event !== 'script')).toEqual([]);

    // Back to the local code: the mismatch is cleared everywhere.
    await zk.setData(ctx.paths.job('scripted'), Buffer.from(JSON.stringify(stored)));
    await waitFor(async () => /zkshard_job_code_mismatch\{zkshard_job="scripted"\} 0/.test(await metrics.text()), { message: 'metric back to 0' });
    await waitFor(async () => {
      const names = await zk.getChildren(ctx.paths.workers);
      return decodeMemberInfo((await zk.getData(ctx.paths.member(names[0]!))).data)?.codeMismatch?.length === 0;
    }, { message: 'member clears the mismatch' });
  });
});

import { Command } from 'commander';
import { runDoctor, unreachableCheck, type DoctorCheck } from '../../api/fleet-doctor.js';
import { ZkPaths } from '../../zk/zk-paths.js';
import { ZkshardError } from '../../errors/zkshard-error.js';
import { print, printJson, wrap, outputWidth } from '../output.js';
import { connect, globalsOf, integerOption } from '../zkctl-context.js';
import { DEFAULTS } from '../../defaults.js';

/** `zkctl doctor`: health checks, one pass/fail line each; exit 1 when one fails (3 when ZooKeeper is unreachable). */
export function makeDoctorCommand(): Command {
  return new Command('doctor')
    .description('health checks (ZooKeeper, namespace, leader, definitions, item nodes, owners, runs in flight, clock skew); exit 1 when one fails')
    .option('--max-clock-skew <ms>', 'largest acceptable clock skew against ZooKeeper', integerOption('--max-clock-skew', 0), DEFAULTS.worker.maxClockSkewMs)
    .action(async (opts: { maxClockSkew: number }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const report = (checks: DoctorCheck[]) => (globals.json ? printJson(checks) : print(renderDoctor(checks)));
      let zk;
      try {
        zk = await connect(globals);
      } catch (err) {
        report([unreachableCheck(globals.zk, err)]);
        throw err; // exit 3
      }
      let checks: DoctorCheck[];
      try {
        checks = await runDoctor(zk, new ZkPaths(globals.namespace), { maxClockSkewMs: opts.maxClockSkew });
      } finally {
        await zk.close().catch(() => undefined);
      }
      report(checks);
      const failed = checks.filter((c) => !c.ok);
      if (failed.length > 0) {
        throw new ZkshardError('CHECKS_FAILED', `doctor: ${failed.length} of ${checks.length} checks failed: ${failed.map((c) => c.check).join(', ')}`);
      }
    });
}

export function renderDoctor(checks: readonly DoctorCheck[], width = outputWidth()): string {
  const nameWidth = Math.max(...checks.map((c) => c.check.length));
  const lines = checks.map((c) => wrap(`${c.ok ? 'PASS' : 'FAIL'}  ${c.check.padEnd(nameWidth)}  ${c.detail}`, width, nameWidth + 8));
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks failed`);
  return lines.join('\n');
}

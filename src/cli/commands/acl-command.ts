import { Command, Option } from 'commander';
import { audited } from '../audit-mutation.js';
import { loadWorkerConfig } from '../../config/load-worker-config.js';
import { ZkshardError } from '../../errors/zkshard-error.js';
import { digestId, policyAcl, type ZkAcl } from '../../zk/zk-acl.js';
import type { ZkClient } from '../../zk/zk-client.js';
import { ZkPaths } from '../../zk/zk-paths.js';
import { auditAcl, type AclFinding } from '../../api/acl-audit.js';
import { applyAcl } from '../../api/acl-apply.js';
import { readNamespaceAcl } from '../../api/acl-policy.js';
import { print, printJson } from '../output.js';
import { connect, globalsOf, type ZkctlGlobals } from '../zkctl-context.js';

/** `zkctl acl digest|audit|apply`: the namespace's ACL policy (docs/SECURITY.md). */
export function makeAclCommand(): Command {
  return new Command('acl')
    .description('ZooKeeper ACLs of the namespace: make an identity, audit, apply the policy (docs/SECURITY.md)')
    .addCommand(
      new Command('digest')
        .description("print the ACL id of <user> (the password is read from stdin, never a flag): digest:<user>:<base64 sha1>")
        .argument('<user>', 'user name')
        .action(async (user: string, _opts: unknown, cmd: Command) => {
          const globals = globalsOf(cmd);
          if (!/^[^:\s]+$/.test(user)) throw new ZkshardError('USAGE', `acl digest: user must be non-empty, without spaces or ":", got ${JSON.stringify(user)}`);
          const password = (await readStdin()).replace(/\r?\n$/, '');
          if (password === '') throw new ZkshardError('USAGE', `acl digest: no password on stdin for user ${user} (e.g. printf %s "$PASSWORD" | zkctl acl digest ${user})`);
          const id = `digest:${digestId(user, password)}`;
          if (globals.json) printJson({ user, id });
          else print(id);
        }),
    )
    .addCommand(
      new Command('audit')
        .description('list every node whose ACL differs from the policy, open ones first; exit 1 when any')
        .addOption(new Option('--config <file>', "the policy of this worker config (its credentials and zookeeper.acl); default: the namespace root's ACL"))
        .action(async (opts: { config?: string }, cmd: Command) => {
          const globals = globalsOf(cmd);
          const { zk, paths, policy, source } = await open(globals, opts.config);
          try {
            const audit = await auditAcl(zk, paths.root, policy);
            if (globals.json) printJson({ namespace: paths.root, policy: source, nodes: audit.nodes, open: audit.findings.filter((f) => f.open).length, findings: audit.findings });
            else print(renderFindings(audit.findings, audit.nodes, source, 'differ from'));
            if (audit.findings.length > 0) process.exitCode = 1;
          } finally {
            await zk.close();
          }
        }),
    )
    .addCommand(
      new Command('apply')
        .description('bring every node of the namespace to the policy of a worker config, while the fleet runs')
        .requiredOption('--config <file>', 'worker config whose credentials (the fleet identity) and zookeeper.acl make the policy')
        .option('--dry-run', 'show what would change; change nothing')
        .option('--force', 'apply even though a live worker has no credentials (it will be locked out)')
        .action(async (opts: { config: string; dryRun?: boolean; force?: boolean }, cmd: Command) => {
          const globals = globalsOf(cmd);
          const { zk, paths, policy, source } = await open(globals, opts.config);
          try {
            const result = await audited(cmd, zk, paths, () => applyAcl(zk, paths, policy!, { dryRun: opts.dryRun, force: opts.force }));
            if (globals.json) printJson({ namespace: paths.root, ...result, changed: result.changed });
            else if (opts.dryRun) print(renderFindings(result.changed, result.nodes, source, 'would change to'));
            else print(`${paths.root}: ${result.changed.length} of ${result.nodes} nodes set to the policy of ${source} in ${result.passes} ${result.passes === 1 ? 'pass' : 'passes'}; 0 differ now`);
          } finally {
            await zk.close();
          }
        }),
    );
}

/** A session and the policy: the config's (connecting with its credentials), or the root's ACL. */
async function open(globals: ZkctlGlobals, configFile: string | undefined): Promise<{ zk: ZkClient; paths: ZkPaths; policy: ZkAcl[] | undefined; source: string }> {
  const paths = new ZkPaths(globals.namespace);
  if (configFile !== undefined) {
    const config = await loadWorkerConfig(configFile);
    if (!config.zookeeper.credentials) {
      throw new ZkshardError('USAGE', `${configFile}: no fleet credentials (zookeeper.auth or ZKSHARD_ZK_AUTH): a policy needs the fleet identity`);
    }
    const zk = await connect(globals, undefined, config.zookeeper.credentials);
    // As for a worker, ZKSHARD_ZK_AUTH (when set) is the fleet identity, not the file's.
    return { zk, paths, policy: policyAcl(config.zookeeper.credentials, config.zookeeper.acl ?? []), source: `${configFile} (fleet identity: ${config.zookeeper.credentials.user})` };
  }
  const zk = await connect(globals);
  try {
    const ns = await readNamespaceAcl(zk, paths.root);
    if (ns.kind === 'missing') throw new ZkshardError('NOT_FOUND', `namespace ${paths.root} does not exist on ${globals.zk}`);
    if (ns.kind === 'secured') return { zk, paths, policy: ns.acl, source: `the ACL of ${paths.root}` };
    return { zk, paths, policy: undefined, source: 'none (the root is open: only open nodes are listed)' };
  } catch (err) {
    await zk.close();
    throw err;
  }
}

function renderFindings(findings: readonly AclFinding[], nodes: number, source: string, verb: string): string {
  const open = findings.filter((f) => f.open).length;
  const lines = findings.map((f) => `${f.open ? 'OPEN' : 'DIFF'}  ${f.path}  ${f.acl.join(',')}`);
  lines.push(`${findings.length} of ${nodes} nodes ${verb} the policy (${open} open); policy: ${source}`);
  return lines.join('\n');
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

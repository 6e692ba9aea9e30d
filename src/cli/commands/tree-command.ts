import { Command } from 'commander';
import { FleetReader, type TreeNode } from '../../api/fleet-reader.js';
import { displayWidth, print, printJson, truncate, outputWidth } from '../output.js';
import { integerOption, withZk } from '../zkctl-context.js';

/** `zkctl tree [path] [--depth N]`: the namespace as a tree with node kinds and short contents. */
export function makeTreeCommand(): Command {
  return new Command('tree')
    .description('the namespace (or a path inside it, e.g. /jobs/sync-orders) as a tree with node kinds and short contents')
    .argument('[path]', 'path relative to the namespace', '/')
    .option('-d, --depth <n>', 'levels to show below the path (default: all)', integerOption('--depth', 0))
    .action(async (path: string, opts: { depth?: number }, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        const tree = await new FleetReader(zk, paths).tree(path, opts.depth);
        if (globals.json) printJson(tree);
        else print(renderTree(tree));
      });
    });
}

/** `├── name  kind  summary` lines, the kind column aligned; `[+N]` marks N children below the depth limit. */
export function renderTree(root: TreeNode, width = outputWidth()): string {
  const rows: Array<{ label: string; node: TreeNode }> = [];
  const walk = (node: TreeNode, prefix: string, last: boolean, top: boolean) => {
    const more = node.children === undefined && node.numChildren > 0 ? ` [+${node.numChildren}]` : '';
    const label = `${top ? node.path : `${prefix}${last ? '└── ' : '├── '}${node.name}`}${more}`;
    rows.push({ label, node });
    const children = node.children ?? [];
    const childPrefix = top ? '' : `${prefix}${last ? '    ' : '│   '}`;
    children.forEach((c, i) => walk(c, childPrefix, i === children.length - 1, false));
  };
  walk(root, '', true, true);
  const labelWidth = Math.min(Math.max(...rows.map((r) => displayWidth(r.label))), Math.floor(width / 2));
  const kindWidth = Math.max(...rows.map((r) => r.node.kind.length + (r.node.ephemeral ? 4 : 0)));
  return rows.map(({ label, node }) => {
    const kind = `${node.kind}${node.ephemeral ? ' (e)' : ''}`;
    const cut = truncate(label, labelWidth);
    const line = `${cut}${' '.repeat(labelWidth - displayWidth(cut))}  ${kind.padEnd(kindWidth)}  ${node.summary}`;
    return truncate(line.trimEnd(), width);
  }).join('\n');
}

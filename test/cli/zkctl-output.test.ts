import { describe, expect, it } from 'vitest';
import { formatDuration, formatRelative, formatTime, renderTable, truncate, wrap } from '../../src/cli/output.js';
import { renderTree } from '../../src/cli/commands/tree-command.js';
import type { TreeNode } from '../../src/api/fleet-reader.js';

describe('zkctl output', () => {
  it('renderTable aligns columns and narrows the chosen ones (then the widest) to fit', () => {
    const t = renderTable(['ID', 'N'], [['a', '1'], ['long-name', '22']], { align: ['left', 'right'], maxWidth: 100 });
    expect(t.split('\n')).toEqual(['ID          N', 'a           1', 'long-name  22']);

    const rows = [['x'.repeat(60), 'y'.repeat(60), 'short']];
    const narrowed = renderTable(['A', 'B', 'C'], rows, { maxWidth: 100, shrink: [1] });
    const lines = narrowed.split('\n');
    expect(lines.every((l) => [...l].length <= 100)).toBe(true);
    expect(lines[1]).toContain('x'.repeat(60)); // column A untouched
    expect(lines[1]).toMatch(/y+… {2}short$/);
    const widest = renderTable(['A', 'B'], [['x'.repeat(200), 'keep']], { maxWidth: 100 });
    expect([...widest.split('\n')[1]!].length).toBe(100);
    expect(widest.split('\n')[1]).toMatch(/…  keep$/);
  });

  it('wrap keeps a hanging indent; truncate marks cuts', () => {
    const text = '  FAIL  owners  one two three four five six seven eight nine ten';
    const lines = wrap(text, 30, 16).split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => l.length <= 30)).toBe(true);
    expect(lines.slice(1).every((l) => /^ {16}\S/.test(l))).toBe(true);
    expect(lines.map((l) => l.trim()).join(' ')).toBe(text.trim());
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });

  it('formats times and durations', () => {
    expect(formatTime('2026-05-01T10:00:05.000Z')).toBe('2026-05-01T10:00:05Z');
    expect(formatTime(null)).toBe('-');
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(5 * 60_000 + 7000)).toBe('5m07s');
    expect(formatDuration(2 * 3_600_000 + 13 * 60_000)).toBe('2h13m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d4h');
    const now = Date.parse('2026-05-01T10:00:00Z');
    expect(formatRelative('2026-05-01T10:00:12Z', now)).toBe('in 12s');
    expect(formatRelative('2026-05-01T09:58:00Z', now)).toBe('2m00s ago');
    expect(formatRelative('2026-05-01T10:00:00.300Z', now)).toBe('now');
  });

  it('renderTree draws branches and aligns the kind column', () => {
    const node = (path: string, kind: TreeNode['kind'], summary: string, children?: TreeNode[]): TreeNode => ({
      path, name: path.slice(path.lastIndexOf('/') + 1), kind, ephemeral: kind === 'member', version: 0, dataLength: 0, numChildren: children?.length ?? 0, summary, ...(children ? { children } : {}),
    });
    const tree = node('/ns', 'namespace', '2 children', [
      node('/ns/jobs', 'jobs', '1 child', [node('/ns/jobs/a', 'job', 'cron "* * * * * *"', [])]),
      node('/ns/workers', 'workers', '1 live member', [node('/ns/workers/m-1-0000000001', 'member', 'w1 active')]),
    ]);
    expect(renderTree(tree, 100).split('\n')).toEqual([
      '/ns                     namespace   2 children',
      '├── jobs                jobs        1 child',
      '│   └── a               job         cron "* * * * * *"',
      '└── workers             workers     1 live member',
      '    └── m-1-0000000001  member (e)  w1 active',
    ]);
  });
});

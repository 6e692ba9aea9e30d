import type { AssignmentChange } from '../../api/fleet-operator.js';
import { renderTable } from '../output.js';

/** Before/after owners per item, marking the items that move, and a summary line. */
export function renderChanges(changes: readonly AssignmentChange[], applied: boolean): string {
  const parts: string[] = [];
  for (const c of changes) {
    const n = Math.max(c.shardsBefore, c.shardsAfter);
    const rows = Array.from({ length: n }, (_, i) => {
      const before = i < c.shardsBefore ? (c.before[i] ?? '(none)') : '-';
      const after = i < c.shardsAfter ? (c.after[i] ?? '(none)') : '(removed)';
      const mark = i >= c.shardsBefore ? 'new' : i >= c.shardsAfter ? 'gone' : before !== after && c.before[i] !== null ? 'moves' : '';
      return [String(i), before, after, mark];
    });
    const shards = c.shardsBefore === c.shardsAfter ? `${c.shardsAfter} items` : `${c.shardsBefore} → ${c.shardsAfter} items`;
    parts.push(`${c.job} (${shards}): ${c.moves} item${c.moves === 1 ? '' : 's'} move`);
    parts.push(renderTable(['ITEM', 'BEFORE', 'AFTER', ''], rows, { align: ['right'] }));
  }
  const total = changes.reduce((s, c) => s + c.moves, 0);
  parts.push(applied ? `applied: ${total} item${total === 1 ? '' : 's'} move` : `dry run: ${total} item${total === 1 ? '' : 's'} would move; nothing written`);
  return parts.join('\n');
}

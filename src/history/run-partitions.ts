import type pg from 'pg';

const DAY_MS = 86_400_000;
const PARTITION_PREFIX = 'zkshard_runs_p';

/** Midnight UTC of the day holding `ms`. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** `zkshard_runs_pYYYYMMDD` of the UTC day starting at `dayMs`. */
export function partitionName(dayMs: number): string {
  return PARTITION_PREFIX + new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '');
}

/** The UTC day a partition name stands for, or undefined for another table. */
export function partitionDay(name: string): number | undefined {
  const m = /^zkshard_runs_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
}

/**
 * Creates the day partitions of `days` (midnights UTC) that do not exist yet. Workers racing to
 * create the same day are fine: the loser's "already exists" is ignored.
 */
export async function ensurePartitions(db: pg.Pool | pg.PoolClient, days: Iterable<number>): Promise<void> {
  for (const day of days) {
    const from = new Date(day).toISOString();
    const to = new Date(day + DAY_MS).toISOString();
    try {
      await db.query(`CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF zkshard_runs FOR VALUES FROM ('${from}') TO ('${to}')`);
    } catch (err) {
      // 42P07 duplicate_table, 23505 unique_violation (pg_type): another worker created it meanwhile.
      const code = (err as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw err;
    }
  }
}

/** The day partitions of `zkshard_runs`, as `{ name, day }`, oldest first. */
export async function listPartitions(db: pg.Pool | pg.PoolClient): Promise<Array<{ name: string; day: number }>> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = 'zkshard_runs' AND c.relnamespace = p.relnamespace`,
  );
  return rows
    .map((r) => ({ name: r.name, day: partitionDay(r.name) }))
    .filter((p): p is { name: string; day: number } => p.day !== undefined)
    .sort((a, b) => a.day - b.day);
}

// A downstream store that honours zkshard's fencing tokens: for each key (here: job + item) it
// remembers the largest token that wrote, and refuses a write carrying a smaller one. A run whose
// worker lost its lease (frozen process, partition) carries an older token than the run that
// replaced it, so its late writes are refused instead of overwriting newer data.
//
// In a database the same rule is one conditional statement, e.g. PostgreSQL:
//   INSERT INTO item_state (job, item, token, value) VALUES ($1, $2, $3::bigint, $4)
//   ON CONFLICT (job, item) DO UPDATE SET token = EXCLUDED.token, value = EXCLUDED.value
//   WHERE item_state.token <= EXCLUDED.token;      -- 0 rows affected = stale token: refused

export class StaleTokenError extends Error {
  constructor(key, token, current) {
    super(`stale fencing token for ${key}: ${token} < ${current}`);
    this.name = 'StaleTokenError';
    this.code = 'STALE_TOKEN';
  }
}

export class FencedStore {
  #rows = new Map(); // key -> { token: bigint, value }

  /** Writes `value` under `key` unless a larger token already wrote there. */
  write(key, token, value) {
    const t = BigInt(token); // tokens are 64-bit integers in decimal: compare them as such
    const current = this.#rows.get(key);
    if (current && t < current.token) throw new StaleTokenError(key, token, current.token);
    this.#rows.set(key, { token: t, value });
  }

  read(key) {
    return this.#rows.get(key)?.value;
  }
}

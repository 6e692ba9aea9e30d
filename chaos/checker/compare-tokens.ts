const DECIMAL = /^[0-9]+$/;

/**
 * A fencing token (a zxid as a decimal string) as a 64-bit integer. Tokens must be compared as
 * numbers, never as strings ("9" > "10" as strings).
 * @throws RangeError when `token` is not a non-negative decimal integer.
 */
export function parseToken(token: string): bigint {
  if (typeof token !== 'string' || !DECIMAL.test(token)) {
    throw new RangeError(`invalid fencing token ${JSON.stringify(token)}: expected a decimal integer`);
  }
  return BigInt(token);
}

/** Negative, zero or positive as token `a` is smaller than, equal to or larger than `b`. */
export function compareTokens(a: string, b: string): number {
  const x = parseToken(a);
  const y = parseToken(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

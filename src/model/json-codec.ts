/** Encodes a record as UTF-8 JSON for a znode. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Decodes a znode's JSON; undefined for empty or malformed data. */
export function decodeJson<T>(data: Buffer | undefined): T | undefined {
  if (!data || data.length === 0) return undefined;
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The URL schemes a PostgreSQL connection URL may have. */
const SCHEMES = new Set(['postgres:', 'postgresql:']);

/** `url` with its password replaced by `***`: what logs and error messages show. Unparsable: `<unparsable URL>`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}

/** Why `url` is not a PostgreSQL connection URL (`postgres://[user[:password]@]host[:port]/database`), or undefined when it is. */
export function postgresUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL: postgres://[user[:password]@]host[:port]/database';
  }
  if (!SCHEMES.has(parsed.protocol)) return `must start with postgres:// or postgresql://, not ${parsed.protocol}//`;
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) return 'must name a host: postgres://[user[:password]@]host[:port]/database';
  return undefined;
}

/** The console's JSON API (shapes of `zkctl --json`; docs/CONSOLE.md), as the browser calls it. */

export type Role = 'viewer' | 'operator' | 'admin';

export interface Session {
  user: string;
  role: Role;
  csrfToken: string;
  readOnly: boolean;
}

export interface ApiError {
  status: number;
  error: string;
  code?: string;
}

let csrfToken = '';

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** A request to `/api/v1/...`; actions carry the CSRF header. Rejects with an {@link ApiError}. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch (err) {
    throw { status: 0, error: `cannot reach the console: ${(err as Error).message}` } satisfies ApiError;
  }
  const text = await res.text();
  let data: any = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = { error: text };
  }
  if (!res.ok) throw { status: res.status, error: data?.error ?? res.statusText, code: data?.code } satisfies ApiError;
  return data as T;
}

export const get = <T = any>(path: string) => api<T>('GET', path);
export const post = <T = any>(path: string, body: unknown = {}) => api<T>('POST', path, body);

export function can(session: Session | null, permission: 'operate' | 'administer'): boolean {
  if (!session || session.readOnly) return false;
  return permission === 'operate' ? session.role === 'operator' || session.role === 'admin' : session.role === 'admin';
}

export interface ItemView {
  item: number;
  parameter: string | null;
  owner: string | null;
  ownerLive: boolean;
  running: boolean;
  runningOn: string | null;
  runningFire: string | null;
  disabled: boolean;
  pinnedTo: string | null;
  lastFire: string | null;
  lastCompleted: string | null;
  lastOutcome: string | null;
  lastAttempt: number | null;
  lastDurationMs: number | null;
  nextFire: string | null;
  history: Array<{ fireTime: string; outcome: string; attempt: number; worker: string; durationMs?: number; error?: string; at: string }>;
}

export interface JobView {
  name: string;
  cron: string;
  timeZone: string;
  shards: number;
  strategy: string;
  state: string;
  pins: Record<string, string>;
  generation: number | null;
  version: number;
  definition: Record<string, unknown>;
  codeMismatch: Array<{ worker: string }>;
  problems: string[];
  items: ItemView[];
}

export interface JobSummary {
  name: string;
  cron: string | null;
  timeZone: string | null;
  shards: number;
  state: string;
  disabledItems: number[];
  owned: number;
  unowned: number[];
  running: number[];
  workers: string[];
  lastFire: string | null;
  nextFire: string | null;
}

export interface WorkerView {
  id: string;
  member: string;
  host: string;
  pid: number;
  leader: boolean;
  state: string;
  drainRequested: boolean;
  items: Record<string, number[]>;
  running: Record<string, number[]>;
  jobs: string[];
  labels: Record<string, string>;
  capacity: number;
  uptimeMs: number | null;
  version: string;
}

export interface AssignmentChange {
  job: string;
  shardsBefore: number;
  shardsAfter: number;
  before: (string | null)[];
  after: (string | null)[];
  moves: number;
  applied: boolean;
}

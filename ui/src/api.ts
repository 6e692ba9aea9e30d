/** The console's JSON API (shapes of `zkctl --json`; docs/CONSOLE.md), as the browser calls it. */

// The shapes are the server's own (type-only imports: nothing of the server is bundled).
import type { ConsoleRole } from '../../src/console/console-role.js';
import type { AssignmentChange as Change } from '../../src/api/fleet-operator.js';

export type Role = ConsoleRole;

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

export type { FleetStatus, FleetWarning, ItemView, JobSummary, JobView, WorkerView } from '../../src/api/fleet-views.js';
export type { RunRow } from '../../src/history/run-query.js';
export type { AuditRow } from '../../src/history/audit-trail.js';
export type { RunOutcome } from '../../src/model/progress-record.js';
export type { HubEvent } from '../../src/console/event-hub.js';

/** A reshard's answer: the assignment change, and whether it was written. */
export type AssignmentChange = Change & { applied: boolean };

import { silentLogger } from '../../src/logging/create-logger.js';
import { ConsoleApp, type ConsoleAppOptions } from '../../src/console/console-app.js';
import { hashPassword } from '../../src/console/password-hash.js';
import type { ConsoleUser } from '../../src/console/users-file.js';
import { waitFor } from '../support/wait-for.js';

/** The test accounts (one per role); passwords are `<name>-password`. */
let users: Promise<ConsoleUser[]> | undefined;
export function testUsers(): Promise<ConsoleUser[]> {
  users ??= Promise.all((['viewer', 'operator', 'admin'] as const).map(async (role) => ({ name: role, role, passwordHash: await hashPassword(`${role}-password`) })));
  return users;
}

/** A console on a free loopback port for one test's namespace. */
export async function startConsole(connect: string, namespace: string, extra: Partial<ConsoleAppOptions> = {}): Promise<ConsoleApp> {
  const app = new ConsoleApp({ connect, namespace, users: await testUsers(), logger: silentLogger(), host: '127.0.0.1', port: 0, sessionTimeoutMs: 4000, ...extra });
  await app.start();
  return app;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A browser-like client: keeps the session cookie and the CSRF token of its login. */
export class ConsoleClient {
  cookie: string | undefined;
  csrfToken: string | undefined;

  constructor(readonly baseUrl: string) {}

  async login(username: string, password = `${username}-password`): Promise<Reply> {
    const r = await this.request('POST', '/api/v1/session', { username, password }, { csrf: false });
    const set = r.headers.get('set-cookie');
    if (r.status === 200 && set) {
      this.cookie = set.split(';')[0];
      this.csrfToken = r.body.csrfToken;
    }
    return r;
  }

  get<T = any>(path: string): Promise<Reply<T>> {
    return this.request('GET', path);
  }

  /** An action: with the CSRF header unless `csrf: false`. */
  async request<T = any>(method: string, path: string, body?: unknown, options: { csrf?: boolean } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.csrf !== false && this.csrfToken && method !== 'GET') headers['x-csrf-token'] = this.csrfToken;
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** Opens `/api/v1/events` and collects every event. */
  async events(): Promise<EventStream> {
    const controller = new AbortController();
    const res = await fetch(`${this.baseUrl}/api/v1/events`, { headers: this.cookie ? { cookie: this.cookie } : {}, signal: controller.signal });
    return new EventStream(res, controller);
  }
}

export interface SseEvent {
  event: string;
  data: any;
  at: number;
}

/** The events of one open `/api/v1/events` stream, as they arrive. */
export class EventStream {
  readonly events: SseEvent[] = [];
  ended = false;
  readonly status: number;

  constructor(res: Response, private readonly controller: AbortController) {
    this.status = res.status;
    if (res.status === 200 && res.body) void this.read(res.body);
    else this.ended = true;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) this.events.push({ event, data: JSON.parse(data), at: Date.now() });
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  /** Waits for an event matching `match` (seen from index `from` on) and returns it. */
  async waitFor(event: string, match: (data: any) => boolean = () => true, options: { timeoutMs?: number; from?: number } = {}): Promise<SseEvent> {
    let found: SseEvent | undefined;
    await waitFor(() => (found = this.events.slice(options.from ?? 0).find((e) => e.event === event && match(e.data))) !== undefined, {
      timeoutMs: options.timeoutMs ?? 15_000,
      message: `an SSE event ${event} matching ${match.toString().slice(0, 120)}`,
    });
    return found!;
  }

  close(): void {
    this.controller.abort();
  }
}

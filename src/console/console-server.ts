import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { Logger } from 'pino';
import { RUN_OUTCOMES } from '../model/progress-record.js';
import { DEFAULT_RUN_LIMIT } from '../history/run-query.js';
import { allows, roleFor, type Permission } from './console-role.js';
import type { ConsoleUser } from './users-file.js';
import { decoyHash, verifyPassword } from './password-hash.js';
import { LOGIN_FAILURES_ALLOWED_PER_ADDRESS, LoginThrottle } from './login-throttle.js';
import { SessionStore, type ConsoleSession } from './session-store.js';
import { HttpError, httpErrorOf } from './http-error.js';
import { RequestFields } from './request-fields.js';
import type { ConsoleOperations } from './console-operations.js';
import type { EventHub, HubEvent } from './event-hub.js';
import { uiDir } from './ui-dir.js';
import type { OpenJobs } from './open-jobs.js';
import { checkJobName } from '../api/fleet-reader.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'zkshard_session';
/** The header every action must carry, with the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';
/** One message for an unknown user and a wrong password. */
export const LOGIN_REFUSED = 'wrong user name or password';
/** A stream whose browser reads slower than this many bytes behind is sent `resync` instead of events. */
const SSE_MAX_BUFFERED = 1 << 20;
const SSE_HEARTBEAT_MS = 15_000;
/** Jobs one event stream may have open at once (job pages: their items are watched). */
export const MAX_OPEN_JOBS_PER_STREAM = 16;

export interface ConsoleServerOptions {
  users: readonly ConsoleUser[];
  operations: ConsoleOperations;
  events: EventHub;
  /** The jobs the browsers have open (`PUT /api/v1/events/<stream>/jobs`). */
  openJobs: OpenJobs;
  logger: Logger;
  /** Every action answers 405. */
  readOnly?: boolean;
  /** PEM certificate and key: serve HTTPS (the cookie is then `Secure`). */
  tls?: { cert: Buffer; key: Buffer };
  /** The built UI; default: `dist/ui` when built. */
  uiRoot?: string;
}

interface SseClient {
  /** Named in the stream's `hello`; the browser opens jobs with it. */
  id: string;
  session: ConsoleSession;
  /** The jobs this stream has open. */
  open: Set<string>;
  res: ServerResponse;
  /** Events were dropped for it; `resync` follows once its buffer drained. */
  lagging: boolean;
}

/**
 * The console's HTTP server: the JSON API under `/api/v1/` (session cookie, CSRF header on
 * actions, roles enforced here), Server-Sent Events at `/api/v1/events`, and the built UI.
 * `start()` listens; `close()` ends every stream and stops listening (idempotent).
 */
export class ConsoleServer {
  private app: FastifyInstance | undefined;
  private readonly sessions = new SessionStore();
  private readonly userThrottle = new LoginThrottle();
  private readonly addressThrottle = new LoginThrottle(LOGIN_FAILURES_ALLOWED_PER_ADDRESS);
  private readonly users: Map<string, ConsoleUser>;
  private readonly streams = new Set<SseClient>();
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: ConsoleServerOptions) {
    if (options.users.length === 0) throw new HttpError(500, 'CONFIG_INVALID', 'the console has no default account: give it a users file with at least one user');
    this.users = new Map(options.users.map((u) => [u.name, u]));
    this.log = options.logger.child({ component: 'console-server' });
  }

  /** Listens on `host:port` (port 0: any free port); resolves with the URL. */
  async start(host: string, port: number): Promise<string> {
    const app = this.build();
    this.app = app;
    await app.listen({ host, port });
    this.unsubscribe = this.options.events.subscribe((events) => this.broadcast(events));
    this.heartbeat = setInterval(() => {
      for (const c of this.streams) c.res.write(': keep-alive\n\n');
    }, SSE_HEARTBEAT_MS);
    this.heartbeat.unref();
    const addr = app.server.address();
    const actual = typeof addr === 'object' && addr ? addr.port : port;
    return `${this.options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${actual}`;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unsubscribe?.();
      if (this.heartbeat) clearInterval(this.heartbeat);
      for (const c of this.streams) {
        this.closeStream(c);
        c.res.end();
      }
      await this.app?.close();
    })();
    return this.closing;
  }

  private build(): FastifyInstance {
    const app = Fastify({
      logger: false,
      bodyLimit: 256 * 1024,
      ...(this.options.tls ? { https: { cert: this.options.tls.cert, key: this.options.tls.key } } : {}),
    }) as unknown as FastifyInstance;
    void app.register(fastifyCookie);

    app.addHook('onSend', async (req, reply) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      if (req.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    });
    app.setErrorHandler((err, req, reply) => {
      const { status, body } = httpErrorOf(err);
      if (status >= 500 && status !== 503 && status !== 504) this.log.error({ err, url: req.url }, 'request failed');
      if (err instanceof HttpError) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      void reply.status(status).send(body);
    });

    // ---- session ---------------------------------------------------------------------------
    app.post('/api/v1/session', async (req, reply) => {
      const body = new RequestFields(req.body, 'login', ['username', 'password']);
      const username = body.requiredString('username', 64);
      const password = body.requiredString('password', 1024);
      const wait = Math.max(this.userThrottle.retryAfterMs([username]), this.addressThrottle.retryAfterMs([req.ip]));
      if (wait > 0) throw new HttpError(429, 'LOGIN_THROTTLED', `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`, { 'retry-after': String(Math.ceil(wait / 1000)) });
      const user = this.users.get(username);
      const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
      if (!user || !ok) {
        this.userThrottle.fail([username]);
        this.addressThrottle.fail([req.ip]);
        this.log.warn({ user: username, ip: req.ip }, 'login refused');
        throw new HttpError(401, 'NOT_LOGGED_IN', LOGIN_REFUSED);
      }
      this.userThrottle.succeed([username]);
      const s = this.sessions.create(user.name, user.role);
      this.log.info({ user: user.name, role: user.role, ip: req.ip }, 'login');
      void reply.setCookie(SESSION_COOKIE, s.id, { httpOnly: true, sameSite: 'strict', secure: this.options.tls !== undefined, path: '/' });
      return { user: s.user, role: s.role, csrfToken: s.csrfToken, readOnly: this.options.readOnly === true };
    });
    app.get('/api/v1/session', async (req) => {
      const s = this.session(req);
      return { user: s.user, role: s.role, csrfToken: s.csrfToken, readOnly: this.options.readOnly === true };
    });
    app.delete('/api/v1/session', async (req, reply) => {
      const id = req.cookies[SESSION_COOKIE];
      const s = this.sessions.get(id);
      if (s) this.checkCsrf(req, s);
      this.sessions.delete(id);
      for (const c of this.streams) {
        if (c.session.id !== id) continue;
        this.closeStream(c);
        c.res.end();
      }
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { loggedOut: true };
    });

    // ---- reads (the zkctl --json shapes) ----------------------------------------------------
    const ops = this.options.operations;
    app.get('/api/v1/status', async (req) => (this.session(req), ops.status()));
    app.get('/api/v1/workers', async (req) => (this.session(req), ops.workers()));
    app.get<{ Params: { id: string } }>('/api/v1/workers/:id', async (req) => (this.session(req), ops.workers(req.params.id)));
    app.get('/api/v1/jobs', async (req) => (this.session(req), ops.jobs()));
    app.get<{ Params: { name: string } }>('/api/v1/jobs/:name', async (req) => {
      this.session(req);
      new RequestFields(req.query, 'query', ['history']).boolean('history');
      return ops.job(req.params.name);
    });
    app.get('/api/v1/runs', async (req) => {
      this.session(req);
      const q = new RequestFields(req.query, 'query', ['job', 'item', 'outcome', 'since', 'until', 'limit']);
      return ops.runs({
        job: q.string('job', 100) || undefined,
        item: q.integer('item', 0),
        outcome: q.choice('outcome', RUN_OUTCOMES),
        since: q.time('since'),
        until: q.time('until'),
        limit: q.integer('limit', 1, 100_000) ?? DEFAULT_RUN_LIMIT,
      });
    });
    app.get('/api/v1/audit', async (req) => {
      this.session(req);
      const q = new RequestFields(req.query, 'query', ['since', 'limit']);
      return ops.audit({ since: q.time('since'), limit: q.integer('limit', 1, 100_000) ?? 100 });
    });

    // ---- actions -----------------------------------------------------------------------------
    type JobReq = FastifyRequest<{ Params: { name: string } }>;
    const action = <R extends FastifyRequest>(permission: Permission, fn: (req: R, s: ConsoleSession) => Promise<unknown>) => async (req: R) => fn(req, this.authorize(req, permission));
    for (const verb of ['trigger', 'disable', 'enable'] as const) {
      app.post(`/api/v1/jobs/:name/${verb}`, action<JobReq>('operate', (req, s) => {
        const item = new RequestFields(req.body, verb, ['item']).integer('item', 0);
        return verb === 'trigger' ? ops.trigger(s, req.params.name, item) : ops.setEnabled(s, req.params.name, item, verb === 'enable');
      }));
    }
    app.post('/api/v1/jobs/:name/reshard', action<JobReq>('operate', (req, s) => {
      const b = new RequestFields(req.body, 'reshard', ['shards', 'dryRun']);
      return ops.reshard(s, req.params.name, b.requiredInteger('shards', 1, 10_000), b.boolean('dryRun'));
    }));
    app.post('/api/v1/jobs/:name/move', action<JobReq>('operate', (req, s) => {
      const b = new RequestFields(req.body, 'move', ['item', 'to']);
      return ops.move(s, req.params.name, b.requiredInteger('item', 0), b.requiredString('to', 200));
    }));
    app.post('/api/v1/jobs/:name/unpin', action<JobReq>('operate', (req, s) => ops.unpin(s, req.params.name, new RequestFields(req.body, 'unpin', ['item']).requiredInteger('item', 0))));
    type WorkerReq = FastifyRequest<{ Params: { id: string } }>;
    app.post('/api/v1/workers/:id/drain', action<WorkerReq>('operate', (req, s) => (new RequestFields(req.body, 'drain', []), ops.drain(s, req.params.id))));
    app.post('/api/v1/workers/:id/undrain', action<WorkerReq>('operate', (req, s) => (new RequestFields(req.body, 'undrain', []), ops.undrain(s, req.params.id))));
    app.post('/api/v1/rebalance', action('operate', (req, s) => ops.rebalance(s, new RequestFields(req.body, 'rebalance', ['dryRun']).boolean('dryRun'))));
    app.put('/api/v1/jobs/:name', action<JobReq>('administer', (req, s) => {
      const b = new RequestFields(req.body, 'definition', ['definition', 'dryRun', 'baseVersion']);
      if (!b.has('definition')) throw new HttpError(400, 'REQUEST_INVALID', 'definition: the request needs "definition" (a job object, or YAML text)');
      return ops.putJob(s, req.params.name, b.raw('definition'), { dryRun: b.boolean('dryRun'), baseVersion: b.integer('baseVersion', 0) });
    }));
    app.delete('/api/v1/jobs/:name', action<JobReq>('administer', (req, s) => {
      const q = new RequestFields(req.query, 'query', ['force', 'dryRun']);
      return ops.removeJob(s, req.params.name, { force: q.boolean('force'), dryRun: q.boolean('dryRun') });
    }));

    // ---- events --------------------------------------------------------------------------------
    app.get('/api/v1/events', async (req, reply) => {
      const session = this.session(req);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      const client: SseClient = { id: randomBytes(16).toString('hex'), session, open: new Set(), res, lagging: false };
      res.write(`event: hello\ndata: ${JSON.stringify({ historySource: ops.historySource, stream: client.id })}\n\n`);
      this.streams.add(client);
      req.raw.on('close', () => this.closeStream(client));
    });
    // The jobs a stream's browser has open: their items are watched (and their runs sent one by one).
    app.put<{ Params: { stream: string } }>('/api/v1/events/:stream/jobs', async (req) => {
      const s = this.session(req);
      this.checkCsrf(req, s);
      const client = [...this.streams].find((c) => c.id === req.params.stream && c.session.id === s.id);
      if (!client) throw new HttpError(404, 'NOT_FOUND', `no event stream ${JSON.stringify(req.params.stream)} of this session (GET /api/v1/events names it in its hello)`);
      const raw = new RequestFields(req.body, 'open jobs', ['jobs']).raw('jobs');
      if (!Array.isArray(raw) || raw.length > MAX_OPEN_JOBS_PER_STREAM || raw.some((j) => typeof j !== 'string')) {
        throw new HttpError(400, 'REQUEST_INVALID', `open jobs: jobs must be a list of at most ${MAX_OPEN_JOBS_PER_STREAM} job names, got ${JSON.stringify(raw)?.slice(0, 100)}`);
      }
      const jobs = new Set(raw as string[]);
      for (const j of jobs) checkJobName(j);
      for (const j of client.open) if (!jobs.has(j)) this.options.openJobs.release(j);
      for (const j of jobs) if (!client.open.has(j)) this.options.openJobs.acquire(j);
      client.open = jobs;
      return { stream: client.id, jobs: [...jobs].sort() };
    });

    // ---- the UI ------------------------------------------------------------------------------
    const root = this.options.uiRoot ?? uiDir();
    if (root) void app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: ['index.html'] });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/')) {
        if (root) return reply.type('text/html').sendFile('index.html');
        return reply.type('text/plain').send('the console UI is not built: run npm run build (the API is at /api/v1/)');
      }
      return reply.status(404).send({ error: `no such endpoint: ${req.method} ${req.url.split('?')[0]}`, code: 'NOT_FOUND' });
    });
    return app;
  }

  /** The request's session. @throws HttpError 401 without one. */
  private session(req: FastifyRequest): ConsoleSession {
    const s = this.sessions.get(req.cookies[SESSION_COOKIE]);
    if (!s) throw new HttpError(401, 'NOT_LOGGED_IN', 'not logged in (POST /api/v1/session)');
    if (!this.users.has(s.user)) {
      this.sessions.deleteUser(s.user);
      throw new HttpError(401, 'NOT_LOGGED_IN', 'not logged in (POST /api/v1/session)');
    }
    return s;
  }

  private checkCsrf(req: FastifyRequest, s: ConsoleSession): void {
    const header = req.headers[CSRF_HEADER];
    if (typeof header !== 'string' || header !== s.csrfToken) {
      throw new HttpError(403, 'CSRF_REFUSED', `refused: an action needs the header ${CSRF_HEADER} with the csrfToken of the login`);
    }
  }

  /** 401 without a session, 405 when read-only, 403 without the CSRF header or the role. */
  private authorize(req: FastifyRequest, permission: Permission): ConsoleSession {
    const s = this.session(req);
    if (this.options.readOnly) throw new HttpError(405, 'READ_ONLY', 'this console is read-only (--read-only): actions are refused', { allow: 'GET' });
    this.checkCsrf(req, s);
    if (!allows(s.role, permission)) throw new HttpError(403, 'FORBIDDEN', `${s.user} is a ${s.role}: this action needs the ${roleFor(permission)} role`);
    return s;
  }

  /** Ends a stream's hold on the jobs it had open. */
  private closeStream(c: SseClient): void {
    if (!this.streams.delete(c)) return;
    for (const j of c.open) this.options.openJobs.release(j);
    c.open.clear();
  }

  private broadcast(events: HubEvent[]): void {
    // One serialization per batch, written to each stream in one write.
    const payload = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    for (const c of this.streams) {
      if (c.res.writableLength > SSE_MAX_BUFFERED) {
        // This browser reads too slowly: drop its events, tell it to read everything again once it caught up.
        if (!c.lagging) {
          c.lagging = true;
          c.res.once('drain', () => {
            c.lagging = false;
            c.res.write('event: resync\ndata: {}\n\n');
          });
        }
        continue;
      }
      c.res.write(payload);
    }
  }
}


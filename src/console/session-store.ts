import { randomBytes } from 'node:crypto';
import type { ConsoleRole } from './console-role.js';

/** A logged-in browser. */
export interface ConsoleSession {
  id: string;
  user: string;
  role: ConsoleRole;
  csrfToken: string;
  expiresAt: number;
}

/** Idle sessions end after this; each request renews. */
export const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;
/** Most sessions kept (the oldest go first). */
const MAX_SESSIONS = 10_000;

/** Sessions in memory: a console restart logs everyone out. Ids and CSRF tokens are 256 random bits. */
export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly now: () => number = Date.now, private readonly idleMs = SESSION_IDLE_MS) {}

  create(user: string, role: ConsoleRole): ConsoleSession {
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const s: ConsoleSession = { id: randomBytes(32).toString('base64url'), user, role, csrfToken: randomBytes(32).toString('base64url'), expiresAt: this.now() + this.idleMs };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id (renewed), or undefined. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    s.expiresAt = this.now() + this.idleMs;
    return s;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** Ends every session of a user (e.g. removed from the users file). */
  deleteUser(user: string): void {
    for (const [id, s] of this.sessions) if (s.user === user) this.sessions.delete(id);
  }
}

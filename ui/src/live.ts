import { useEffect, useRef, useState } from 'preact/hooks';
import { api, get, type ApiError, type HubEvent } from './api';

/** One event of `/api/v1/events` (`resync`: this tab missed events, read everything again), with the browser time it arrived. */
export type LiveEvent = (HubEvent | { type: 'resync' }) & { at: number };

/** The job an event concerns, if any. */
export function jobOf(e: LiveEvent): string | undefined {
  return 'job' in e ? e.job : undefined;
}

type Listener = (e: LiveEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;
let connected = false;
const connectionListeners = new Set<(up: boolean) => void>();
/** This tab's stream, as its `hello` named it (a new one after each reconnect). */
let stream: string | undefined;
/** The jobs this tab has open (job pages), with how many pages hold each. */
const openJobs = new Map<string, number>();
let openTimer: ReturnType<typeof setTimeout> | 0 = 0;

const TYPES = ['assignment', 'run', 'member', 'job', 'session', 'resync', 'activity'];

/** Opens the one event stream of this tab (EventSource reconnects by itself). */
export function openEvents(): void {
  if (source) return;
  source = new EventSource('/api/v1/events');
  source.addEventListener('hello', (m) => {
    stream = (JSON.parse((m as MessageEvent).data) as { stream?: string }).stream;
    setConnected(true);
    sendOpenJobs();
  });
  source.onerror = () => setConnected(false);
  for (const type of TYPES) {
    source.addEventListener(type, (m) => {
      const data = JSON.parse((m as MessageEvent).data) as object;
      const e = { ...data, type, at: Date.now() } as LiveEvent;
      for (const l of listeners) l(e);
    });
  }
}

export function closeEvents(): void {
  source?.close();
  source = undefined;
  stream = undefined;
  setConnected(false);
}

/**
 * Tells the console which jobs this tab has open (soon after a change, and on every new stream):
 * it watches their items and sends each of their runs; other jobs' items it reads in sweeps.
 * A failure is let go: the stream's next `hello` sends the list again.
 */
function sendOpenJobs(): void {
  if (openTimer) return;
  openTimer = setTimeout(() => {
    openTimer = 0;
    if (!stream) return;
    api('PUT', `/events/${stream}/jobs`, { jobs: [...openJobs.keys()] }).catch(() => undefined);
  }, 50);
}

/** Holds `job` open while the calling component is mounted (a job page). */
export function useOpenJob(job: string): void {
  useEffect(() => {
    openJobs.set(job, (openJobs.get(job) ?? 0) + 1);
    sendOpenJobs();
    return () => {
      const n = openJobs.get(job) ?? 0;
      if (n > 1) openJobs.set(job, n - 1);
      else openJobs.delete(job);
      sendOpenJobs();
    };
  }, [job]);
}

function setConnected(up: boolean): void {
  if (connected === up) return;
  connected = up;
  for (const l of connectionListeners) l(up);
}

export function onEvent(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useConnected(): boolean {
  const [up, setUp] = useState(connected);
  useEffect(() => {
    connectionListeners.add(setUp);
    setUp(connected);
    return () => connectionListeners.delete(setUp);
  }, []);
  return up;
}

/**
 * Reads `path`, then again whenever an event `relevant` to it arrives: never two reads at once
 * (one more follows if events came meanwhile), at most one per `minIntervalMs`; and every
 * `pollMs` while the event stream is down (the fallback).
 */
export function useLive<T>(path: string | null, relevant: (e: LiveEvent) => boolean, minIntervalMs = 200, pollMs = 10_000): { data: T | undefined; error: ApiError | undefined; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const state = useRef({ inFlight: false, dirty: false, timer: 0 as unknown as ReturnType<typeof setTimeout> | 0, last: 0, path });
  const relevantRef = useRef(relevant);
  relevantRef.current = relevant;
  const up = useConnected();

  const load = useRef(() => {});
  load.current = () => {
    const s = state.current;
    if (!s.path) return;
    if (s.inFlight) {
      s.dirty = true;
      return;
    }
    const wait = s.last + minIntervalMs - Date.now();
    if (wait > 0) {
      if (!s.timer) s.timer = setTimeout(() => { s.timer = 0; load.current(); }, wait);
      return;
    }
    s.inFlight = true;
    s.last = Date.now();
    const p = s.path;
    get<T>(p).then((d) => { if (state.current.path === p) { setData(d); setError(undefined); } }, (err: ApiError) => { if (state.current.path === p) setError(err); })
      .finally(() => {
        s.inFlight = false;
        if (s.dirty) {
          s.dirty = false;
          load.current();
        }
      });
  };

  useEffect(() => {
    state.current.path = path;
    state.current.last = 0;
    setData(undefined);
    setError(undefined);
    load.current();
    return onEvent((e) => {
      if (e.type === 'resync' || (e.type === 'session' && e.state === 'up') || relevantRef.current(e)) load.current();
    });
  }, [path]);

  useEffect(() => {
    if (up) return;
    const t = setInterval(() => load.current(), pollMs);
    return () => clearInterval(t);
  }, [up, path]);

  return { data, error, reload: () => load.current() };
}

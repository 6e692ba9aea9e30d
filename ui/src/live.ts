import { useEffect, useRef, useState } from 'preact/hooks';
import { get, type ApiError } from './api';

/** One event of `/api/v1/events`. */
export interface LiveEvent {
  type: string;
  job?: string;
  item?: number;
  worker?: string;
  state?: string;
  outcome?: string;
  change?: string;
  generation?: number;
  owners?: (string | null)[];
  fireTime?: string;
  attempt?: number;
  /** Browser time it arrived. */
  at: number;
}

type Listener = (e: LiveEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;
let connected = false;
const connectionListeners = new Set<(up: boolean) => void>();

const TYPES = ['assignment', 'run', 'member', 'job', 'session', 'resync'];

/** Opens the one event stream of this tab (EventSource reconnects by itself). */
export function openEvents(): void {
  if (source) return;
  source = new EventSource('/api/v1/events');
  source.addEventListener('hello', () => setConnected(true));
  source.onerror = () => setConnected(false);
  for (const type of TYPES) {
    source.addEventListener(type, (m) => {
      const data = JSON.parse((m as MessageEvent).data) as Omit<LiveEvent, 'at'>;
      const e: LiveEvent = { ...data, type, at: Date.now() };
      for (const l of listeners) l(e);
    });
  }
}

export function closeEvents(): void {
  source?.close();
  source = undefined;
  setConnected(false);
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

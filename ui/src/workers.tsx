import { useState } from 'preact/hooks';
import { can, post, type ApiError, type Session, type WorkerView } from './api';
import { useLive } from './live';
import { duration, itemList } from './format';

const count = (m: Record<string, number[]>) => Object.values(m).reduce((n, l) => n + l.length, 0);

export function Workers({ session }: { session: Session }) {
  const { data: workers, error, reload } = useLive<WorkerView[]>('/workers', (e) => e.type === 'member' || e.type === 'assignment' || e.type === 'run' || e.type === 'activity', 300);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const operate = can(session, 'operate');
  const act = async (verb: 'drain' | 'undrain', id: string) => {
    setMessage({ text: `${verb} ${id}…`, error: false });
    try {
      const r = await post<{ moved?: Record<string, number[]> }>(`/workers/${encodeURIComponent(id)}/${verb}`);
      setMessage({ text: verb === 'drain' ? `draining ${id}: ${count(r.moved ?? {})} items to move` : `${id} takes items again`, error: false });
    } catch (err) {
      setMessage({ text: `${verb} ${id}: ${(err as ApiError).error}`, error: true });
    }
    reload();
  };
  return (
    <section aria-labelledby="workers-title">
      <h1 id="workers-title">Workers</h1>
      {error && <p role="alert" class="error">{error.error}</p>}
      {message && <p role={message.error ? 'alert' : 'status'} class={message.error ? 'error' : 'ok'}>{message.text}</p>}
      {!workers ? <p>Loading…</p> : workers.length === 0 ? <p>No live workers.</p> : (
        <table>
          <thead><tr><th scope="col">Worker</th><th scope="col">State</th><th scope="col">Host</th><th scope="col">Items</th><th scope="col">Running</th><th scope="col">Labels</th><th scope="col">Capacity</th><th scope="col">Uptime</th>{operate && <th scope="col">Actions</th>}</tr></thead>
          <tbody>
            {workers.map((w) => {
              const owned = count(w.items);
              const running = count(w.running);
              const draining = w.state === 'draining' || w.drainRequested;
              return (
                <tr key={w.member} data-worker={w.id}>
                  <th scope="row">{w.id}{w.leader ? ' (leader)' : ''}</th>
                  <td data-state>{draining ? (owned === 0 && running === 0 ? 'drained' : `draining: ${owned} items, ${running} running left`) : w.state}</td>
                  <td>{w.host} pid {w.pid}</td>
                  <td data-items={owned} title={Object.entries(w.items).map(([j, l]) => `${j}: ${itemList(l)}`).join('; ')}>{owned}</td>
                  <td>{running}</td>
                  <td>{Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '-'}</td>
                  <td>{w.capacity}</td>
                  <td>{duration(w.uptimeMs)}</td>
                  {operate && (
                    <td>
                      {w.drainRequested
                        ? <button type="button" onClick={() => act('undrain', w.id)} aria-label={`Undrain ${w.id}`}>Undrain</button>
                        : <button type="button" onClick={() => act('drain', w.id)} aria-label={`Drain ${w.id}`}>Drain</button>}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

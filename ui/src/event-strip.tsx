import { useEffect, useState } from 'preact/hooks';
import { onEvent, type LiveEvent } from './live';

function describe(e: LiveEvent): string {
  switch (e.type) {
    case 'run': return `${e.job}#${e.item} ${e.outcome ? e.outcome : 'started'} on ${e.worker}`;
    case 'assignment': return `${e.job} assignment generation ${e.generation}`;
    case 'member': return `worker ${e.worker} ${e.state}`;
    case 'job': return `job ${e.job} ${e.change}`;
    case 'session': return e.state === 'down' ? 'ZooKeeper session lost: reconnecting' : 'ZooKeeper session back';
    case 'activity': return `${e.runs} run starts and ends in ${e.jobs} jobs`;
    default: return e.type;
  }
}

/** The last events, newest first. */
export function EventStrip() {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  useEffect(() => {
    let pending: LiveEvent[] = [];
    let timer = 0;
    const off = onEvent((e) => {
      pending.push(e);
      if (!timer) timer = window.setTimeout(() => {
        timer = 0;
        const batch = pending.reverse();
        pending = [];
        setEvents((old) => [...batch, ...old].slice(0, 30));
      }, 250);
    });
    return () => { off(); clearTimeout(timer); };
  }, []);
  return (
    <aside class="strip" aria-label="Live events">
      <h2>Live events</h2>
      <div role="log" aria-live="off"><ol>
        {events.map((e, i) => (
          <li key={`${e.at}-${i}`} class={`ev ev-${e.type} ${e.type === 'run' && e.outcome && e.outcome !== 'success' ? 'bad' : ''}`}>
            <time>{new Date(e.at).toLocaleTimeString()}</time> {describe(e)}
          </li>
        ))}
      </ol></div>
    </aside>
  );
}

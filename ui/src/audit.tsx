import { useLive } from './live';
import { time } from './format';
import type { AuditRow } from './api';

export function Audit() {
  const { data: rows, error } = useLive<AuditRow[]>('/audit?limit=200', (e) => e.type === 'job' || e.type === 'member', 1000);
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit trail</h1>
      {error && <p role="alert" class="error">{error.error}</p>}
      {!rows ? <p>Loading…</p> : rows.length === 0 ? <p>No changes recorded.</p> : (
        <table>
          <thead><tr><th scope="col">At</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Result</th></tr></thead>
          <tbody>{rows.map((r, i) => <tr key={i}><td>{time(r.at)}</td><td>{r.actor}</td><td>{r.action}</td><td>{r.target}</td><td class={r.result === 'ok' ? '' : 'bad'}>{r.result}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}

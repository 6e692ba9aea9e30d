import { useState } from 'preact/hooks';
import { useLive } from './live';
import { duration, time } from './format';
import type { RunOutcome, RunRow } from './api';

/** The outcomes (the server's RUN_OUTCOMES; a value, so not imported from it). */
export const OUTCOMES: readonly RunOutcome[] = ['success', 'failed', 'timeout', 'aborted', 'interrupted', 'skipped', 'missed'];

export function Runs({ query }: { query: URLSearchParams }) {
  const [job, setJob] = useState(query.get('job') ?? '');
  const [item, setItem] = useState(query.get('item') ?? '');
  const [outcome, setOutcome] = useState(query.get('outcome') ?? '');
  const [since, setSince] = useState(query.get('since') ?? '1h');
  const [fire, setFire] = useState(query.get('fire') ?? '');
  const params = new URLSearchParams();
  if (job) params.set('job', job);
  if (item) params.set('item', item);
  if (outcome) params.set('outcome', outcome);
  if (since) params.set('since', since);
  params.set('limit', '500');
  const { data: rows, error } = useLive<RunRow[]>(`/runs?${params}`, (e) => (e.type === 'run' && e.outcome !== undefined && (!job || e.job === job)) || e.type === 'activity', 2000);
  const shown = (rows ?? []).filter((r) => !fire || r.fireId.includes(fire.trim()));
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="runs-job">Job</label><input id="runs-job" value={job} onChange={(e) => setJob(e.currentTarget.value)} />
        <label for="runs-item">Item</label><input id="runs-item" inputMode="numeric" size={4} value={item} onChange={(e) => setItem(e.currentTarget.value)} />
        <label for="runs-outcome">Outcome</label>
        <select id="runs-outcome" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)}><option value="">any</option>{OUTCOMES.map((o) => <option key={o}>{o}</option>)}</select>
        <label for="runs-since">Since</label><input id="runs-since" size={6} value={since} onChange={(e) => setSince(e.currentTarget.value)} />
        <label for="runs-fire">Fire id</label><input id="runs-fire" value={fire} onInput={(e) => setFire(e.currentTarget.value)} placeholder="job@time#item" />
      </form>
      {error && <p role="alert" class="error">{error.error}</p>}
      {!rows ? <p>Loading…</p> : shown.length === 0 ? <p>No runs match.</p> : (
        <table>
          <thead><tr><th scope="col">Fire id</th><th scope="col">Outcome</th><th scope="col">Attempt</th><th scope="col">Worker</th><th scope="col">Token</th><th scope="col">Duration</th><th scope="col">Error</th></tr></thead>
          <tbody>{shown.map((r) => (
            <tr key={`${r.fireId}-${r.attempt}-${r.outcome}`}>
              <th scope="row"><a href={`#/jobs/${encodeURIComponent(r.job)}`}>{r.job}</a>@{time(r.fireTime)}#{r.item}</th>
              <td class={r.outcome !== 'success' ? 'bad' : ''}>{r.fires > 1 ? `${r.outcome} ×${r.fires}` : r.outcome}</td>
              <td>{r.attempt || '-'}</td><td>{r.worker}</td><td>{r.fencingToken ?? '-'}</td><td>{duration(r.durationMs)}</td><td>{r.error ?? ''}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

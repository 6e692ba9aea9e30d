import { useLive } from './live';
import { itemList } from './format';
import type { FleetStatus, RunRow } from './api';

export function Overview() {
  const { data: s, error } = useLive<FleetStatus>('/status', (e) => e.type === 'member' || e.type === 'assignment' || e.type === 'job', 1000);
  const { data: runs } = useLive<RunRow[]>('/runs?since=1h&limit=1000', (e) => (e.type === 'run' && e.outcome !== undefined) || e.type === 'activity', 15_000);
  const failures = runs?.filter((r) => r.outcome !== 'success' && r.outcome !== 'skipped').length ?? 0;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      {error && <p role="alert" class="error">{error.error}</p>}
      {!s ? <p>Loading…</p> : (
        <>
          <dl class="cards">
            <div><dt>Namespace</dt><dd>{s.namespace}</dd></div>
            <div><dt>Leader</dt><dd>{s.leader ? s.leader.id : 'none: no live worker'}</dd></div>
            <div><dt>Workers</dt><dd>{s.workers.total} live ({s.workers.active} active, {s.workers.draining} draining)</dd></div>
            <div><dt>Jobs</dt><dd>{s.jobs.length} ({s.jobs.filter((j) => j.state === 'disabled').length} disabled)</dd></div>
            <div><dt>Unowned items</dt><dd>{s.unowned.reduce((n, u) => n + u.items.length, 0)}</dd></div>
            <div><dt>Runs, last hour</dt><dd>{runs ? `${runs.length}${runs.length >= 1000 ? '+' : ''} (${failures} not successful)` : '…'}</dd></div>
            <div><dt>Clock skew</dt><dd>{s.clock ? `${s.clock.skewMs} ms ±${s.clock.uncertaintyMs}` : 'not measured'}</dd></div>
          </dl>
          <h2>Items without an owner</h2>
          {s.unowned.length === 0 ? <p>None.</p> : <ul>{s.unowned.map((u) => <li key={u.job}><a href={`#/jobs/${encodeURIComponent(u.job)}`}>{u.job}</a>: {itemList(u.items)}</li>)}</ul>}
          <h2>Warnings</h2>
          {s.warnings.length === 0 ? <p>None.</p> : <ul class="warnings">{s.warnings.map((w, i) => <li key={i}><strong>{w.kind}</strong> {w.message}</li>)}</ul>}
        </>
      )}
    </section>
  );
}

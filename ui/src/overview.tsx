import { useLive } from './live';
import { itemList } from './format';
import type { FleetStatus, FleetWarning, RunRow } from './api';

/** Unowned jobs and warnings shown at most (a sick fleet of 1,000 jobs has thousands). */
const SHOWN = 50;

/** "2000 owner-gone, 3 stale-marker": the warnings by kind. */
function kinds(warnings: readonly FleetWarning[]): string {
  const n = new Map<string, number>();
  for (const w of warnings) n.set(w.kind, (n.get(w.kind) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${c} ${k}`).join(', ');
}

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
            <div><dt>Runs, last hour</dt><dd aria-busy={runs === undefined}>{runs ? `${runs.length}${runs.length >= 1000 ? '+' : ''} (${failures} not successful)` : '…'}</dd></div>
            <div><dt>Clock skew</dt><dd>{s.clock ? `${s.clock.skewMs} ms ±${s.clock.uncertaintyMs}` : 'not measured'}</dd></div>
          </dl>
          <h2>Items without an owner</h2>
          {s.unowned.length === 0 ? <p>None.</p> : <ul>{s.unowned.slice(0, SHOWN).map((u) => <li key={u.job}><a href={`#/jobs/${encodeURIComponent(u.job)}`}>{u.job}</a>: {itemList(u.items)}</li>)}</ul>}
          {s.unowned.length > SHOWN && <p>… and {s.unowned.length - SHOWN} more jobs (<code>zkctl status</code> lists all).</p>}
          <h2>Warnings</h2>
          {s.warnings.length === 0 ? <p>None.</p> : <ul class="warnings">{s.warnings.slice(0, SHOWN).map((w, i) => <li key={i}><strong>{w.kind}</strong> {w.message}</li>)}</ul>}
          {s.warnings.length > SHOWN && <p>… and {s.warnings.length - SHOWN} more ({kinds(s.warnings)}; <code>zkctl status</code> lists all).</p>}
        </>
      )}
    </section>
  );
}

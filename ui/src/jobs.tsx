import { useMemo, useState } from 'preact/hooks';
import { useLive } from './live';
import type { JobSummary, RunOutcome } from './api';
import { describeCron, relative } from './format';
import { OUTCOMES } from './runs';

const PAGE = 200;

/** "6 success, 2 failed": how many items ended their last run how (most first). */
function outcomesText(o: JobSummary['lastOutcomes']): string {
  const parts = (Object.entries(o) as Array<[RunOutcome, number]>).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`);
  return parts.length ? parts.join(', ') : '-';
}

/**
 * Jobs: search by name or fire id (`<job>@<time>#<item>`), filter by state and by the last outcome
 * of the items (jobs with at least one item whose last run ended so; `#/jobs?outcome=failed`);
 * the first {@link PAGE} matches shown.
 */
export function Jobs({ query }: { query: URLSearchParams }) {
  const { data: jobs, error } = useLive<JobSummary[]>('/jobs', (e) => e.type === 'job' || e.type === 'assignment' || e.type === 'run' || e.type === 'activity', 1000);
  const [search, setSearch] = useState(query.get('q') ?? '');
  const [state, setState] = useState(query.get('state') ?? '');
  const [outcome, setOutcome] = useState(query.get('outcome') ?? '');
  const now = Date.now();
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    const fire = /^([a-z0-9][a-z0-9-_.]*)@(.+)#(\d+)$/.exec(q);
    return (jobs ?? []).filter((j) => (!q || (fire ? j.name === fire[1] : j.name.includes(q))) && (!state || j.state === state)
      && (!outcome || (j.lastOutcomes[outcome as RunOutcome] ?? 0) > 0));
  }, [jobs, search, state, outcome]);
  const fire = /^([a-z0-9][a-z0-9-_.]*)@(.+)#(\d+)$/.exec(search.trim());
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      {error && <p role="alert" class="error">{error.error}</p>}
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="job-search">Search by name or fire id</label>
        <input id="job-search" type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} placeholder="sync-orders or sync-orders@2026-05-20T10:00:00.000Z#3" />
        <label for="job-state">State</label>
        <select id="job-state" value={state} onChange={(e) => setState(e.currentTarget.value)}>
          <option value="">any</option>
          <option value="enabled">enabled</option>
          <option value="partial">partly disabled</option>
          <option value="disabled">disabled</option>
          <option value="invalid">invalid</option>
        </select>
        <label for="job-outcome">An item's last outcome</label>
        <select id="job-outcome" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)}>
          <option value="">any</option>
          {OUTCOMES.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
        {fire && <a href={`#/runs?job=${encodeURIComponent(fire[1]!)}&item=${fire[3]}&fire=${encodeURIComponent(search.trim())}`}>Find this run</a>}
      </form>
      {!jobs ? <p>Loading…</p> : (
        <>
          <p class="count">{shown.length} of {jobs.length} jobs{shown.length > PAGE ? ` (first ${PAGE} shown: narrow the search)` : ''}</p>
          <table>
            <thead><tr><th scope="col">Job</th><th scope="col">State</th><th scope="col">Schedule</th><th scope="col">Items</th><th scope="col">Owned</th><th scope="col">Running</th><th scope="col">Workers</th><th scope="col">Last fire</th><th scope="col">Next fire</th><th scope="col">Last outcomes</th></tr></thead>
            <tbody>
              {shown.slice(0, PAGE).map((j) => (
                <tr key={j.name}>
                  <th scope="row"><a href={`#/jobs/${encodeURIComponent(j.name)}`}>{j.name}</a></th>
                  <td><span class={`state ${j.state}`}>{j.state}</span></td>
                  <td title={`${j.cron ?? ''} ${j.timeZone ?? ''}`}>{describeCron(j.cron)} <code>{j.cron}</code></td>
                  <td>{j.shards}</td>
                  <td>{j.owned}{j.unowned.length > 0 ? <span class="bad"> ({j.unowned.length} unowned)</span> : null}</td>
                  <td>{j.running.length}</td>
                  <td>{j.workers.length}</td>
                  <td>{relative(j.lastFire, now)}</td>
                  <td>{relative(j.nextFire, now)}</td>
                  <td data-outcomes class={Object.keys(j.lastOutcomes).some((k) => k !== 'success' && k !== 'skipped') ? 'bad' : ''}>{outcomesText(j.lastOutcomes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

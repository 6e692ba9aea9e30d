import { useState } from 'preact/hooks';
import { api, can, post, type ApiError, type AssignmentChange, type JobView, type Session, type WorkerView } from './api';
import { jobOf, useLive, useOpenJob } from './live';
import { describeCron, duration, time } from './format';

/** Runs an action, reporting its outcome (or error) in the page's status line. */
function useAction(): { message: { text: string; error: boolean } | null; run: (what: string, fn: () => Promise<unknown>) => Promise<boolean> } {
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  return {
    message,
    run: async (what, fn) => {
      setMessage({ text: `${what}…`, error: false });
      try {
        await fn();
        setMessage({ text: `${what}: done`, error: false });
        return true;
      } catch (err) {
        setMessage({ text: `${what}: ${(err as ApiError).error}`, error: true });
        return false;
      }
    },
  };
}

export function JobPage({ name, session }: { name: string; session: Session }) {
  const path = `/jobs/${encodeURIComponent(name)}`;
  useOpenJob(name);
  const { data: job, error, reload } = useLive<JobView>(path, (e) => jobOf(e) === name || e.type === 'member', 150);
  const { data: workers } = useLive<WorkerView[]>('/workers', (e) => e.type === 'member', 1000);
  const action = useAction();
  const operate = can(session, 'operate');
  const administer = can(session, 'administer');
  const act = (what: string, verb: string, body: unknown = {}) => action.run(what, () => post(`${path}/${verb}`, body)).then(reload);

  if (error) return <section><h1>Job {name}</h1><p role="alert" class="error">{error.error}</p></section>;
  if (!job) return <section><h1>Job {name}</h1><p>Loading…</p></section>;
  const candidates = (workers ?? []).filter((w) => w.jobs.includes(name) && w.state === 'active');
  return (
    <section aria-labelledby="job-title">
      <h1 id="job-title">Job {job.name} <span class={`state ${job.state}`}>{job.state}</span></h1>
      <dl class="fields">
        <dt>Schedule</dt><dd>{describeCron(job.cron)} (<code>{job.cron}</code>, {job.timeZone})</dd>
        <dt>Items</dt><dd>{job.shards}, strategy {job.strategy}</dd>
        <dt>Assignment</dt><dd>{job.generation === null ? 'none yet' : `generation ${job.generation}`}</dd>
        <dt>Definition version</dt><dd>{job.version}</dd>
        {job.problems.length > 0 && <><dt>Problems</dt><dd class="bad">{job.problems.join('; ')}</dd></>}
      </dl>
      {operate && (
        <div class="toolbar" role="group" aria-label="Job actions">
          <button type="button" onClick={() => act(`trigger ${name}`, 'trigger')}>Trigger all items</button>
          {job.state === 'disabled'
            ? <button type="button" onClick={() => act(`enable ${name}`, 'enable')}>Enable job</button>
            : <button type="button" onClick={() => act(`disable ${name}`, 'disable')}>Disable job</button>}
        </div>
      )}
      {action.message && <p role="status" class={action.message.error ? 'error' : 'ok'}>{action.message.text}</p>}
      <h2>Items</h2>
      <table class="grid" aria-label={`Items of ${name}`}>
        <thead><tr><th scope="col">Item</th><th scope="col">Parameter</th><th scope="col">Owner</th><th scope="col">State</th><th scope="col">Last fire</th><th scope="col">Outcome</th><th scope="col">Duration</th><th scope="col">Next fire</th><th scope="col">Fencing token</th>{operate && <th scope="col">Actions</th>}</tr></thead>
        <tbody>
          {job.items.map((i) => (
            <tr key={i.item} data-item={i.item} class={i.running ? 'running' : ''}>
              <th scope="row">{i.item}</th>
              <td>{i.parameter ?? '-'}</td>
              <td data-owner>{i.owner === null ? <span class="bad">none</span> : i.owner}{i.owner !== null && !i.ownerLive ? ' (gone)' : ''}{i.pinnedTo ? <span class="pin"> pinned to {i.pinnedTo}</span> : null}</td>
              <td>{i.disabled ? 'disabled' : i.running ? `running on ${i.runningOn ?? '?'}` : 'idle'}</td>
              <td>{time(i.lastCompleted ?? i.lastFire)}</td>
              <td class={i.lastOutcome && i.lastOutcome !== 'success' ? 'bad' : ''}>{i.lastOutcome ?? '-'}{i.lastAttempt && i.lastAttempt > 1 ? ` (attempt ${i.lastAttempt})` : ''}</td>
              <td>{duration(i.lastDurationMs)}</td>
              <td>{i.disabled ? '-' : time(i.nextFire)}</td>
              <td data-token title={i.fencingToken ? 'the fencing token of the run in progress (ctx.fencingToken)' : undefined}>{i.fencingToken ?? '-'}</td>
              {operate && (
                <td class="row-actions">
                  <button type="button" onClick={() => act(`trigger item ${i.item}`, 'trigger', { item: i.item })} aria-label={`Trigger item ${i.item}`}>Trigger</button>
                  {i.disabled
                    ? <button type="button" onClick={() => act(`enable item ${i.item}`, 'enable', { item: i.item })} aria-label={`Enable item ${i.item}`}>Enable</button>
                    : <button type="button" onClick={() => act(`disable item ${i.item}`, 'disable', { item: i.item })} aria-label={`Disable item ${i.item}`}>Disable</button>}
                  {i.pinnedTo
                    ? <button type="button" onClick={() => act(`unpin item ${i.item}`, 'unpin', { item: i.item })} aria-label={`Unpin item ${i.item}`}>Unpin</button>
                    : <MoveControl item={i.item} workers={candidates.map((w) => w.id).filter((w, k, all) => all.indexOf(w) === k)} onMove={(to) => act(`move item ${i.item} to ${to}`, 'move', { item: i.item, to })} />}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {operate && <Reshard name={name} shards={job.shards} onDone={reload} />}
      {administer && <DefinitionEditor job={job} onDone={reload} />}
      <History job={job} />
    </section>
  );
}

function MoveControl({ item, workers, onMove }: { item: number; workers: string[]; onMove: (to: string) => void }) {
  const [to, setTo] = useState('');
  const id = `move-${item}`;
  return (
    <span class="move">
      <label for={id} class="visually-hidden">Move item {item} to worker</label>
      <select id={id} value={to} onChange={(e) => setTo(e.currentTarget.value)}>
        <option value="">pin to…</option>
        {workers.map((w) => <option key={w} value={w}>{w}</option>)}
      </select>
      <button type="button" disabled={!to} onClick={() => onMove(to)} aria-label={`Move item ${item}`}>Move</button>
    </span>
  );
}

function Reshard({ name, shards, onDone }: { name: string; shards: number; onDone: () => void }) {
  const [value, setValue] = useState(String(shards));
  const [plan, setPlan] = useState<AssignmentChange | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const path = `/jobs/${encodeURIComponent(name)}/reshard`;
  const preview = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    try {
      setPlan(await post<AssignmentChange>(path, { shards: Number(value), dryRun: true }));
    } catch (err) {
      setPlan(null);
      setMessage({ text: (err as ApiError).error, error: true });
    }
  };
  const apply = async () => {
    try {
      const done = await post<AssignmentChange>(path, { shards: plan!.shardsAfter, dryRun: false });
      setMessage({ text: `resharded to ${done.shardsAfter} items: ${done.moves} moved`, error: false });
      setPlan(null);
      onDone();
    } catch (err) {
      setMessage({ text: (err as ApiError).error, error: true });
    }
  };
  const n = plan ? Math.max(plan.shardsBefore, plan.shardsAfter) : 0;
  return (
    <section aria-labelledby="reshard-title" class="panel">
      <h2 id="reshard-title">Reshard</h2>
      <form onSubmit={preview}>
        <label for="reshard-shards">Number of items</label>
        <input id="reshard-shards" type="number" min={1} max={10000} value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit">Preview</button>
      </form>
      {plan && (
        <div class="diff">
          <p>{plan.shardsBefore} → {plan.shardsAfter} items; {plan.moves} item{plan.moves === 1 ? '' : 's'} would move. Nothing is written until you apply.</p>
          <table aria-label="Reshard preview">
            <thead><tr><th scope="col">Item</th><th scope="col">Before</th><th scope="col">After</th><th scope="col">Change</th></tr></thead>
            <tbody>
              {Array.from({ length: n }, (_, i) => {
                const before = i < plan.shardsBefore ? (plan.before[i] ?? '(none)') : '-';
                const after = i < plan.shardsAfter ? (plan.after[i] ?? '(none)') : '(removed)';
                const mark = i >= plan.shardsBefore ? 'new' : i >= plan.shardsAfter ? 'gone' : before !== after ? 'moves' : '';
                return <tr key={i} class={mark}><th scope="row">{i}</th><td>{before}</td><td>{after}</td><td>{mark}</td></tr>;
              })}
            </tbody>
          </table>
          <button type="button" onClick={apply}>Apply reshard to {plan.shardsAfter} items</button>
          <button type="button" onClick={() => setPlan(null)}>Cancel</button>
        </div>
      )}
      {message && <p role={message.error ? 'alert' : 'status'} class={message.error ? 'error' : 'ok'}>{message.text}</p>}
    </section>
  );
}

function DefinitionEditor({ job, onDone }: { job: JobView; onDone: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [base, setBase] = useState(job.version);
  const [diff, setDiff] = useState<Array<[string, { from: unknown; to: unknown }]> | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const path = `/jobs/${encodeURIComponent(job.name)}`;
  const open = () => {
    setText(JSON.stringify(job.definition, null, 2));
    setBase(job.version);
    setDiff(null);
    setMessage(null);
  };
  const send = async (dryRun: boolean) => {
    setMessage(null);
    try {
      const r = await api<{ jobs: Array<{ changes: Record<string, { from: unknown; to: unknown }> }>; written: boolean }>('PUT', path, { definition: text, dryRun, baseVersion: base });
      if (dryRun) setDiff(Object.entries(r.jobs[0]?.changes ?? {}));
      else {
        setMessage({ text: r.written ? 'definition saved' : 'nothing changed', error: false });
        setText(null);
        setDiff(null);
        onDone();
      }
    } catch (err) {
      setDiff(null);
      setMessage({ text: (err as ApiError).error, error: true });
    }
  };
  return (
    <section aria-labelledby="def-title" class="panel">
      <h2 id="def-title">Definition</h2>
      {text === null ? <button type="button" onClick={open}>Edit definition</button> : (
        <>
          <label for="def-text">Job definition (YAML or JSON, the worker config's job schema; handler and command are never changed here)</label>
          <textarea id="def-text" rows={16} spellcheck={false} value={text} onInput={(e) => { setText(e.currentTarget.value); setDiff(null); }} />
          <div class="toolbar">
            <button type="button" onClick={() => send(true)}>Check and show changes</button>
            <button type="button" disabled={diff === null} onClick={() => send(false)}>Save</button>
            <button type="button" onClick={() => setText(null)}>Cancel</button>
          </div>
          {diff && (diff.length === 0 ? <p role="status">No changes.</p> : (
            <table aria-label="Definition changes"><thead><tr><th scope="col">Key</th><th scope="col">From</th><th scope="col">To</th></tr></thead>
              <tbody>{diff.map(([k, c]) => <tr key={k}><th scope="row">{k}</th><td><code>{JSON.stringify(c.from)}</code></td><td><code>{JSON.stringify(c.to)}</code></td></tr>)}</tbody></table>
          ))}
        </>
      )}
      {message && <p role={message.error ? 'alert' : 'status'} class={message.error ? 'error' : 'ok'}>{message.text}</p>}
    </section>
  );
}

function History({ job }: { job: JobView }) {
  const rows = job.items.flatMap((i) => i.history.map((h) => ({ item: i.item, ...h }))).sort((a, b) => (a.fireTime < b.fireTime ? 1 : -1)).slice(0, 50);
  return (
    <section aria-labelledby="hist-title">
      <h2 id="hist-title">Recent runs</h2>
      {rows.length === 0 ? <p>No runs recorded yet (ZooKeeper keeps the last 10 per item; <a href={`#/runs?job=${encodeURIComponent(job.name)}`}>all runs</a>).</p> : (
        <table>
          <thead><tr><th scope="col">Item</th><th scope="col">Fire</th><th scope="col">Outcome</th><th scope="col">Attempt</th><th scope="col">Worker</th><th scope="col">Duration</th><th scope="col">Error</th></tr></thead>
          <tbody>{rows.map((r, k) => <tr key={k}><td>{r.item}</td><td>{time(r.fireTime)}</td><td class={r.outcome !== 'success' ? 'bad' : ''}>{r.outcome}</td><td>{r.attempt || '-'}</td><td>{r.worker}</td><td>{duration(r.durationMs)}</td><td>{r.error ?? ''}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}

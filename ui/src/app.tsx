import { useEffect, useState } from 'preact/hooks';
import { api, get, setCsrfToken, type ApiError, type Session } from './api';
import { closeEvents, openEvents, useConnected } from './live';
import { Login } from './login';
import { Overview } from './overview';
import { Jobs } from './jobs';
import { JobPage } from './job-page';
import { Workers } from './workers';
import { Runs } from './runs';
import { Audit } from './audit';
import { EventStrip } from './event-strip';

/** `#/jobs/orders?x=1` → ['jobs', 'orders'] and the query. */
function useRoute(): { parts: string[]; query: URLSearchParams } {
  const read = () => {
    const [path, q] = (location.hash.replace(/^#/, '') || '/').split('?');
    return { parts: path!.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q ?? '') };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const PAGES = [
  ['', 'Overview'],
  ['jobs', 'Jobs'],
  ['workers', 'Workers'],
  ['runs', 'Runs'],
  ['audit', 'Audit'],
] as const;

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useRoute();
  const connected = useConnected();

  useEffect(() => {
    get<Session>('/session').then(
      (s) => { setCsrfToken(s.csrfToken); setSession(s); },
      (err: ApiError) => setSession(err.status === 401 ? null : null),
    );
  }, []);
  useEffect(() => {
    if (session) openEvents();
    else closeEvents();
  }, [session]);

  if (session === undefined) return <main><p>Loading…</p></main>;
  if (session === null) return <Login onLogin={(s) => { setCsrfToken(s.csrfToken); setSession(s); }} />;

  const logout = async () => {
    await api('DELETE', '/session').catch(() => undefined);
    setCsrfToken('');
    setSession(null);
  };
  const [page, arg] = route.parts;
  const current = page ?? '';
  let body;
  if (current === 'jobs' && arg) body = <JobPage name={arg} session={session} />;
  else if (current === 'jobs') body = <Jobs query={route.query} />;
  else if (current === 'workers') body = <Workers session={session} />;
  else if (current === 'runs') body = <Runs query={route.query} />;
  else if (current === 'audit') body = <Audit />;
  else body = <Overview />;

  return (
    <>
      <header>
        <a class="skip" href="#main-content" onClick={(e) => { e.preventDefault(); document.getElementById('main-content')?.focus(); }}>Skip to content</a>
        <span class="brand">zkshard</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map(([p, label]) => (
              <li key={p}><a href={`#/${p}`} aria-current={current === p ? 'page' : undefined}>{label}</a></li>
            ))}
          </ul>
        </nav>
        <span class={`conn ${connected ? 'up' : 'down'}`} role="status">{connected ? 'live' : 'reconnecting…'}</span>
        <span class="who">{session.user} ({session.role}{session.readOnly ? ', read-only' : ''})</span>
        <button type="button" onClick={logout}>Log out</button>
      </header>
      <main id="main-content" tabIndex={-1}>{body}</main>
      <EventStrip />
    </>
  );
}

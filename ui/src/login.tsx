import { useState } from 'preact/hooks';
import { post, type ApiError, type Session } from './api';

export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onLogin(await post<Session>('/session', { username, password }));
    } catch (err) {
      setError((err as ApiError).error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>zkshard console</h1>
      <form onSubmit={submit}>
        <label for="username">User name</label>
        <input id="username" name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
        <button type="submit" disabled={busy}>Log in</button>
        {error && <p role="alert" class="error">{error}</p>}
      </form>
    </main>
  );
}

import { describe } from 'vitest';
import zookeeper from 'node-zookeeper-client';
import { ZkClient } from '../../src/zk/zk-client.js';
import type { ZkSession } from '../../src/zk/zk-session.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { zkConnect } from '../support/zk-connect.js';
import { uniqueNamespace } from '../support/zk-namespace.js';
import { removeTree } from '../support/zk-test-client.js';
import type { SessionState } from '../../src/zk/session-state.js';
import { waitFor } from '../support/wait-for.js';
import { zkConformanceSuite, type ConformanceTarget } from './zk-conformance.js';

/**
 * Forces the server to expire a real session at once: a second connection takes the session over
 * with its id and password and closes it (the only way to end another client's session on demand).
 */
async function expireOnServer(zk: ZkClient): Promise<void> {
  const lib = (zk as unknown as { client: zookeeper.Client }).client;
  const sessionId = lib.getSessionId();
  const sessionPassword = lib.getSessionPassword();
  const expired = (): boolean => (zk.state as SessionState) === 'expired';
  for (let attempt = 0; !expired() && attempt < 20; attempt++) {
    const twin = zookeeper.createClient(zk.connectString, { sessionId, sessionPassword, sessionTimeout: zk.sessionTimeoutMs, retries: 0 } as never);
    await new Promise<void>((resolve) => {
      twin.on('state', (s) => {
        if (s === zookeeper.State.SYNC_CONNECTED) twin.close();
        else resolve();
      });
      twin.connect();
    });
    twin.close();
    // The original client may have reconnected first and taken the session back: then ask again.
    await waitFor(() => expired() || zk.state === 'reconnected', { timeoutMs: 5000, intervalMs: 5, message: 'the twin to end the session' });
  }
}

async function realTarget(): Promise<ConformanceTarget> {
  const connect = zkConnect();
  const root = `/${uniqueNamespace('conformance')}`;
  const sessions: ZkClient[] = [];
  const open = async (options: { sessionTimeoutMs?: number } = {}): Promise<ZkSession> => {
    const zk = new ZkClient({ connect, sessionTimeoutMs: options.sessionTimeoutMs ?? 4000, logger: silentLogger() });
    sessions.push(zk);
    await zk.start();
    return zk;
  };
  const admin = (await open()) as ZkClient;
  await admin.create(root);
  return {
    root,
    open,
    expire: (session) => expireOnServer(session as ZkClient),
    disconnect: (session) => (session as unknown as { cm: { socket: { destroy(): void } } }).cm.socket.destroy(),
    close: async () => {
      await Promise.all(sessions.filter((s) => s !== admin).map((s) => s.close()));
      await removeTree(admin, root);
      await admin.close();
    },
  };
}

describe('ZooKeeper conformance: ZkClient on a real server', () => {
  zkConformanceSuite(realTarget);
});

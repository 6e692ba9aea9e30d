/**
 * Values the global setup (`global-setup.ts`) provides to every test file through `inject()`.
 * Importing this module (directly or through `zk-connect.ts`) types `inject('zkConnect')`.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    /** Connect string of the ZooKeeper shared by the whole run, e.g. `127.0.0.1:41234`. */
    zkConnect: string;
    /** Where that ZooKeeper came from: `ZKSHARD_ZK`/`ZK_CONNECT`, a container, or a local JVM. */
    zkKind: 'env' | 'container' | 'local';
    /** URL of the PostgreSQL shared by the run (a database tests may create databases from). */
    pgUrl: string;
  }
}

export {};

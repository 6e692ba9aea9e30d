/*
 * TLS to ZooKeeper's `secureClientPort`. node-zookeeper-client 1.1.3 only opens plain `net`
 * sockets; its protocol code only needs a duplex stream, so we replace its `connect` on one
 * connection manager with the same steps over `tls.connect`, and start the ZooKeeper handshake once
 * the TLS handshake is done (`secureConnect`). The server's certificate is checked against `ca`
 * and the host name (or IP address) of the connect string.
 */
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';

/** TLS settings of a client (`zookeeper.tls` in a worker config). */
export interface ZkTlsOptions {
  /** PEM of the CA(s) that signed the servers' certificates. */
  ca: string | Buffer;
  /** PEM client certificate and key, for servers with `ssl.clientAuth=need` (optional). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to check the servers' certificates against. @default the host of the connect string */
  servername?: string;
}

/** `{ caFile, certFile?, keyFile? }` read into {@link ZkTlsOptions}. */
export function readTlsFiles(files: { caFile: string; certFile?: string; keyFile?: string }): ZkTlsOptions {
  return {
    ca: readFileSync(files.caFile),
    ...(files.certFile ? { cert: readFileSync(files.certFile) } : {}),
    ...(files.keyFile ? { key: readFileSync(files.keyFile) } : {}),
  };
}

/** The library's connection manager, as far as the TLS connect needs it. */
interface ConnectionManagerSocketInternals {
  socket?: unknown;
  connectTimeout: number;
  connectTimeoutHandler?: NodeJS.Timeout;
  setState(state: number): void;
  findNextServer(cb: (server: { host: string; port: number }) => void): void;
  onSocketConnectTimeout(): void;
  onSocketConnected(): void;
  onSocketData(buffer: Buffer): void;
  onSocketDrain(): void;
  onSocketClosed(hadError: boolean): void;
  onSocketError(error: Error): void;
  connect(): void;
}

/** The library's CONNECTING state. */
const CONNECTING = 1;

/**
 * Makes the connection manager `cm` open TLS sockets. `onError` sees every socket error (a
 * certificate refused, a plain server on the port), so that a failed start can say why.
 */
export function useTls(cm: unknown, options: ZkTlsOptions, onError: (err: Error) => void): void {
  const m = cm as ConnectionManagerSocketInternals;
  m.connect = function connect(this: ConnectionManagerSocketInternals) {
    this.setState(CONNECTING);
    this.findNextServer((server) => {
      const socket: TLSSocket = tlsConnect({
        host: server.host,
        port: server.port,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        servername: options.servername ?? (isIP(server.host) ? undefined : server.host),
      });
      this.socket = socket;
      this.connectTimeoutHandler = setTimeout(this.onSocketConnectTimeout.bind(this), this.connectTimeout);
      socket.setNoDelay();
      socket.on('secureConnect', this.onSocketConnected.bind(this));
      socket.on('data', this.onSocketData.bind(this));
      socket.on('drain', this.onSocketDrain.bind(this));
      socket.on('close', this.onSocketClosed.bind(this));
      socket.on('error', (err: Error) => {
        onError(err);
        this.onSocketError(err);
      });
    });
  };
}

/*
 * Multis through node-zookeeper-client without its per-field records (see multi-codec.ts): the
 * frame is encoded by us and queued on the library's connection as a request of its own kind (the
 * library only reads a request's header and asks it for its bytes), and the library's decoder of
 * multi replies is replaced by ours. What the library does with the request otherwise — its xid,
 * its place in the pending queue, its callback, a connection loss — is unchanged.
 */
import { createRequire } from 'node:module';
import zookeeper from 'node-zookeeper-client';
import { decodeMultiReply, OP, setXid, type MultiResult } from './multi-codec.js';

interface LibraryPath {
  validate(path: string): void;
}

interface LibraryTransactionResponse {
  results: MultiResult[];
  chrootPath: string | undefined;
}

interface LibraryJute {
  TransactionResponse: { prototype: { deserialize(this: LibraryTransactionResponse, buffer: Buffer, offset: number): number } };
}

const requireLibrary = createRequire(import.meta.url);
const libraryPath = requireLibrary('node-zookeeper-client/lib/Path.js') as LibraryPath;
const libraryJute = requireLibrary('node-zookeeper-client/lib/jute/index.js') as LibraryJute;

/** What `queueMulti` needs of the library's ConnectionManager. */
export interface MultiQueue {
  queue(request: unknown, callback: (error: unknown, response?: { payload: { results: MultiResult[] } | null }) => void): void;
}

/**
 * The library's own check of every path of a multi (its messages: "Node path must not contain empty
 * node name."), thrown as the library throws it: call it before anything is encoded or sent.
 */
export function validateMultiPaths(paths: Iterable<string>): void {
  for (const path of paths) libraryPath.validate(path);
}

/**
 * Queues a multi encoded by `encodeMulti` on the library's connection; `callback` gets the error of
 * the first op that failed (as the library's `Transaction.commit` gives it), and the results. Its
 * paths must have passed {@link validateMultiPaths}.
 */
export function queueMulti(cm: MultiQueue, frame: Buffer, callback: (error: unknown, results?: MultiResult[]) => void): void {
  const request = {
    header: { xid: 0, type: OP.multi },
    payload: null,
    toBuffer(): Buffer {
      setXid(frame, request.header.xid);
      return frame;
    },
  };
  cm.queue(request, (error, response) => {
    if (error) return callback(error);
    const results = response?.payload?.results ?? [];
    const failed = results.find((r) => r.type === OP.error && r.err !== 0);
    callback(failed ? libraryException.create(failed.err!) : undefined, results);
  });
}

/** The library's exception module, looked up at call time (`patchUnknownErrorCodes` wraps its `create`). */
const libraryException = zookeeper.Exception as unknown as { create(code: number): Error };

let patched = false;

/** Makes the library decode every multi reply with `decodeMultiReply` (results carry a decoded `ZkStat`). Idempotent. */
export function patchMultiReplies(): void {
  if (patched) return;
  patched = true;
  libraryJute.TransactionResponse.prototype.deserialize = function deserialize(buffer: Buffer, offset: number): number {
    const { results, bytes } = decodeMultiReply(buffer, offset, this.chrootPath ?? '');
    this.results = results;
    return bytes;
  };
}

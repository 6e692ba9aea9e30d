import { describe, expect, it } from 'vitest';
import { nextReplyXid } from '../../src/zk/reply-frame.js';

/** A reply frame: int32 length, int32 xid, then `body` bytes. */
function frame(xid: number, body = 12): Buffer {
  const buf = Buffer.alloc(8 + body);
  buf.writeInt32BE(4 + body, 0);
  buf.writeInt32BE(xid, 4);
  return buf;
}

describe('nextReplyXid', () => {
  it('reads the xid of a whole frame, and nothing before the frame is whole', () => {
    const f = frame(-2);
    expect(nextReplyXid(null, f, false)).toBe(-2);
    expect(nextReplyXid(null, f.subarray(0, 3), false)).toBeUndefined();
    expect(nextReplyXid(null, f.subarray(0, f.length - 1), false)).toBeUndefined();
  });

  it('reads across the bytes the library kept and the new chunk, wherever they split', () => {
    const f = Buffer.concat([frame(77), frame(-1)]);
    for (let cut = 0; cut <= f.length; cut++) expect(nextReplyXid(f.subarray(0, cut), f.subarray(cut), false)).toBe(77);
  });

  it('sees the first of several frames: the library handles one and calls itself back for the next', () => {
    const rest = Buffer.concat([frame(-1), frame(5)]);
    expect(nextReplyXid(rest, Buffer.alloc(0), false)).toBe(-1);
    expect(nextReplyXid(rest.subarray(20), Buffer.alloc(0), false)).toBe(5);
  });

  it('calls the first frame of a connection the handshake answer', () => {
    expect(nextReplyXid(null, frame(0, 32), true)).toBe('connect');
  });
});

/*
 * Replies of the reads a worker makes by the thousand (getData, exists, getChildren, setData) and
 * the header of every reply, decoded without the client library's per-field jute records (an
 * 8-byte Buffer per long, a Stat record per stat, a lookup of the field list per field). The
 * library builds them by name from its protocol module at each reply, so replacing those entries
 * once is enough; what its callers get differs only in `stat`, which is our `ZkStat` already
 * (`toZkStat` passes it through). Data and child names are copied out of the packet.
 */
import { createRequire } from 'node:module';
import { decodeStat, STAT_BYTES } from './multi-codec.js';
import type { ZkStat } from './zk-stat.js';

/** A reply record as the library uses it: made empty, given the chroot, then read from the packet. */
interface ReplyRecord {
  setChrootPath(path: string | undefined): void;
  deserialize(buffer: Buffer, offset: number): number;
}

type ReplyRecordClass = new () => ReplyRecord;

interface LibraryProtocol {
  ReplyHeader: ReplyRecordClass;
  GetDataResponse: ReplyRecordClass;
  ExistsResponse: ReplyRecordClass;
  SetDataResponse: ReplyRecordClass;
  GetChildren2Response: ReplyRecordClass;
}

/** Reply header: xid, zxid (kept as the 8-byte Buffer the library sends back on reconnect), err. */
export class ReplyHeader implements ReplyRecord {
  xid = 0;
  zxid: Buffer | undefined = undefined;
  err = 0;

  setChrootPath(): void {}

  deserialize(buffer: Buffer, offset: number): number {
    this.xid = buffer.readInt32BE(offset);
    this.zxid = Buffer.from(buffer.subarray(offset + 4, offset + 12));
    this.err = buffer.readInt32BE(offset + 12);
    return 16;
  }
}

/** A reply that is a stat alone (exists, setData). */
export class StatReply implements ReplyRecord {
  stat: ZkStat | undefined = undefined;

  setChrootPath(): void {}

  deserialize(buffer: Buffer, offset: number): number {
    this.stat = decodeStat(buffer, offset);
    return STAT_BYTES;
  }
}

/** getData's reply: the data (a copy, not a view of the packet), then the stat. */
export class GetDataReply implements ReplyRecord {
  data: Buffer | undefined = undefined;
  stat: ZkStat | undefined = undefined;

  setChrootPath(): void {}

  deserialize(buffer: Buffer, offset: number): number {
    const length = buffer.readInt32BE(offset);
    let at = offset + 4;
    if (length >= 0) {
      // A copy (from the Buffer pool when small: a buffer of its own costs ~300 bytes more per
      // cached node), so that the data does not keep the whole socket read alive.
      this.data = Buffer.from(buffer.subarray(at, at + length));
      at += length;
    }
    this.stat = decodeStat(buffer, at);
    return at + STAT_BYTES - offset;
  }
}

/** getChildren2's reply: the child names, then the parent's stat. */
export class GetChildrenReply implements ReplyRecord {
  children: string[] | undefined = undefined;
  stat: ZkStat | undefined = undefined;

  setChrootPath(): void {}

  deserialize(buffer: Buffer, offset: number): number {
    const count = buffer.readInt32BE(offset);
    let at = offset + 4;
    if (count >= 0) {
      const children: string[] = [];
      for (let i = 0; i < count; i++) {
        const length = buffer.readInt32BE(at);
        at += 4;
        children.push(length < 0 ? (undefined as unknown as string) : buffer.toString('utf8', at, at + length));
        if (length > 0) at += length;
      }
      this.children = children;
    }
    this.stat = decodeStat(buffer, at);
    return at + STAT_BYTES - offset;
  }
}

let patched = false;

/** Makes the library decode those replies with the classes above. Idempotent. */
export function patchReplyDecoders(): void {
  if (patched) return;
  patched = true;
  const protocol = (createRequire(import.meta.url)('node-zookeeper-client/lib/jute/index.js') as { protocol: LibraryProtocol }).protocol;
  protocol.ReplyHeader = ReplyHeader;
  protocol.GetDataResponse = GetDataReply;
  protocol.ExistsResponse = StatReply;
  protocol.SetDataResponse = StatReply;
  protocol.GetChildren2Response = GetChildrenReply;
}

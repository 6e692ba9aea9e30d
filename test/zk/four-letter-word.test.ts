import { describe, expect, inject, it } from 'vitest';
import { findFreePorts } from '../../src/testing/free-port.js';
import { FourLetterWordError, fourLetterWord, parseMntr, parseSrvr } from '../../src/zk/four-letter-word.js';
import '../support/provided-context.js';

describe('parseSrvr', () => {
  it('reads the mode and every field of a serving server', () => {
    const info = parseSrvr(
      'Zookeeper version: 3.8.0-abc, built on 2024-12-29 17:54 UTC\nLatency min/avg/max: 0/0.1/3\nReceived: 12\n' +
        'Sent: 11\nConnections: 1\nOutstanding: 0\nZxid: 0x100000004\nMode: follower\nNode count: 5\n',
    );
    expect(info.mode).toBe('follower');
    expect(info.fields['Zxid']).toBe('0x100000004');
    expect(info.fields['Node count']).toBe('5');
    expect(info.fields['Latency min/avg/max']).toBe('0/0.1/3');
  });

  it('has no mode when the server does not serve', () => {
    expect(parseSrvr('This ZooKeeper instance is not currently serving requests\n').mode).toBeUndefined();
  });
});

describe('parseMntr', () => {
  it('turns numeric values into numbers and keeps the rest as strings', () => {
    const m = parseMntr('zk_version\t3.8.0-abc\nzk_avg_latency\t0.5\nzk_znode_count\t5\nzk_server_state\tleader\n');
    expect(m).toEqual({ zk_version: '3.8.0-abc', zk_avg_latency: 0.5, zk_znode_count: 5, zk_server_state: 'leader' });
  });
});

describe('fourLetterWord', () => {
  it('refuses anything but four lowercase letters', async () => {
    await expect(fourLetterWord('127.0.0.1', 2181, 'RUOK')).rejects.toBeInstanceOf(RangeError);
    await expect(fourLetterWord('127.0.0.1', 2181, 'ruok\n')).rejects.toBeInstanceOf(RangeError);
  });

  it('fails with a FourLetterWordError naming the command and address when nothing listens', async () => {
    const [port] = await findFreePorts(1);
    const err = await fourLetterWord('127.0.0.1', port!, 'ruok', 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FourLetterWordError);
    expect((err as Error).message).toContain(`'ruok' to 127.0.0.1:${port}`);
  });

  it.skipIf(inject('zkKind') === 'env')('talks to the run’s shared ZooKeeper', async () => {
    const [host, port] = inject('zkConnect').split(',')[0]!.split(':');
    expect(await fourLetterWord(host!, Number(port), 'ruok')).toBe('imok');
  });
});

import { describe, expect, it } from 'vitest';
import zookeeper from 'node-zookeeper-client';
import { mapZkError, NoNodeError, patchUnknownErrorCodes } from '../../src/zk/zk-errors.js';

const create = (code: number, path?: string): Error & { code: number } =>
  (zookeeper.Exception as unknown as { create: (code: number, path?: string) => Error & { code: number } }).create(code, path);

describe('patchUnknownErrorCodes', () => {
  it('the library makes exceptions for codes it does not know, and without a stack trace; typed errors keep theirs', () => {
    patchUnknownErrorCodes();
    const unknown = create(-127, '/a');
    expect(unknown.code).toBe(-127);
    expect(unknown.message).toContain('@/a');
    const noNode = create(zookeeper.Exception.NO_NODE, '/b');
    expect(noNode.code).toBe(zookeeper.Exception.NO_NODE);
    expect(noNode.stack).not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBeGreaterThan(0); // restored
    const typed = mapZkError(noNode, 'getData', '/b', 'anonymous');
    expect(typed).toBeInstanceOf(NoNodeError);
    expect(typed.stack).toMatch(/\n\s+at /);
  });
});

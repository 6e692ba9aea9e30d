import { describe, expect, it } from 'vitest';
import { RunAbort } from '../../src/executor/run-abort.js';

describe('RunAbort', () => {
  it('aborts like an AbortController: once, with its reason, telling listeners and a signal made before', () => {
    const a = new RunAbort();
    const signal = a.signal;
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(['signal', signal.reason]));
    a.onAbort((reason) => heard.push(['listener', reason]));
    expect(a.aborted).toBe(false);
    expect(a.reason).toBeUndefined();
    const why = new Error('timeout');
    a.abort(why);
    a.abort(new Error('later'));
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe(why);
    expect(signal.aborted).toBe(true);
    expect(heard).toEqual([['signal', why], ['listener', why]]);
  });

  it('makes no signal until asked; one asked for after the abort is aborted already, with the reason', () => {
    const a = new RunAbort();
    const why = new Error('shutdown');
    a.abort(why);
    expect((a as unknown as { controller?: AbortController }).controller).toBeUndefined();
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe(why);
    expect(a.signal).toBe(a.signal);
  });

  it('gives an AbortError when aborted without a reason', () => {
    const a = new RunAbort();
    a.abort();
    expect((a.reason as DOMException).name).toBe('AbortError');
    expect(a.signal.reason).toBe(a.reason);
  });

  it('calls a listener added after the abort at once, and never one that was removed', () => {
    const a = new RunAbort();
    const heard: string[] = [];
    const off = a.onAbort(() => heard.push('removed'));
    a.onAbort(() => heard.push('kept'));
    off();
    a.abort(new Error('x'));
    a.onAbort(() => heard.push('late'));
    expect(heard).toEqual(['kept', 'late']);
  });
});

import { describe, expect, it } from 'vitest';
import { mergeNote, noteAfter, notesAfter } from '../../src/executor/fire-note.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
/** Every 2 seconds. */
const next = (t: Date) => new Date(Math.floor(t.getTime() / 2000) * 2000 + 2000);

describe('noteAfter', () => {
  it('keeps the fires after the frontier: all, some (counted on the schedule), or none', () => {
    const note = { count: 4, latest: at(16), earliest: at(10) }; // 10, 12, 14, 16
    expect(noteAfter(note, undefined, next)).toBe(note);
    expect(noteAfter(note, at(8), next)).toBe(note);
    expect(noteAfter(note, at(12), next)).toEqual({ count: 2, latest: at(16), earliest: at(14) });
    expect(noteAfter(note, at(13), next)).toEqual({ count: 2, latest: at(16), earliest: at(14) });
    expect(noteAfter(note, at(16), next)).toBeUndefined();
    expect(noteAfter(note, at(20), next)).toBeUndefined();
    // its earliest unknown: walked from the frontier; a walk longer than the note keeps it whole
    expect(noteAfter({ count: 4, latest: at(16) }, at(12), next)).toEqual({ count: 2, latest: at(16), earliest: at(14) });
    expect(noteAfter({ count: 2, latest: at(16) }, at(2), next)).toEqual({ count: 2, latest: at(16) });
    // no schedule: kept whole unless all of it is behind the frontier
    expect(noteAfter(note, at(12))).toBe(note);
    expect(noteAfter(note, at(16))).toBeUndefined();
  });

  it('notesAfter: both kinds against an ISO frontier', () => {
    expect(notesAfter({ missed: { count: 1, latest: at(10) }, skipped: { count: 2, latest: at(14), earliest: at(12) } }, at(12).toISOString(), next)).toEqual({ skipped: { count: 1, latest: at(14), earliest: at(14) } });
    expect(notesAfter({ missed: { count: 1, latest: at(10) } }, undefined, next)).toEqual({ missed: { count: 1, latest: at(10) } });
  });
});

describe('mergeNote', () => {
  it('adds the counts, keeps the later latest and the earlier earliest (known only when both are)', () => {
    const a = { count: 2, latest: at(12), earliest: at(10) };
    expect(mergeNote(undefined, a)).toBe(a);
    expect(mergeNote(a, undefined)).toBe(a);
    expect(mergeNote(a, { count: 1, latest: at(14) })).toEqual({ count: 3, latest: at(14), earliest: at(10) });
    expect(mergeNote({ count: 1, latest: at(14) }, a)).toEqual({ count: 3, latest: at(14), earliest: at(10) });
    // one of them of unknown earliest (count > 1, none said): the merged one's is unknown, and absent
    const merged = mergeNote(a, { count: 2, latest: at(16) });
    expect(merged).toEqual({ count: 4, latest: at(16) });
    expect('earliest' in merged).toBe(false);
    // equal latests: that instant
    expect(mergeNote({ count: 1, latest: at(12) }, { count: 1, latest: new Date(at(12).getTime()) })).toEqual({ count: 2, latest: at(12), earliest: at(12) });
  });
});

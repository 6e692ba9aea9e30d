import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseItemParameters } from '../../src/config/parse-item-parameters.js';

describe('parseItemParameters', () => {
  it('reads a YAML mapping with numeric or string keys', () => {
    const raw: unknown = parse('{ 0: beijing, "1": shanghai, 2: 500, 3: true }');
    expect(parseItemParameters(raw)).toEqual({ parameters: { 0: 'beijing', 1: 'shanghai', 2: '500', 3: 'true' }, problems: [] });
  });

  it('reads the string form, trimming both sides and splitting on the first "="', () => {
    expect(parseItemParameters(' 0 = beijing , 1=shanghai,2=a=b,3=')).toEqual({
      parameters: { 0: 'beijing', 1: 'shanghai', 2: 'a=b', 3: '' },
      problems: [],
    });
  });

  it('canonicalizes item numbers and ignores empty entries', () => {
    expect(parseItemParameters('007=bond,,1=a,').parameters).toEqual({ 7: 'bond', 1: 'a' });
  });

  it('gives {} for nothing', () => {
    for (const raw of [undefined, null, '', ' , ', {}]) expect(parseItemParameters(raw)).toEqual({ parameters: {}, problems: [] });
  });

  it('rejects item keys that are not non-negative integers', () => {
    const { parameters, problems } = parseItemParameters('-1=a,x=b,1.5=c,2=d', 'jobs[0].itemParameters');
    expect(parameters).toBeUndefined();
    expect(problems).toEqual([
      { key: 'jobs[0].itemParameters.-1', message: 'item must be a non-negative integer', value: '-1' },
      { key: 'jobs[0].itemParameters.x', message: 'item must be a non-negative integer', value: 'x' },
      { key: 'jobs[0].itemParameters.1.5', message: 'item must be a non-negative integer', value: '1.5' },
    ]);
    expect(parseItemParameters({ ' 1': 'a' }).problems).toHaveLength(1);
  });

  it('rejects entries without "="', () => {
    expect(parseItemParameters('0=a,beijing').problems).toEqual([
      { key: 'itemParameters', message: 'entry "beijing" must look like <item>=<parameter>', value: '0=a,beijing' },
    ]);
  });

  it('rejects an item given twice', () => {
    expect(parseItemParameters('1=a,1=b').problems).toEqual([{ key: 'itemParameters.1', message: 'item 1 is given more than once', value: 'b' }]);
    expect(parseItemParameters({ 1: 'a', '01': 'b' }).problems).toEqual([{ key: 'itemParameters.01', message: 'item 1 is given more than once', value: 'b' }]);
  });

  it('rejects values that are not scalars', () => {
    expect(parseItemParameters({ 0: ['a'], 1: null }).problems).toEqual([
      { key: 'itemParameters.0', message: 'parameter must be a string', value: ['a'] },
      { key: 'itemParameters.1', message: 'parameter must be a string', value: null },
    ]);
  });

  it('rejects other shapes', () => {
    for (const raw of [4, ['0=a'], true]) {
      expect(parseItemParameters(raw).problems).toEqual([
        { key: 'itemParameters', message: 'must be a mapping { <item>: <parameter> } or a string "0=a,1=b"', value: raw },
      ]);
    }
  });
});

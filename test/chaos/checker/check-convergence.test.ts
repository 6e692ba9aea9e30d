import { describe, expect, it } from 'vitest';
import { checkConvergence } from '../../../chaos/checker/check-convergence.js';

describe('checkConvergence()', () => {
  it('passes at the bound', () => {
    expect(checkConvergence({ worstMs: 8000, boundMs: 8000, samples: 4 })).toEqual({ violations: [], counts: { worstMs: 8000, boundMs: 8000, samples: 4 } });
  });

  it('reports a worst convergence over the bound', () => {
    const result = checkConvergence({ worstMs: 8001, boundMs: 8000, samples: 4 });
    expect(result.violations).toEqual([{ check: 'convergence', detail: 'the slowest of 4 convergences took 8001 ms, more than the bound of 8000 ms' }]);
  });
});

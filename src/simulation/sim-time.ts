import type { Clock } from '../clock/clock.js';
import type { SimTimers } from './sim-clock.js';

/** The protocol code's `Clock` over one simulated process's timers (`SimClock.timers(owner)`). */
export function simTime(timers: SimTimers): Clock {
  return {
    now: () => timers.now(),
    monotonic: () => timers.monotonicNow(),
    setTimeout: (fn, delayMs) => timers.setTimeout(fn, delayMs),
    clearTimeout: (handle) => timers.clearTimeout(handle as ReturnType<SimTimers['setTimeout']> | undefined),
    setInterval: (fn, periodMs) => timers.setInterval(fn, periodMs),
    clearInterval: (handle) => timers.clearInterval(handle as ReturnType<SimTimers['setInterval']> | undefined),
    setImmediate: (fn) => timers.setImmediate(fn),
  };
}

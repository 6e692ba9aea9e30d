import { inject } from 'vitest';
import './provided-context.js';

/** Connect string of the run's shared ZooKeeper (provided by `global-setup.ts`). */
export function zkConnect(): string {
  const connect = inject('zkConnect');
  if (typeof connect !== 'string' || connect === '') {
    throw new Error("no 'zkConnect' provided: is test/support/global-setup.ts the globalSetup in vitest.config.ts?");
  }
  return connect;
}

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globals: false,
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests share one ZooKeeper and spawn worker processes: keep files sequential
    // on this 2-core machine; each file isolates itself under its own namespace.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

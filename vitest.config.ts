import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests that spawn the CLI or a browser share 2 cores; keep files from starving each other.
    maxWorkers: 2,
  },
});

import { defineConfig } from 'vitest/config';

// unit: the library and its kernels in-process, no build step (under 20 s); e2e: the built CLI, worker threads,
// child processes, the native kernels, a real browser and real databases. `npm test` builds and runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests that spawn the CLI or a browser share 2 cores; keep files from starving each other.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'] } },
    ],
  },
});

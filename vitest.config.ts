import { defineConfig } from 'vitest/config';
import { loadServicesEnv } from './test/support/services-env.js';

// Integration tests read the harness servers from test/services/.env (written by `pnpm services:up`);
// variables already set in the environment win, so a laptop or a GitHub runner can point elsewhere.
const servicesEnv = loadServicesEnv();

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Projects with different worker limits need their own group (vitest 4).
          sequence: { groupOrder: 0 },
          include: ['{actions,packages,test,scripts}/**/*.test.ts'],
          exclude: ['**/*.itg.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['{actions,packages,test,scripts}/**/*.itg.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          env: servicesEnv,
          testTimeout: 300_000,
          // Hooks may wait for the shared BuildKit lock (test/support/engine-lock.ts) while another file builds.
          hookTimeout: 900_000,
          // Two cores: the servers need one of them.
          maxWorkers: 2,
        },
      },
    ],
  },
});

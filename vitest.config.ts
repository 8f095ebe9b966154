import { defineConfig } from 'vitest/config';
import { loadServicesEnv } from './test/support/services-env.js';

// Integration tests read the harness servers from test/services/.env (written by `pnpm services:up`);
// variables already set in the environment win, so a laptop or a GitHub runner can point elsewhere.
const servicesEnv = loadServicesEnv();

// The integration tests that talk MySQL run a second time on Oracle MySQL (the harness unpacks it from Debian sid),
// where flavour differences show: TEST_MYSQL_URL is that server's URL in this project.
const oracleMysqlUrl = process.env.TEST_ORACLE_MYSQL_URL ?? servicesEnv.TEST_ORACLE_MYSQL_URL ?? '';
// Its `mysql` client, for the checks that the stock client loads a dump (else the system's, MariaDB's here).
const oracleMysqlClient = process.env.TEST_ORACLE_MYSQL_CLIENT ?? servicesEnv.TEST_ORACLE_MYSQL_CLIENT ?? '';

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
      {
        extends: true,
        test: {
          name: 'integration:oracle-mysql',
          sequence: { groupOrder: 2 },
          // Everything that talks MySQL: the dumper, dump sets, the CLI and the action (Django on MySQL).
          include: ['{packages/mysql-dump,packages/dump-set,packages/devstack-dumps,actions/refresh-dumps}/test/**/*.itg.test.ts'],
          // TLS stays MariaDB's test; the cross-flavour test uses both servers itself (in the integration
          // project); the MongoDB load lock has no MySQL in it.
          exclude: [
            '**/node_modules/**',
            '**/dist/**',
            'packages/mysql-dump/test/tls.itg.test.ts',
            'packages/mysql-dump/test/cross-flavour.itg.test.ts',
            'packages/dump-set/test/mongo-load-lock.itg.test.ts',
            // The CLI's own errors and the prune lease: no MySQL server in them.
            'packages/devstack-dumps/test/cli.itg.test.ts',
            'packages/devstack-dumps/test/interrupt-lease.itg.test.ts',
          ],
          env: { ...servicesEnv, TEST_MYSQL_URL: oracleMysqlUrl, TEST_MYSQL_URL_NAMED: 'TEST_ORACLE_MYSQL_URL', TEST_STOCK_MYSQL_CLIENT: oracleMysqlClient },
          testTimeout: 300_000,
          hookTimeout: 900_000,
          maxWorkers: 2,
        },
      },
    ],
  },
});

// Runs every benchmark in scripts/bench/*.ts in name order, each in its own process so one bench's
// memory and handles cannot skew the next. Exit code 1 when a bench crashed (unmet goals only print).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadServicesEnv } from '../test/support/services-env.js';

const dir = fileURLToPath(new URL('./bench/', import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((name) => name.endsWith('.ts'))
  .filter((name) => only.length === 0 || only.some((filter) => name.includes(filter)))
  .sort();
// The harness servers (test/services/.env); variables already set win.
const env: NodeJS.ProcessEnv = { ...loadServicesEnv(), ...process.env };

/**
 * The runs of one bench: the MySQL dumper runs on each server flavour the harness has, against that
 * server's own clients (MariaDB's from Debian, Oracle MySQL's unpacked by test/services/install).
 */
function runsOf(name: string): { label: string; env: NodeJS.ProcessEnv }[] {
  const oracleClient = env.TEST_ORACLE_MYSQL_CLIENT;
  if (name !== 'mysql-dump.ts' || !env.TEST_ORACLE_MYSQL_URL || !oracleClient) return [{ label: name, env }];
  return [
    { label: `${name} (TEST_MYSQL_URL)`, env },
    {
      label: `${name} (Oracle MySQL, TEST_ORACLE_MYSQL_URL)`,
      env: { ...env, TEST_MYSQL_URL: env.TEST_ORACLE_MYSQL_URL, BENCH_MYSQL_CLIENT: oracleClient, BENCH_MYSQLDUMP: path.join(path.dirname(oracleClient), 'oracle-mysqldump') },
    },
  ];
}

let failed = 0;
for (const name of benches) {
  for (const run of runsOf(name)) {
    console.log(`\n=== ${run.label} ===`);
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, name)], { stdio: 'inherit', env: run.env });
    if (result.status !== 0) {
      failed++;
      console.log(`=== ${run.label} FAILED (exit ${result.status ?? result.signal}) ===`);
    }
  }
}
process.exitCode = failed > 0 ? 1 : 0;

// Runs every benchmark in scripts/bench/*.ts in name order, each in its own process so one bench's
// memory and handles cannot skew the next. Exit code 1 when a bench crashed (unmet goals only print).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./bench/', import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((name) => name.endsWith('.ts'))
  .filter((name) => only.length === 0 || only.some((filter) => name.includes(filter)))
  .sort();
let failed = 0;
for (const name of benches) {
  console.log(`\n=== ${name} ===`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, name)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`=== ${name} FAILED (exit ${result.status ?? result.signal}) ===`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;

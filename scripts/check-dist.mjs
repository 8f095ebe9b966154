// Rebuilds the action bundles and fails when the committed dist/ differs (actions/typescript-action's check).
import { execFileSync } from 'node:child_process';

execFileSync(process.execPath, [new URL('./build.mjs', import.meta.url).pathname], { stdio: 'inherit' });
const status = execFileSync('git', ['status', '--porcelain', '--', 'actions/*/dist'], { encoding: 'utf8' });
if (status.trim() !== '') {
  console.error('dist/ is stale: `pnpm build` changed these files. Run `pnpm build` and commit the result.');
  console.error(status);
  process.exit(1);
}
console.log('check-dist: actions/*/dist is up to date');

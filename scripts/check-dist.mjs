// Rebuilds the action and tool bundles and fails when the committed dist/ differs (actions/typescript-action's check).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
// Each dist/ as a directory pathspec (a wildcard like actions/*/dist would match no file below it); changed,
// deleted and new files (a new chunk) all count.
const distDirs = [
  ...readdirSync(join(root, 'actions'))
    .sort()
    .filter((action) => existsSync(join(root, 'actions', action, 'action.yml')))
    .map((action) => `actions/${action}/dist`),
  // Bundled command-line tools (build.mjs `tools`): every package the build gave a dist/.
  ...readdirSync(join(root, 'packages'))
    .sort()
    .filter((pkg) => existsSync(join(root, 'packages', pkg, 'dist')))
    .map((pkg) => `packages/${pkg}/dist`),
];
const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', ...distDirs], { cwd: root, encoding: 'utf8' });
if (status.trim() !== '') {
  console.error('dist/ is stale: `pnpm build` changed these files. Run `pnpm build` and commit the result.');
  console.error(status);
  process.exit(1);
}
console.log(`check-dist: ${distDirs.join(', ')} up to date`);

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const commonSh = fileURLToPath(new URL('../services/lib/common.sh', import.meta.url));

/** The Node.js version `test/services/install` puts in the tool cache as `bin/node24`. */
export const actionNodeVersion = /^ACTION_NODE_VERSION=(\S+)/m.exec(readFileSync(commonSh, 'utf8'))?.[1] ?? '';

let chosen: string | undefined;

/**
 * The Node.js to run an action bundle with, as the runner does: action.yml says `using: node24`, so GitHub
 * runs the bundles on Node 24, whatever runs vitest: this Node when it is a Node 24, else ORG_ACTIONS_NODE24
 * (a Node 24 the CI job set up), else the tool cache's `node24` (installed by `bash test/services/install`).
 * Without any, CI fails; a laptop falls back to this Node and says so once.
 */
export function actionNode(): string {
  if (chosen) return chosen;
  // A job already on Node 24 (GitHub's integration job) runs the bundles on itself.
  if (process.versions.node.split('.')[0] === '24') return (chosen = process.execPath);
  // A Node 24 the job set up beside the Node that runs vitest (GitHub's unit job on Node 20).
  const given = process.env.ORG_ACTIONS_NODE24;
  if (given && /^v24\./.test(spawnSync(given, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '')) return (chosen = given);
  const toolCache = process.env.ORG_ACTIONS_TOOL_CACHE ?? join(homedir(), '.cache', 'org-actions');
  const candidate = join(toolCache, 'bin', 'node24');
  const version = existsSync(candidate) ? spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout?.trim() : undefined;
  if (version === `v${actionNodeVersion}`) return (chosen = candidate);
  const why = version ? `${candidate} is ${version}, not v${actionNodeVersion}` : `${candidate} is missing`;
  if (process.env.CI === 'true') throw new Error(`the actions' Node.js (node24, as action.yml says): ${why}; run \`bash test/services/install\` or set ORG_ACTIONS_NODE24 to a Node 24`);
  console.warn(`action bundles run on this Node ${process.version}, not the runner's Node 24: ${why} (run \`bash test/services/install\`)`);
  return (chosen = process.execPath);
}

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../test/support/temp-dirs.js';

const temp = useTempDirs();

const script = new URL('./action-docs.mjs', import.meta.url).pathname;
const repoActions = new URL('../actions', import.meta.url).pathname;

function scratchRepo(): string {
  const dir = temp.makeSync('action-docs-');
  cpSync(repoActions, join(dir, 'actions'), {
    recursive: true,
    filter: (src) => !src.includes('/dist') && !src.includes('node_modules'),
  });
  return dir;
}

describe('action README tables', () => {
  it('are current in the repository', () => {
    const result = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('fail the check when an input is added to action.yml without regenerating, and pass after', () => {
    const dir = scratchRepo();
    const actionFile = join(dir, 'actions', 'build-image', 'action.yml');
    const action = readFileSync(actionFile, 'utf8');
    const added = action.includes('\ninputs:\n')
      ? action.replace('\ninputs:\n', '\ninputs:\n  brand-new-input:\n    description: An input nobody documented | yet\n    required: false\n')
      : `${action}\ninputs:\n  brand-new-input:\n    description: An input nobody documented | yet\n    required: false\n`;
    writeFileSync(actionFile, added);

    const stale = spawnSync(process.execPath, [script, '--check', '--root', dir], { encoding: 'utf8' });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('actions/build-image/README.md');

    execFileSync(process.execPath, [script, '--root', dir]);
    const readme = readFileSync(join(dir, 'actions', 'build-image', 'README.md'), 'utf8');
    expect(readme).toContain('| `brand-new-input` | An input nobody documented \\| yet | no |  |');
    const fresh = spawnSync(process.execPath, [script, '--check', '--root', dir], { encoding: 'utf8' });
    expect(fresh.status).toBe(0);
  });
});

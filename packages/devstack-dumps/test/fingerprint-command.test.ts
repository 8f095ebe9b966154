import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { main } from '../src/cli.js';
import type { CommandContext } from '../src/internal/context.js';

const temp = useTempDirs();
const git = (cwd: string, ...args: string[]) => promisify(execFile)('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd });

test('fingerprint names a top-level migrations folder `migrations` and its latest migration in number order', async () => {
  const repo = await temp.make('devstack-dumps-fp-');
  await mkdir(path.join(repo, 'migrations'));
  for (const name of ['V2__b.sql', 'V9__c.sql', 'V10__d.sql']) await writeFile(path.join(repo, 'migrations', name), `-- ${name}\n`);
  await git(repo, 'init', '-q', '-b', 'master');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'flyway');
  let out = '';
  const context = {
    stdout: { write: (text: string) => ((out += text), true) },
    stderr: { write: () => true },
    env: {},
    cwd: repo,
  } as unknown as CommandContext;
  expect(await main(['fingerprint', '--repo', repo, '--migrations-glob', 'migrations/*.sql'], context)).toBe(0);
  expect(out).toMatch(/^migrations +3 +V10__d +[0-9a-f]+$/m);
});

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CacheMountKeyError, cacheMountKey, cacheMountKeyFor, findCacheMounts, findCopiedLockfiles, parseDockerfile } from '../src/index.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const DOCKERFILE = `FROM python:3.12-slim AS base
WORKDIR /app
COPY requirements.txt requirements-dev.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \\
    --mount=type=cache,id=apt,target=/var/cache/apt,sharing=locked \\
    pip install -r requirements.txt
FROM node:20 AS assets
COPY frontend/package.json frontend/pnpm-lock.yaml ./
RUN --mount=type=cache,id=pnpm,target=/pnpm/store,uid=1000 --mount=type=secret,id=npmrc pnpm install
FROM base AS dev
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements-dev.txt
COPY . .
COPY --from=assets /out ./static
`;

describe('findCacheMounts', () => {
  test('every cache mount once, with id defaulting to the target and 1-based lines', () => {
    expect(findCacheMounts(parseDockerfile(DOCKERFILE))).toEqual([
      { id: '/root/.cache/pip', target: '/root/.cache/pip', sharing: 'shared', stage: 'base', line: 4, options: {} },
      { id: 'apt', target: '/var/cache/apt', sharing: 'locked', stage: 'base', line: 4, options: {} },
      { id: 'pnpm', target: '/pnpm/store', sharing: 'shared', stage: 'assets', line: 9, options: { uid: '1000' } },
    ]);
  });

  test.each([
    ['FROM a\nRUN --mount=type=bind,target=/x true', []],
    ['FROM a\nRUN --mount=type=cache,dst=/go/pkg/mod,sharing=private go mod download', [['/go/pkg/mod', 'private']]],
    ['FROM a\nRUN --mount=type=cache,destination=/c,id=c true', [['c', 'shared']]],
  ])('%j', (dockerfile, expected) => {
    expect(findCacheMounts(parseDockerfile(dockerfile)).map((m) => [m.id, m.sharing])).toEqual(expected);
  });
});

describe('findCopiedLockfiles', () => {
  test('lockfiles named or globbed by COPY sources, never under node_modules or .git', async () => {
    const dir = await temp.make('ib-lock-');
    for (const file of ['requirements.txt', 'requirements-dev.txt', 'frontend/pnpm-lock.yaml', 'frontend/package.json', 'node_modules/x/yarn.lock', 'go.sum', 'src/app.py']) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), file);
    }
    const selective = parseDockerfile(DOCKERFILE.replace('COPY . .\n', ''));
    expect(await findCopiedLockfiles(selective, dir)).toEqual(['frontend/pnpm-lock.yaml', 'requirements-dev.txt', 'requirements.txt']);
    // `COPY . .` copies every lockfile of the context.
    expect(await findCopiedLockfiles(parseDockerfile(DOCKERFILE), dir)).toEqual([
      'frontend/pnpm-lock.yaml',
      'go.sum',
      'requirements-dev.txt',
      'requirements.txt',
    ]);
    expect(await findCopiedLockfiles(parseDockerfile('FROM a\nCOPY requirements*.txt ./\n'), dir)).toEqual(['requirements-dev.txt', 'requirements.txt']);
    expect(await findCopiedLockfiles(parseDockerfile('FROM a\nCOPY ${REQS} ./\n'), dir)).toEqual([]);
  });

  // `docker init`'s pattern: the install reads the lockfile through a bind mount, never a COPY.
  test.each([
    ['a bound file', 'RUN --mount=type=bind,source=requirements.txt,target=requirements.txt pip install -r requirements.txt', ['requirements.txt']],
    ['src= and a path below the context root', 'RUN --mount=type=bind,src=frontend/pnpm-lock.yaml,target=/app/pnpm-lock.yaml pnpm i', ['frontend/pnpm-lock.yaml']],
    ['a bound directory', 'RUN --mount=type=bind,source=frontend,target=/app pnpm i', ['frontend/pnpm-lock.yaml']],
    ['no source binds the whole context', 'RUN --mount=type=bind,target=/src go build ./...', ['frontend/pnpm-lock.yaml', 'go.sum', 'requirements.txt']],
    ['a bind from another stage is not the context', 'RUN --mount=type=bind,from=deps,source=go.sum,target=/go.sum true', []],
    ['a source with a variable is only known to the build', 'RUN --mount=type=bind,source=${REQS},target=/r.txt true', []],
    ['a cache mount is no source', 'RUN --mount=type=cache,target=/root/.cache/pip true', []],
  ])('RUN bind mount: %s', async (_, run, expected) => {
    const dir = await temp.make('ib-bind-');
    for (const file of ['requirements.txt', 'frontend/pnpm-lock.yaml', 'frontend/index.js', 'go.sum', 'node_modules/x/yarn.lock']) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), file);
    }
    expect(await findCopiedLockfiles(parseDockerfile(`FROM a\nWORKDIR /app\n${run}\n`), dir)).toEqual(expected);
  });
});

describe('cacheMountKey', () => {
  const mounts = findCacheMounts(parseDockerfile(DOCKERFILE));
  const locks = [{ path: 'requirements.txt', content: 'flask==3.0\n' }];
  const key = cacheMountKey('cm-linux', mounts, locks, '7-1');

  test('prefix fallback: same mounts first, then anything', () => {
    expect(key.key).toMatch(/^cm-linux-[0-9a-f]{16}-[0-9a-f]{16}$/);
    expect(key.restoreKeys).toEqual([`cm-linux-${key.mountsHash}-`, 'cm-linux-']);
    expect(key.key.startsWith(key.restoreKeys[0] as string)).toBe(true);
  });

  test.each([
    ['a changed lockfile changes only the lockfile part', mounts, [{ path: 'requirements.txt', content: 'flask==3.1\n' }], 'lock'],
    ['a renamed lockfile changes it too', mounts, [{ path: 'requirements-prod.txt', content: 'flask==3.0\n' }], 'lock'],
    ['another mount changes the mounts part', mounts.slice(1), locks, 'mounts'],
    // The pnpm store mounted for uid 1000 holds files another uid cannot write: another cache.
    ['another mount owner (uid) changes the mounts part', mounts.map((m) => (m.id === 'pnpm' ? { ...m, options: { ...m.options, uid: '0' } } : m)), locks, 'mounts'],
    ['an added mount option (mode) changes the mounts part', mounts.map((m) => (m.id === 'apt' ? { ...m, options: { mode: '0755' } } : m)), locks, 'mounts'],
  ] as const)('%s', (_, otherMounts, otherLocks, changed) => {
    const other = cacheMountKey('cm-linux', [...otherMounts], [...otherLocks], '7-1');
    expect(other.lockfilesHash !== key.lockfilesHash).toBe(changed === 'lock');
    expect(other.mountsHash !== key.mountsHash).toBe(changed === 'mounts');
  });

  test('bytes moved between a lockfile name and its content give another lockfile part', () => {
    const a = cacheMountKey('p', mounts, [{ path: 'a', content: 'bc' }], '7-1');
    const b = cacheMountKey('p', mounts, [{ path: 'ab', content: 'c' }], '7-1');
    expect(a.lockfilesHash).not.toBe(b.lockfilesHash);
    // Nor between two files: the boundary between them is part of what is hashed.
    const two = cacheMountKey('p', mounts, [{ path: 'go.sum', content: 'x' }, { path: 'requirements.txt', content: 'flask' }], '7-1');
    const merged = cacheMountKey('p', mounts, [{ path: 'go.sum', content: 'xrequirements.txtflask' }], '7-1');
    expect(two.lockfilesHash).not.toBe(merged.lockfilesHash);
  });

  test('order of lockfiles and mounts does not matter', () => {
    const two = [...locks, { path: 'go.sum', content: 'x' }];
    expect(cacheMountKey('p', [...mounts].reverse(), [...two].reverse(), '7-1').key).toBe(cacheMountKey('p', mounts, two, '7-1').key);
  });

  test.each([
    ['no lockfile: the run is the last part', [], '7-1', 'run', '-run-7-1'],
    ['no lockfile, another run: another key', [], '8-2', 'run', '-run-8-2'],
    ['a run id is made fit for a key', [], '9, 1', 'run', '-run-9-1'],
    ['lockfiles: the run does not count', locks, '8-2', 'lockfiles', `-${key.lockfilesHash}`],
  ] as const)('keyed by: %s', (_, lockfiles, runId, keyedBy, ending) => {
    const other = cacheMountKey('cm-linux', mounts, [...lockfiles], runId);
    expect(other.keyedBy).toBe(keyedBy);
    expect(other.key).toBe(`cm-linux-${key.mountsHash}${ending}`);
    // Restored by the mounts prefix, whichever way the key ends.
    expect(other.restoreKeys).toEqual(key.restoreKeys);
  });

  test('without lockfiles a run id is required', () => {
    expect(() => cacheMountKey('p', mounts, [], '')).toThrow(CacheMountKeyError);
  });

  test('cacheMountKeyFor keys a bind-mounted lockfile like a copied one, and a Dockerfile without any by run', async () => {
    const dir = await temp.make('ib-key-bind-');
    await writeFile(path.join(dir, 'requirements.txt'), 'flask==3.0\n');
    const bound = parseDockerfile('FROM a\nRUN --mount=type=cache,target=/root/.cache/pip --mount=type=bind,source=requirements.txt,target=r.txt pip install -r r.txt\n');
    const options = { mounts: findCacheMounts(bound), runId: '7-1' };
    const first = await cacheMountKeyFor('p', bound, dir, options);
    expect([first.keyedBy, first.lockfiles]).toEqual(['lockfiles', ['requirements.txt']]);
    await writeFile(path.join(dir, 'requirements.txt'), 'flask==3.1\n');
    expect((await cacheMountKeyFor('p', bound, dir, options)).key).not.toBe(first.key);
    const none = parseDockerfile('FROM a\nRUN --mount=type=cache,target=/var/cache/apt apt-get update\n');
    const byRun = await cacheMountKeyFor('p', none, dir, { mounts: findCacheMounts(none), runId: '7-1' });
    expect([byRun.keyedBy, byRun.lockfiles, byRun.key.endsWith('-run-7-1')]).toEqual(['run', [], true]);
  });

  test('cacheMountKeyFor reads the copied lockfiles from the context', async () => {
    const dir = await temp.make('ib-key-');
    await writeFile(path.join(dir, 'requirements.txt'), 'flask==3.0\n');
    const model = parseDockerfile('FROM a\nCOPY requirements.txt ./\nRUN --mount=type=cache,target=/root/.cache/pip pip install\n');
    const options = { mounts: findCacheMounts(model), runId: '7-1' };
    const first = await cacheMountKeyFor('p', model, dir, options);
    expect(first.lockfiles).toEqual(['requirements.txt']);
    await writeFile(path.join(dir, 'requirements.txt'), 'flask==3.1\n');
    const second = await cacheMountKeyFor('p', model, dir, options);
    expect(second.key).not.toBe(first.key);
    expect(second.restoreKeys).toEqual(first.restoreKeys);
  });
});

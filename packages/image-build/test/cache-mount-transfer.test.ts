import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  extractArgs,
  extractDockerfile,
  findCacheMounts,
  hashDirectory,
  injectArgs,
  injectDockerfile,
  mountDirName,
  parseDockerfile,
  shouldSaveCacheMounts,
} from '../src/index.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const mounts = findCacheMounts(
  parseDockerfile(`FROM a
RUN --mount=type=cache,id=pip,target=/root/.cache/pip --mount=type=cache,target=/var/cache/apt,uid=1000,gid=1000 true
FROM a AS seeded
RUN --mount=type=cache,target=/seed,from=a true
`),
);

describe('generators', () => {
  test('extract copies every mount (same ids, owner options kept) into /out and exports it', () => {
    const pip = mountDirName({ id: 'pip' });
    const apt = mountDirName({ id: '/var/cache/apt' });
    expect(extractDockerfile(mounts, 'busybox:1.36')).toBe(
      [
        'FROM busybox:1.36 AS extract',
        'USER 0:0',
        'ARG CACHE_TRANSFER_NONCE',
        `RUN --network=none --mount=type=cache,id=pip,target=/cache/${pip},sharing=locked \\`,
        `    --mount=type=cache,id=/var/cache/apt,target=/cache/${apt},sharing=locked,uid=1000,gid=1000 \\`,
        '    mkdir -p /out && \\',
        `    mkdir -p /out/${pip} && cp -a /cache/${pip}/. /out/${pip}/ && \\`,
        `    mkdir -p /out/${apt} && cp -a /cache/${apt}/. /out/${apt}/`,
        'FROM scratch',
        'COPY --from=extract /out/ /',
        '',
      ].join('\n'),
    );
  });

  test('inject binds the context and copies each present dir into its mount', () => {
    const text = injectDockerfile(mounts, 'busybox:1.36');
    expect(text).toContain('--mount=type=bind,target=/in');
    // The nonce ARG must come before the RUN it busts.
    expect(text.indexOf('ARG CACHE_TRANSFER_NONCE')).toBeLessThan(text.indexOf('RUN '));
    expect(text).toContain(`if [ -d /in/${mountDirName({ id: 'pip' })} ]; then cp -a /in/${mountDirName({ id: 'pip' })}/. /cache/${mountDirName({ id: 'pip' })}/; fi`);
    expect(text).not.toContain('/seed');
  });

  test.each([
    [{ id: 'pip' }, /^pip-[0-9a-f]{8}$/],
    [{ id: '/root/.cache/pip' }, /^root-.cache-pip-[0-9a-f]{8}$/],
    [{ id: '///' }, /^cache-[0-9a-f]{8}$/],
  ])('mountDirName %j', (mount, pattern) => {
    expect(mountDirName(mount)).toMatch(pattern);
  });

  test('ids that cannot travel in a CSV flag and odd helper images are refused', () => {
    expect(() => extractDockerfile([{ ...mounts[0]!, id: 'a"b' }], 'busybox')).toThrow(/contains a quote/);
    expect(extractDockerfile([{ ...mounts[0]!, id: 'a,b' }], 'busybox')).toContain('id="a,b"');
    expect(() => extractDockerfile(mounts, 'busybox; rm -rf /')).toThrow(/not an image reference/);
  });

  test.each([
    [
      extractArgs({ dockerfile: '/w/x/Dockerfile', context: '/w/x', outputDir: '/w/out', nonce: 'n1' }),
      ['buildx', 'build', '--progress=plain', '--build-arg', 'CACHE_TRANSFER_NONCE=n1', '-f', '/w/x/Dockerfile', '--output', 'type=local,dest=/w/out', '/w/x'],
    ],
    [
      injectArgs({ dockerfile: '/w/i/Dockerfile', context: '/w/restored', builder: 'ci', nonce: 'n2' }),
      ['buildx', 'build', '--builder', 'ci', '--progress=plain', '--build-arg', 'CACHE_TRANSFER_NONCE=n2', '-f', '/w/i/Dockerfile', '--output', 'type=cacheonly', '/w/restored'],
    ],
  ])('argv %#', (argv, expected) => {
    expect(argv).toEqual(expected);
  });
});

describe('hashDirectory and the save decision', () => {
  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await temp.make('ib-hash-');
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    return dir;
  }

  test('equal trees hash equal regardless of times; content, names, modes and links change it', async () => {
    const a = await hashDirectory(await tree({ 'pip/x.whl': 'one', 'apt/y.deb': 'two' }));
    const same = await hashDirectory(await tree({ 'apt/y.deb': 'two', 'pip/x.whl': 'one' }));
    expect(same).toEqual(a);
    expect(a).toMatchObject({ files: 2, bytes: 6 });
    expect((await hashDirectory(await tree({ 'pip/x.whl': 'ONE', 'apt/y.deb': 'two' }))).hash).not.toBe(a.hash);
    expect((await hashDirectory(await tree({ 'pip/z.whl': 'one', 'apt/y.deb': 'two' }))).hash).not.toBe(a.hash);
    const modeDir = await tree({ 'pip/x.whl': 'one', 'apt/y.deb': 'two' });
    await chmod(path.join(modeDir, 'pip/x.whl'), 0o600);
    expect((await hashDirectory(modeDir)).hash).not.toBe(a.hash);
    const linkDir = await tree({ 'pip/x.whl': 'one', 'apt/y.deb': 'two' });
    await symlink('x.whl', path.join(linkDir, 'pip/link'));
    expect((await hashDirectory(linkDir)).hash).not.toBe(a.hash);
  });

  test.each([
    ['nothing was restored and there is content', { hash: 'h1', files: 3 }, undefined, true],
    ['unchanged since restore', { hash: 'h1', files: 3 }, 'h1', false],
    ['changed since restore', { hash: 'h2', files: 3 }, 'h1', true],
    ['empty mounts', { hash: 'h0', files: 0 }, undefined, false],
  ])('shouldSave: %s', (_, extracted, restored, expected) => {
    expect(shouldSaveCacheMounts(extracted, restored)).toBe(expected);
  });
});

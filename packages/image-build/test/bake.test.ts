import { describe, expect, test } from 'vitest';
import { InputError, bakeDefinition, checkProvenanceProxies, checkProxyConflicts, computeTags, getBakeArgs, parseBuildArgs, parsePlatforms, planCache, resolveFlavours, splitBuildAndPush } from '../src/index.js';
import type { BakeOptions, GitContext } from '../src/index.js';
import { parseDockerfile, parseMirrors } from '../src/index.js';
import { checkDeclaredProxyArgs } from '../src/internal/bake.js';

const git: GitContext = {
  eventName: 'push',
  ref: 'refs/heads/master',
  sha: 'b'.repeat(40),
  defaultBranch: 'master',
  commitTime: '2024-05-01T10:00:00Z',
  repoUrl: 'https://github.com/org/app',
};
const flavours = resolveFlavours({ targets: 'devstack=dev,production=production', image: 'reg.local/app' });
const cache = Object.fromEntries(
  flavours.map((f) => [f.name, planCache({ mode: 'registry', flavour: f, image: 'reg.local/app', git, push: true, ghaAvailable: false })]),
);
const options = (over: Partial<BakeOptions> = {}): BakeOptions => ({
  context: '.',
  dockerfile: 'Dockerfile',
  flavours,
  tags: computeTags(git),
  git,
  cache,
  output: 'push',
  ...over,
});

describe('bakeDefinition', () => {
  test('one target per flavour in one default group, so shared stages are solved once', () => {
    const def = bakeDefinition(options());
    expect(def.group.default.targets).toEqual(['devstack', 'production']);
    expect(def.target.devstack).toEqual({
      context: '.',
      dockerfile: 'Dockerfile',
      target: 'dev',
      tags: ['reg.local/app-dev:sha-bbbbbbb', 'reg.local/app-dev:master', 'reg.local/app-dev:latest'],
      labels: {
        'org.opencontainers.image.created': '2024-05-01T10:00:00Z',
        'org.opencontainers.image.revision': 'b'.repeat(40),
        'org.opencontainers.image.source': 'https://github.com/org/app',
        'org.opencontainers.image.title': 'app-dev',
        'org.opencontainers.image.version': 'master',
      },
      args: { SOURCE_DATE_EPOCH: '1714557600' },
      'cache-from': ['type=registry,ref=reg.local/app-cache:devstack-master'],
      'cache-to': ['type=registry,ref=reg.local/app-cache:devstack-master,mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true'],
      output: ['type=image,push=true'],
      attest: ['type=provenance,disabled=true'],
    });
    expect(def.target.production?.target).toBe('production');
    expect(def.target.production?.['cache-to']?.[0]).toContain('app-cache:production-master');
  });

  test('build args, proxy args, secrets and platforms reach every target; SOURCE_DATE_EPOCH always wins', () => {
    const def = bakeDefinition(
      options({
        buildArgs: { PYTHON: '3.12' },
        proxyArgs: { HTTP_PROXY: 'http://p:3128' },
        secrets: ['id=pip.conf,src=/tmp/s/pip.conf'],
        platforms: ['linux/amd64', 'linux/arm64'],
      }),
    );
    for (const target of Object.values(def.target)) {
      expect(target.args).toEqual({ PYTHON: '3.12', HTTP_PROXY: 'http://p:3128', SOURCE_DATE_EPOCH: '1714557600' });
      expect(target.secret).toEqual(['id=pip.conf,src=/tmp/s/pip.conf']);
      expect(target.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    }
  });

  test.each<[BakeOptions['output'], string[], string[]]>([
    ['push', [], ['type=image,push=true']],
    ['load', [], ['type=docker']],
    ['load', ['linux/amd64', 'linux/arm64'], ['type=cacheonly']],
    ['cacheonly', [], ['type=cacheonly']],
  ])('output %s on %j', (output, platforms, expected) => {
    expect(bakeDefinition(options({ output, platforms })).target.devstack?.output).toEqual(expected);
  });

  test('a pull request loads pr-<n> locally and never lists it for a push', () => {
    const prGit = { ...git, eventName: 'pull_request', ref: 'refs/pull/5/merge', prNumber: 5 };
    const tags = computeTags(prGit);
    expect(bakeDefinition(options({ git: prGit, tags, output: 'load' })).target.devstack?.tags).toEqual([
      'reg.local/app-dev:sha-bbbbbbb',
      'reg.local/app-dev:pr-5',
    ]);
    expect(bakeDefinition(options({ git: prGit, tags, output: 'push' })).target.devstack?.tags).toEqual([]);
  });

  test.each([
    [undefined, ['type=provenance,disabled=true']],
    ['false', ['type=provenance,disabled=true']],
    ['true', ['type=provenance,mode=min']],
    ['mode=max', ['type=provenance,mode=max']],
  ])('provenance %j', (provenance, attest) => {
    expect(bakeDefinition(options({ provenance })).target.production?.attest).toEqual(attest);
  });

  test('an unknown provenance value names the input', () => {
    expect(() => bakeDefinition(options({ provenance: 'yes' }))).toThrow(/Input `provenance`/);
  });
});

describe('provenance mode=max with a proxy that carries credentials', () => {
  const proxy = (url: string) => ({ HTTP_PROXY: url, http_proxy: url });
  // mode=max records every build arg (and proxies are build args) in the pushed attestation.
  test.each<[string, string | undefined, Record<string, string>, RegExp | null]>([
    ['mode=max, proxy with user and password', 'mode=max', proxy('http://proxyuser:s3cret@127.0.0.1:3128'), /`provenance`.*mode=max.*`mirrors`.*\(http-proxy\)/],
    ['mode=max, token as the proxy user', 'mode=max', { HTTPS_PROXY: 'http://tok3n@proxy:3128', https_proxy: 'http://tok3n@proxy:3128' }, /\(https-proxy\)/],
    ['mode=max, all-proxy with credentials', 'mode=max', { ALL_PROXY: 'socks5://u:p@proxy:1080' }, /\(all-proxy\)/],
    ['mode=max, several proxies are all named', 'mode=max', { ...proxy('http://u:p@a:1'), HTTPS_PROXY: 'http://u:p@b:1' }, /\(http-proxy, https-proxy\)/],
    ['mode=max, proxy without credentials', 'mode=max', proxy('http://127.0.0.1:3128'), null],
    ['mode=max, no-proxy only', 'mode=max', { NO_PROXY: 'user@host', no_proxy: 'user@host' }, null],
    ['mode=max, no proxy at all', 'mode=max', {}, null],
    ['mode=min leaves build args out', 'mode=min', proxy('http://u:p@proxy:3128'), null],
    ['true is mode=min', 'true', proxy('http://u:p@proxy:3128'), null],
    ['provenance off', 'false', proxy('http://u:p@proxy:3128'), null],
    ['provenance not given', undefined, proxy('http://u:p@proxy:3128'), null],
  ])('%s', (_, provenance, proxyArgs, refusal) => {
    if (refusal) {
      expect(() => checkProvenanceProxies(provenance, proxyArgs)).toThrow(refusal);
      expect(() => bakeDefinition(options({ provenance, proxyArgs }))).toThrow(/^Input `provenance`: .*Use `provenance: mode=min`/);
    } else {
      expect(() => checkProvenanceProxies(provenance, proxyArgs)).not.toThrow();
      expect(bakeDefinition(options({ provenance, proxyArgs })).target.production?.args).toMatchObject(proxyArgs);
    }
  });

  // A build arg that `mirrors` also sets would be silently replaced by one of them.
  test.each<[string, Record<string, string>, Record<string, string>, RegExp | null]>([
    ['the same name', { HTTP_PROXY: 'http://a:1' }, proxy('http://b:2'), /^Input `build-args`: sets HTTP_PROXY, which `mirrors` sets too/],
    ['another case of the name', { https_proxy: 'http://a:1' }, { HTTPS_PROXY: 'http://b:2' }, /sets https_proxy, which/],
    ['several names, all named', { HTTP_PROXY: 'x', NO_PROXY: 'y', OTHER: 'z' }, { ...proxy('http://b:2'), NO_PROXY: 'n' }, /sets HTTP_PROXY, NO_PROXY, which/],
    ['different names', { PIP_INDEX_URL: 'http://pypi/simple' }, proxy('http://b:2'), null],
    ['no mirrors', { HTTP_PROXY: 'http://a:1' }, {}, null],
  ])('build-args and mirrors: %s', (_, buildArgs, proxyArgs, refusal) => {
    if (refusal) {
      expect(() => checkProxyConflicts(buildArgs, proxyArgs)).toThrow(refusal);
      expect(() => bakeDefinition(options({ buildArgs, proxyArgs }))).toThrow(/Give the proxy in one place/);
    } else {
      expect(() => checkProxyConflicts(buildArgs, proxyArgs)).not.toThrow();
      expect(bakeDefinition(options({ buildArgs, proxyArgs })).target.production?.args).toMatchObject({ ...buildArgs, ...proxyArgs });
    }
  });

  test('the refusal never echoes the credentials', () => {
    expect(() => checkProvenanceProxies('mode=max', { HTTP_PROXY: 'http://proxyuser:s3cret@proxy:3128' })).toThrow(
      expect.objectContaining({ message: expect.not.stringMatching(/s3cret|proxyuser/) }),
    );
  });
});

// A declared proxy ARG is written with its value into the image history (`RUN |1 HTTP_PROXY=... /bin/sh -c ...`,
// seen on the harness engine): with credentials in the `mirrors` proxy, that would push the password.
describe('a proxy ARG declared in the Dockerfile while a `mirrors` proxy carries credentials', () => {
  const withCredentials = parseMirrors('http-proxy=http://proxyuser:Pr0xyS3cret@127.0.0.1:9').proxyArgs;
  const base = 'FROM busybox:1.36 AS deps\nRUN true\n';
  test.each<[string, string, Record<string, string>, RegExp | null]>([
    ['ARG HTTP_PROXY in a built stage', `${base}FROM deps AS dev\nFROM deps AS production\nARG HTTP_PROXY\nRUN true\n`, withCredentials, /^Input `mirrors`: the proxy \(http-proxy\) carries credentials, and Dockerfile declares it as a build arg on line 5 \(`ARG HTTP_PROXY`, stage `production`\)/],
    ['lower case, with a default', `${base}FROM deps AS dev\nARG http_proxy=http://x:1\nFROM deps AS production\n`, withCredentials, /on line 4 \(`ARG http_proxy`, stage `dev`\)/],
    ['in the stage a target is built FROM', `FROM busybox:1.36 AS deps\nARG HTTP_PROXY\nRUN true\nFROM deps AS dev\nFROM deps AS production\n`, withCredentials, /on line 2 \(`ARG HTTP_PROXY`, stage `deps`\)/],
    ['in a stage a target copies from', `FROM busybox:1.36 AS tools\nARG HTTP_PROXY\nRUN true\nFROM busybox:1.36 AS dev\nCOPY --from=tools /bin/sh /x\nFROM dev AS production\n`, withCredentials, /line 2 \(`ARG HTTP_PROXY`, stage `tools`\)/],
    ['several, all named', `${base}FROM deps AS dev\nARG HTTP_PROXY\nARG http_proxy\nFROM deps AS production\nARG HTTP_PROXY\n`, withCredentials, /line 4 \(`ARG HTTP_PROXY`, stage `dev`\), line 5 \(`ARG http_proxy`, stage `dev`\), line 7 \(`ARG HTTP_PROXY`, stage `production`\).*Delete the `ARG HTTP_PROXY`\/`ARG http_proxy` lines: BuildKit passes the proxy args to RUN without them/],
    ['one ARG declaring two names (`ARG FOO HTTP_PROXY` declares both)', `${base}FROM deps AS dev\nARG FOO HTTP_PROXY\nFROM deps AS production\n`, withCredentials, /line 4 \(`ARG HTTP_PROXY`, stage `dev`\)/],
    ['with a default before it', `${base}FROM deps AS dev\nARG A="x y" https_proxy\nFROM deps AS production\n`, parseMirrors('https-proxy=http://u:p@127.0.0.1:9').proxyArgs, /`ARG https_proxy`/],
    ['a proxy name inside a quoted default is only a value', `${base}FROM deps AS dev\nARG NOTE="set HTTP_PROXY yourself"\nARG C=x\\ HTTP_PROXY\nFROM deps AS production\n`, withCredentials, null],
    ['a token as the proxy user', `${base}FROM deps AS dev\nARG HTTPS_PROXY\nFROM deps AS production\n`, parseMirrors('https-proxy=http://tok3n@127.0.0.1:9').proxyArgs, /\(https-proxy\)/],
    ['all-proxy, any case of the name', `${base}FROM deps AS dev\nARG All_Proxy\nFROM deps AS production\n`, parseMirrors('all-proxy=socks5://u:p@127.0.0.1:1080').proxyArgs, /`ARG All_Proxy`/],
    ['the proxy without credentials: the lint warns, the build goes on', `${base}FROM deps AS dev\nARG HTTP_PROXY\nFROM deps AS production\n`, parseMirrors('http-proxy=http://127.0.0.1:9').proxyArgs, null],
    ['ARG NO_PROXY: its value carries no credentials', `${base}FROM deps AS dev\nARG NO_PROXY\nFROM deps AS production\n`, parseMirrors('http-proxy=http://u:p@127.0.0.1:9\nno-proxy=localhost').proxyArgs, null],
    ['ARG HTTPS_PROXY while only http-proxy has credentials', `${base}FROM deps AS dev\nARG HTTPS_PROXY\nFROM deps AS production\n`, withCredentials, null],
    ['a global ARG (before FROM) never reaches RUN', `ARG HTTP_PROXY\n${base}FROM deps AS dev\nFROM deps AS production\n`, withCredentials, null],
    ['in a stage no target builds', `${base}FROM deps AS dev\nFROM deps AS production\nFROM deps AS unused\nARG HTTP_PROXY\n`, withCredentials, null],
    ['no proxy in mirrors', `${base}FROM deps AS dev\nARG HTTP_PROXY\nFROM deps AS production\n`, {}, null],
  ])('%s', (_, dockerfile, proxyArgs, refusal) => {
    const model = parseDockerfile(dockerfile);
    if (refusal) {
      expect(() => checkDeclaredProxyArgs(model, ['dev', 'production'], proxyArgs)).toThrow(refusal);
      expect(() => bakeDefinition(options({ proxyArgs, model }))).toThrow(/^Input `mirrors`: .*BuildKit passes the proxy args to RUN without (it|them), kept out of the cache key and the history/);
    } else {
      expect(() => checkDeclaredProxyArgs(model, ['dev', 'production'], proxyArgs)).not.toThrow();
      expect(bakeDefinition(options({ proxyArgs, model })).target.production?.args).toMatchObject(proxyArgs);
    }
  });

  test('the refusal names the input, the line and the fix, never the credentials', () => {
    const model = parseDockerfile('FROM busybox:1.36 AS dev\nARG HTTP_PROXY\nRUN true\nFROM dev AS production\n', 'svc/Dockerfile');
    let error: unknown;
    try {
      bakeDefinition(options({ proxyArgs: withCredentials, model }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ input: 'mirrors' });
    expect((error as Error).message).toBe(
      'Input `mirrors`: the proxy (http-proxy) carries credentials, and svc/Dockerfile declares it as a build arg on line 2 (`ARG HTTP_PROXY`, stage `dev`): ' +
        'a declared proxy ARG is written with its value into the image history of every later RUN, so the password would be pushed with the image. ' +
        'Delete the `ARG HTTP_PROXY` line: BuildKit passes the proxy args to RUN without it, kept out of the cache key and the history. Or give `mirrors` a proxy without credentials.',
    );
    expect((error as Error).message).not.toMatch(/Pr0xyS3cret|proxyuser/);
  });
});

describe('getBakeArgs', () => {
  test.each([
    [
      { bakeFile: '/t/bake.json', metadataFile: '/t/meta.json' },
      ['buildx', 'bake', '--file', '/t/bake.json', '--progress=rawjson', '--metadata-file', '/t/meta.json'],
    ],
    [
      { bakeFile: 'b.json', metadataFile: 'm.json', builder: 'ci', pull: true, targets: ['devstack'] },
      ['buildx', 'bake', '--builder', 'ci', '--file', 'b.json', '--progress=rawjson', '--metadata-file', 'm.json', '--pull', 'devstack'],
    ],
  ])('%j', (run, argv) => {
    expect(getBakeArgs(run)).toEqual(argv);
  });
});

describe('input parsing', () => {
  test.each([
    ['A=1\nB=x,y=z\n\n# comment\nC=', { A: '1', B: 'x,y=z', C: '' }],
    ['', {}],
  ])('parseBuildArgs %j', (input, expected) => {
    expect(parseBuildArgs(input)).toEqual(expected);
  });
  test.each([
    ['NOVALUE', /Input `build-args`: `NOVALUE` is not KEY=value/],
    ['1A=x', /Input `build-args`/],
    ['SOURCE_DATE_EPOCH=1', /SOURCE_DATE_EPOCH is set from the commit time/],
  ])('parseBuildArgs rejects %j', (input, message) => {
    expect(() => parseBuildArgs(input)).toThrow(message);
  });
  test('parsePlatforms', () => {
    expect(parsePlatforms('linux/amd64, linux/arm64/v8\n')).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(() => parsePlatforms('amd64')).toThrow(/Input `platforms`: `amd64` is not a platform/);
  });
});

describe('splitBuildAndPush', () => {
  test('a pushing bake becomes a cache-only build of every target, then a push with the cache import and no export', () => {
    const def = bakeDefinition(options({ provenance: 'mode=min' }));
    const split = splitBuildAndPush(def)!;
    for (const name of ['devstack', 'production']) {
      const original = def.target[name]!;
      expect(split.build.target[name]).toEqual({ ...original, output: ['type=cacheonly'], attest: [] });
      expect(Object.keys(split.build.target[name]!)).toEqual(expect.arrayContaining(['cache-from', 'cache-to']));
      const { 'cache-to': _to, ...pushed } = original;
      expect(split.push.target[name]).toEqual(pushed);
      expect(split.push.target[name]?.['cache-from'], 'the push imports the cache too').toEqual(original['cache-from']);
      expect(original['cache-to']?.length, 'the fixture exports a cache').toBeGreaterThan(0);
    }
    expect(split.build.group).toEqual(def.group);
    expect(split.push.group).toEqual(def.group);
  });

  test('an inline cache is exported by the push (it rides in the pushed image), not by the cache-only build', () => {
    const inline = Object.fromEntries(flavours.map((f) => [f.name, planCache({ mode: 'inline', flavour: f, image: 'reg.local/app', git, push: true, ghaAvailable: false })]));
    const def = bakeDefinition(options({ cache: inline }));
    expect(def.target.devstack?.['cache-to']).toEqual(['type=inline']);
    const split = splitBuildAndPush(def)!;
    expect(split.build.target.devstack?.['cache-to']).toBeUndefined();
    expect(split.push.target.devstack?.['cache-to']).toEqual(['type=inline']);
  });

  test.each([['load' as const], ['cacheonly' as const]])('a bake that does not push (%s) is not split', (output) => {
    expect(splitBuildAndPush(bakeDefinition(options({ output })))).toBeUndefined();
  });
});

import { describe, expect, test } from 'vitest';
import {
  cacheMountKey,
  describeUnresolvedCacheMount,
  extractDockerfile,
  injectDockerfile,
  mountDirName,
  parseDockerfile,
  platformArgs,
  resolveCacheMounts,
} from '../src/index.js';
import type { BuildVariables } from '../src/index.js';

const AMD64: BuildVariables = { buildPlatform: 'linux/amd64' };

/** `[id, target]` of each kept mount, and `line id: name(reason)` of each mount left out. */
function resolved(dockerfile: string, variables: BuildVariables = AMD64): { kept: string[][]; unresolved: string[] } {
  const result = resolveCacheMounts(parseDockerfile(dockerfile), variables);
  return {
    kept: result.mounts.map((m) => [m.id, m.target]),
    unresolved: result.unresolved.map((m) => `${m.line} ${m.id}: ${m.missing.map((v) => `${v.name}(${v.reason})`).join(' ')}`),
  };
}

const APK = 'RUN --mount=type=cache,id=apk-$TARGETARCH,target=/var/cache/apk apk add curl';

describe('resolveCacheMounts: ids and targets as BuildKit expands them', () => {
  test.each<[string, string, BuildVariables, string[][]]>([
    ['a literal mount is kept as written', 'FROM a\nRUN --mount=type=cache,id=pip,target=/root/.cache/pip true', AMD64, [['pip', '/root/.cache/pip']]],
    ['$TARGETARCH declared in the stage: the native platform', `FROM a\nARG TARGETARCH\n${APK}`, { buildPlatform: 'linux/arm64' }, [['apk-arm64', '/var/cache/apk']]],
    [
      'one mount per platform built',
      `FROM a\nARG TARGETARCH\n${APK}`,
      { buildPlatform: 'linux/amd64', platforms: ['linux/amd64', 'linux/arm64'] },
      [['apk-amd64', '/var/cache/apk'], ['apk-arm64', '/var/cache/apk']],
    ],
    [
      'an id the platforms expand alike is one mount',
      'FROM a\nARG TARGETOS\nRUN --mount=type=cache,id=go-${TARGETOS},target=/root/.cache/go-build go build',
      { buildPlatform: 'linux/amd64', platforms: ['linux/amd64', 'linux/arm64'] },
      [['go-linux', '/root/.cache/go-build']],
    ],
    ['${VAR} in the target (id defaults to it) from an ENV', 'FROM a\nENV CACHE_DIR=/root/.cache/x\nRUN --mount=type=cache,target=${CACHE_DIR} true', AMD64, [['/root/.cache/x', '/root/.cache/x']]],
    ['an ENV made of an ENV', 'FROM a\nENV HOME=/home/app\nENV PIP_CACHE="$HOME/pip" OTHER=1\nRUN --mount=type=cache,target=$PIP_CACHE true', AMD64, [['/home/app/pip', '/home/app/pip']]],
    ['the old `ENV NAME value` form', 'FROM a\nENV CACHE /c\nRUN --mount=type=cache,target=$CACHE true', AMD64, [['/c', '/c']]],
    ['a global ARG redeclared in the stage: its default', 'ARG GO=1.22\nFROM a\nARG GO\nRUN --mount=type=cache,id=go-$GO,target=/go true', AMD64, [['go-1.22', '/go']]],
    ['a global ARG redeclared: the build arg over the default', 'ARG GO=1.22\nFROM a\nARG GO\nRUN --mount=type=cache,id=go-$GO,target=/go true', { ...AMD64, buildArgs: { GO: '1.23' } }, [['go-1.23', '/go']]],
    ['a stage ARG default naming another ARG', 'FROM a\nARG TARGETARCH\nARG DIR=/cache/${TARGETARCH}\nRUN --mount=type=cache,target=$DIR true', AMD64, [['/cache/amd64', '/cache/amd64']]],
    ['a stage ARG without default, given as a build arg', 'FROM a\nARG FLAVOUR\nRUN --mount=type=cache,id=c-$FLAVOUR,target=/c true', { ...AMD64, buildArgs: { FLAVOUR: 'slim' } }, [['c-slim', '/c']]],
    ['an ENV wins over an ARG of the same name, even a build arg', 'FROM a\nENV D=/env\nARG D=/arg\nRUN --mount=type=cache,target=$D true', { ...AMD64, buildArgs: { D: '/given' } }, [['/env', '/env']]],
    ['a stage sees the ARGs and ENVs of the stage it builds on', `FROM a AS base\nARG TARGETARCH\nFROM base AS dev\n${APK}`, AMD64, [['apk-amd64', '/var/cache/apk']]],
    ['${VAR:-default} of an undeclared variable: the default', 'FROM a\nRUN --mount=type=cache,target=${DIR:-/fallback} true', AMD64, [['/fallback', '/fallback']]],
    ['${VAR:+word} of a set variable: the word', 'FROM a\nARG ON=1\nRUN --mount=type=cache,id=c${ON:+-on},target=/c true', AMD64, [['c-on', '/c']]],
    ['TARGETVARIANT is empty for amd64', 'FROM a\nARG TARGETVARIANT\nRUN --mount=type=cache,id=c-${TARGETVARIANT}-x,target=/c true', AMD64, [['c--x', '/c']]],
    ['first expanded id wins across RUNs', `FROM a\nARG TARGETARCH\n${APK}\nRUN --mount=type=cache,id=apk-amd64,target=/other true`, AMD64, [['apk-amd64', '/var/cache/apk']]],
  ])('%s', (_, dockerfile, variables, expected) => {
    expect(resolved(dockerfile, variables)).toEqual({ kept: expected, unresolved: [] });
  });

  test('owner options are expanded too', () => {
    const { mounts } = resolveCacheMounts(parseDockerfile('FROM a\nARG UID=1000\nRUN --mount=type=cache,target=/c,uid=$UID,gid=${UID} true'), AMD64);
    expect(mounts.map((m) => m.options)).toEqual([{ uid: '1000', gid: '1000' }]);
  });
});

describe('resolveCacheMounts: mounts whose variables only the build knows are left out', () => {
  test.each<[string, string, BuildVariables, string[]]>([
    ['$TARGETARCH not declared in the stage', `FROM a\n${APK}`, AMD64, ['2 apk-$TARGETARCH: TARGETARCH(undeclared)']],
    ['a global ARG the stage does not redeclare', 'ARG GO=1.22\nFROM a\nRUN --mount=type=cache,id=go-$GO,target=/go true', AMD64, ['3 go-$GO: GO(undeclared)']],
    ['an ARG declared after the RUN', 'FROM a\nRUN --mount=type=cache,id=c-$V,target=/c true\nARG V=1', AMD64, ['2 c-$V: V(undeclared)']],
    ['an ARG of another stage', 'FROM a AS one\nARG V=1\nFROM a AS two\nRUN --mount=type=cache,id=c-$V,target=/c true', AMD64, ['4 c-$V: V(undeclared)']],
    ['an ARG without default nor build arg', 'FROM a\nARG FLAVOUR\nRUN --mount=type=cache,id=c-$FLAVOUR,target=/c true', AMD64, ['3 c-$FLAVOUR: FLAVOUR(no-value)']],
    ['an ENV made of an unknown value', 'FROM a\nENV DIR=$HOME/.cache\nRUN --mount=type=cache,target=$DIR true', AMD64, ['3 $DIR: DIR(no-value)']],
    ['an expansion form not handled', 'FROM a\nARG V=1.2\nRUN --mount=type=cache,id=c-${V%.*},target=/c true', AMD64, ['3 c-${V%.*}: ${V%.*}(syntax)']],
    ['an owner option', 'FROM a\nRUN --mount=type=cache,target=/c,uid=$UID true', AMD64, ['2 /c: UID(undeclared)']],
    // Resolvability does not depend on the platform: one entry for the mount, not one per platform.
    ['once per mount, whatever the platforms', `FROM a\n${APK}`, { buildPlatform: 'linux/amd64', platforms: ['linux/amd64', 'linux/arm64'] }, ['2 apk-$TARGETARCH: TARGETARCH(undeclared)']],
  ])('%s', (_, dockerfile, variables, expected) => {
    expect(resolved(dockerfile, variables)).toEqual({ kept: [], unresolved: expected });
  });

  test('the other mounts of the Dockerfile are still kept', () => {
    expect(resolved(`FROM a\nRUN --mount=type=cache,id=pip,target=/root/.cache/pip ${APK.slice(4)}`)).toEqual({
      kept: [['pip', '/root/.cache/pip']],
      unresolved: ['2 apk-$TARGETARCH: TARGETARCH(undeclared)'],
    });
  });
});

describe('platformArgs', () => {
  test.each([
    ['linux/amd64', { TARGETPLATFORM: 'linux/amd64', TARGETOS: 'linux', TARGETARCH: 'amd64', TARGETVARIANT: '' }],
    ['linux/arm64/v8', { TARGETPLATFORM: 'linux/arm64', TARGETOS: 'linux', TARGETARCH: 'arm64', TARGETVARIANT: '' }],
    ['linux/arm', { TARGETPLATFORM: 'linux/arm/v7', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' }],
    ['linux/arm/v6', { TARGETPLATFORM: 'linux/arm/v6', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v6' }],
  ])('%s', (platform, expected) => {
    expect(platformArgs(platform, 'linux/amd64')).toEqual({ ...expected, BUILDPLATFORM: 'linux/amd64', BUILDOS: 'linux', BUILDARCH: 'amd64', BUILDVARIANT: '' });
  });
});

describe('describeUnresolvedCacheMount', () => {
  test.each([
    [`FROM a\n${APK}`, ['`id=apk-$TARGETARCH` (Dockerfile line 2)', 'declare `ARG TARGETARCH` in the stage before the RUN']],
    ['FROM a\nARG F\nRUN --mount=type=cache,target=/c/$F true', ['`target=/c/$F` (Dockerfile line 3)', 'pass F in `build-args`']],
    ['FROM a\nRUN --mount=type=cache,id=${V/x/y},target=/c true', ['`id=${V/x/y}` (Dockerfile line 2)', 'use `$NAME`']],
  ])('%#', (dockerfile, parts) => {
    const [mount] = resolveCacheMounts(parseDockerfile(dockerfile), AMD64).unresolved;
    const message = describeUnresolvedCacheMount(mount!, 'Dockerfile');
    expect(message).toMatch(/^The cache mount .* is not kept between runs: /);
    for (const part of parts) expect(message).toContain(part);
  });
});

describe('the helper builds and the key use the expanded ids', () => {
  const model = parseDockerfile(`FROM a\nARG TARGETARCH\n${APK}`);
  const amd = resolveCacheMounts(model, AMD64).mounts;
  const arm = resolveCacheMounts(model, { buildPlatform: 'linux/arm64' }).mounts;

  test.each([
    ['extract', extractDockerfile],
    ['inject', injectDockerfile],
  ])('%s mounts id=apk-amd64 and refuses an unexpanded id', (_, generate) => {
    expect(generate(amd, 'busybox')).toContain(`--mount=type=cache,id=apk-amd64,target=/cache/${mountDirName({ id: 'apk-amd64' })},sharing=locked`);
    const [written] = resolveCacheMounts(parseDockerfile(`FROM a\n${APK}`), AMD64).unresolved;
    expect(() => generate([written!], 'busybox')).toThrow(/still holds a variable/);
  });

  test('the mounts part of the key follows the expansion', () => {
    expect(cacheMountKey('p', amd, [], '1-1').mountsHash).not.toBe(cacheMountKey('p', arm, [], '1-1').mountsHash);
  });
});

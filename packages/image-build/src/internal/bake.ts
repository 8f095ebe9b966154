import { InputError, redactUserInfo } from './errors.js';
import { flavourTags, ociLabels, sourceDateEpoch } from './git-tags.js';
import type { GitContext, TagPlan } from './git-tags.js';
import type { CachePlan } from './cache-scopes.js';
import { stageClosure } from './dockerfile-model.js';
import type { DockerfileModel, Stage } from './dockerfile-model.js';
import type { Flavour } from './targets.js';

/** One target of a bake JSON file, with the field names buildx 0.13 reads. */
export interface BakeTarget {
  context: string;
  dockerfile: string;
  target: string;
  tags: string[];
  labels: Record<string, string>;
  args: Record<string, string>;
  secret?: string[];
  platforms?: string[];
  'cache-from'?: string[];
  'cache-to'?: string[];
  output: string[];
  attest: string[];
}

export interface BakeDefinition {
  group: { default: { targets: string[] } };
  target: Record<string, BakeTarget>;
}

export type OutputMode = 'push' | 'load' | 'cacheonly';

export interface BakeOptions {
  context: string;
  dockerfile: string;
  flavours: Flavour[];
  tags: TagPlan[];
  git: GitContext;
  /** The `build-args` input, parsed (see parseBuildArgs). */
  buildArgs?: Record<string, string>;
  /** Predefined proxy ARGs from `mirrors`: not part of the cache key. */
  proxyArgs?: Record<string, string>;
  /** Bake `secret` entries: `id=<id>,src=<file>` or `id=<id>,env=<VAR>`. */
  secrets?: string[];
  platforms?: string[];
  cache: Record<string, CachePlan>;
  output: OutputMode;
  /** The `provenance` input: `false`, `true`, `mode=min` or `mode=max`. */
  provenance?: string;
  /**
   * The parsed Dockerfile: when given, a proxy ARG declared in a stage of the build is refused while
   * a `mirrors` proxy carries credentials (see checkDeclaredProxyArgs).
   */
  model?: DockerfileModel;
}

/** Parses `build-args`: one `KEY=value` per line (values may hold commas and `=`). */
export function parseBuildArgs(value: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const raw of value.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new InputError('build-args', `\`${redactUserInfo(line)}\` is not KEY=value`, 'Write one `KEY=value` per line.');
    }
    if (key === 'SOURCE_DATE_EPOCH') {
      throw new InputError('build-args', 'SOURCE_DATE_EPOCH is set from the commit time', 'Remove it: the commit time keeps digests reproducible.');
    }
    args[key] = line.slice(eq + 1);
  }
  return args;
}

/** Parses `platforms` (`linux/amd64,linux/arm64`). */
export function parsePlatforms(value: string): string[] {
  const platforms = value.split(/[,\n]/).map((p) => p.trim()).filter(Boolean);
  for (const p of platforms) {
    if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(p)) {
      throw new InputError('platforms', `\`${p}\` is not a platform`, 'Write os/arch[/variant], e.g. `linux/amd64,linux/arm64`.');
    }
  }
  return platforms;
}

/** Parses the `provenance` input (`false`, `true`, `mode=min`, `mode=max`); empty means `false`. */
export function parseProvenance(value: string): string {
  const normalized = value.trim() || 'false';
  attestations(normalized);
  return normalized;
}

function attestations(provenance: string | undefined): string[] {
  const value = (provenance ?? 'false').trim();
  // Provenance records build times, so it changes the index digest of an unchanged commit: off by default.
  if (value === 'false' || value === '') return ['type=provenance,disabled=true'];
  if (value === 'true') return ['type=provenance,mode=min'];
  if (/^mode=(min|max)$/.test(value)) return [`type=provenance,${value}`];
  throw new InputError('provenance', `\`${provenance}\` is not understood`, 'Use false, true, mode=min or mode=max.');
}

/** Whether a URL carries user info (a password, or a token as the user name). */
function hasUserInfo(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return value.includes('@');
  }
}

/**
 * Refuses `provenance: mode=max` when a proxy of `mirrors` carries credentials. Proxies reach the
 * build as (predefined) build args, and mode=max records every build arg in the provenance
 * attestation pushed next to the image; mode=min leaves build args out. Mirror files (pip, npm,
 * apt) are build secrets, which no provenance mode records.
 */
export function checkProvenanceProxies(provenance: string | undefined, proxyArgs: Record<string, string> = {}): void {
  if ((provenance ?? '').trim() !== 'mode=max') return;
  const keys = new Set(
    Object.entries(proxyArgs)
      .filter(([name, value]) => name.toUpperCase() !== 'NO_PROXY' && hasUserInfo(value))
      .map(([name]) => name.toLowerCase().replace(/_/g, '-')),
  );
  if (keys.size === 0) return;
  throw new InputError(
    'provenance',
    `mode=max records every build arg in the attestation pushed with the image, and the \`mirrors\` proxy (${[...keys].join(', ')}) is a build arg carrying credentials`,
    'Use `provenance: mode=min` (or `true`), or give `mirrors` a proxy without credentials.',
  );
}

/**
 * Refuses a build arg that `mirrors` also sets (its proxy ARGs): one would silently replace the other.
 * Proxy ARG names are matched in any case (Docker predefines both HTTP_PROXY and http_proxy).
 */
export function checkProxyConflicts(buildArgs: Record<string, string> = {}, proxyArgs: Record<string, string> = {}): void {
  const fromMirrors = new Set(Object.keys(proxyArgs).map((name) => name.toUpperCase()));
  const both = Object.keys(buildArgs).filter((name) => fromMirrors.has(name.toUpperCase()));
  if (both.length === 0) return;
  throw new InputError(
    'build-args',
    `sets ${both.join(', ')}, which \`mirrors\` sets too (its proxy)`,
    'Give the proxy in one place: in `mirrors` (kept out of the cache key) or in `build-args`.',
  );
}

/** BuildKit's predefined proxy ARG names, any case. */
const PROXY_ARG_NAME = /^(?:https?_proxy|ftp_proxy|all_proxy|no_proxy)$/i;

/**
 * Refuses a Dockerfile that declares a proxy ARG (`ARG HTTP_PROXY`, any case) in a stage the build
 * runs (the targets' stages and the stages they need) while `mirrors` gives that proxy with
 * credentials. Undeclared, BuildKit's predefined proxy args reach RUN but stay out of the image
 * history; declared, every later RUN of the stage is recorded as `RUN |1 HTTP_PROXY=<value> ...` in
 * the image config, which `docker history` shows and a push publishes, password included. A proxy
 * without credentials is left to the lint (`cache-busting-arg`). Global ARGs (before the first FROM)
 * do not reach RUN and are not refused. The error names ARGs and lines, never a value.
 */
export function checkDeclaredProxyArgs(model: DockerfileModel, targets: string[], proxyArgs: Record<string, string> = {}): void {
  const withCredentials = new Map(
    Object.entries(proxyArgs)
      .filter(([name, value]) => PROXY_ARG_NAME.test(name) && hasUserInfo(value))
      .map(([name]) => [name.toUpperCase(), name.toLowerCase().replace(/_/g, '-')]),
  );
  if (withCredentials.size === 0) return;
  const stages = new Map<number, Stage>();
  for (const target of targets) for (const stage of stageClosure(model, target)) stages.set(stage.index, stage);
  const declared: Array<{ name: string; line: number; stage: string }> = [];
  for (const stage of [...stages.values()].sort((a, b) => a.index - b.index)) {
    for (const step of stage.steps.filter((s) => s.keyword === 'ARG')) {
      for (const { name } of step.argNames ?? []) {
        if (withCredentials.has(name.toUpperCase())) declared.push({ name, line: step.line, stage: stage.name });
      }
    }
  }
  if (declared.length === 0) return;
  const where = declared.map((d) => `line ${d.line} (\`ARG ${d.name}\`, stage \`${d.stage}\`)`).join(', ');
  const kinds = [...new Set(declared.map((d) => withCredentials.get(d.name.toUpperCase())))].join(', ');
  const names = [...new Set(declared.map((d) => `\`ARG ${d.name}\``))].join('/');
  const lines = declared.length > 1 ? 'lines: BuildKit passes the proxy args to RUN without them' : 'line: BuildKit passes the proxy args to RUN without it';
  throw new InputError(
    'mirrors',
    `the proxy (${kinds}) carries credentials, and ${model.file} declares it as a build arg on ${where}: a declared proxy ARG is written with its value into the image history of every later RUN, so the password would be pushed with the image`,
    `Delete the ${names} ${lines}, kept out of the cache key and the history. Or give \`mirrors\` a proxy without credentials.`,
  );
}

function outputOf(mode: OutputMode, platforms: string[]): string[] {
  if (mode === 'push') return ['type=image,push=true'];
  // The classic image store cannot hold a multi-platform image: build it into the cache only.
  if (mode === 'load' && platforms.length <= 1) return ['type=docker'];
  return ['type=cacheonly'];
}

/**
 * One bake file for every flavour: one `docker buildx bake` solves all targets together, so the
 * stages they share are built once. Each flavour has its own tags, labels and cache scopes.
 */
export function bakeDefinition(o: BakeOptions): BakeDefinition {
  const platforms = o.platforms ?? [];
  const attest = attestations(o.provenance);
  checkProvenanceProxies(o.provenance, o.proxyArgs);
  checkProxyConflicts(o.buildArgs, o.proxyArgs);
  if (o.model) checkDeclaredProxyArgs(o.model, o.flavours.map((f) => f.stage), o.proxyArgs);
  const target: Record<string, BakeTarget> = {};
  for (const flavour of o.flavours) {
    const cache = o.cache[flavour.name];
    const entry: BakeTarget = {
      context: o.context,
      dockerfile: o.dockerfile,
      target: flavour.stage,
      tags: flavourTags(flavour, o.tags, o.output === 'push' ? 'pushable' : 'all'),
      labels: ociLabels(o.git, flavour),
      args: { ...o.buildArgs, ...o.proxyArgs, SOURCE_DATE_EPOCH: sourceDateEpoch(o.git) },
      output: outputOf(o.output, platforms),
      attest,
    };
    if (o.secrets?.length) entry.secret = [...o.secrets];
    if (platforms.length) entry.platforms = [...platforms];
    if (cache?.from.length) entry['cache-from'] = [...cache.from];
    if (cache?.to.length) entry['cache-to'] = [...cache.to];
    target[flavour.name] = entry;
  }
  return { group: { default: { targets: o.flavours.map((f) => f.name) } }, target };
}

/**
 * A pushing bake as two, so a flavour that fails to build publishes nothing and no other flavour is
 * published without it: `build` solves every target into the build cache only (importing and exporting
 * the caches, as one bake did), `push` then pushes the same targets, whose every step is cached by then
 * (the same cache import, and only an inline cache export, which rides in the pushed image). Undefined
 * when no target pushes. Bake pushes each target on its own: a push the registry refuses half-way can
 * still leave the flavours pushed before it.
 */
export function splitBuildAndPush(definition: BakeDefinition): { build: BakeDefinition; push: BakeDefinition } | undefined {
  const pushes = (t: BakeTarget) => t.output.some((output) => /(^|,)push=true(,|$)/.test(output));
  if (!Object.values(definition.target).some(pushes)) return undefined;
  const build: Record<string, BakeTarget> = {};
  const push: Record<string, BakeTarget> = {};
  // An inline cache lives in the pushed image's config: it is exported by the push, not by the build.
  const inline = (entry: string) => /(^|,)type=inline(,|$)/.test(entry);
  for (const [name, t] of Object.entries(definition.target)) {
    const { 'cache-to': cacheTo = [], ...rest } = t;
    const buildCacheTo = cacheTo.filter((entry) => !inline(entry));
    const pushCacheTo = cacheTo.filter(inline);
    // Attestations belong to the pushed image; the cache-only solve has no image to attach them to.
    build[name] = { ...rest, ...(buildCacheTo.length ? { 'cache-to': buildCacheTo } : {}), output: ['type=cacheonly'], attest: [] };
    // The push keeps the cache import: on a fresh builder the build's hits may be lazy references to the
    // imported cache, whose blobs the push must be able to fetch.
    push[name] = { ...rest, ...(pushCacheTo.length ? { 'cache-to': pushCacheTo } : {}) };
  }
  return { build: { ...definition, target: build }, push: { ...definition, target: push } };
}

export interface BakeRun {
  bakeFile: string;
  metadataFile: string;
  builder?: string;
  /** Targets to build; default: the `default` group (every flavour). */
  targets?: string[];
  /** Re-check base images (`--pull`), e.g. on scheduled rebuilds. */
  pull?: boolean;
}

/**
 * `docker` argv for the build. `--progress=rawjson` (buildx >= 0.12) streams BuildKit's
 * SolveStatus objects on stderr for the report; the metadata file carries each target's digest.
 */
export function getBakeArgs(run: BakeRun): string[] {
  return [
    'buildx',
    'bake',
    ...(run.builder ? ['--builder', run.builder] : []),
    '--file',
    run.bakeFile,
    '--progress=rawjson',
    '--metadata-file',
    run.metadataFile,
    ...(run.pull ? ['--pull'] : []),
    ...(run.targets ?? []),
  ];
}

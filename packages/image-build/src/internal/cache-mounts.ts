import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { bindMountSources, contextSources } from './dockerfile-model.js';
import type { DockerfileModel } from './dockerfile-model.js';
import { ImageBuildError } from './errors.js';

/** A `RUN --mount=type=cache` as BuildKit identifies it: by `id`, which defaults to the target. */
export interface CacheMount {
  id: string;
  target: string;
  sharing: 'shared' | 'private' | 'locked';
  stage: string;
  line: number;
  /** Mount options that change what the cache holds or who owns it (uid, gid, mode, from, source). */
  options: Record<string, string>;
}

/** Files whose content decides what a dependency install writes into its cache mounts. */
export const LOCKFILE_PATTERN =
  /^(requirements[^/]*\.txt|constraints[^/]*\.txt|poetry\.lock|Pipfile\.lock|uv\.lock|pdm\.lock|package-lock\.json|npm-shrinkwrap\.json|pnpm-lock\.yaml|yarn\.lock|bun\.lockb?|go\.sum|Gemfile\.lock|Cargo\.lock|composer\.lock|mix\.lock|packages\.lock\.json|gradle\.lockfile)$/;

/** The options of a cache mount flag that make a CacheMount, or undefined for another mount type. */
function cacheMountOf(options: Record<string, string>, stage: string, line: number): CacheMount | undefined {
  const { type, target, dst, destination, id, sharing, ...rest } = options;
  if (type !== 'cache') return undefined;
  const mountTarget = target ?? dst ?? destination;
  if (!mountTarget) return undefined;
  return {
    id: id || mountTarget,
    target: mountTarget,
    sharing: sharing === 'private' || sharing === 'locked' ? sharing : 'shared',
    stage,
    line,
    options: Object.fromEntries(Object.entries(rest).filter(([k]) => ['uid', 'gid', 'mode', 'from', 'source', 'src'].includes(k))),
  };
}

/**
 * Every cache mount of every RUN as written (variables unexpanded), first occurrence of each id wins
 * (BuildKit shares one cache per id). resolveCacheMounts gives the ids BuildKit uses.
 */
export function findCacheMounts(model: DockerfileModel): CacheMount[] {
  const mounts = new Map<string, CacheMount>();
  for (const stage of model.stages) {
    for (const step of stage.steps) {
      if (step.keyword !== 'RUN') continue;
      for (const mountFlag of step.flags.filter((f) => f.name === 'mount')) {
        const mount = cacheMountOf(mountFlag.options, stage.name, step.line);
        if (mount && !mounts.has(mount.id)) mounts.set(mount.id, mount);
      }
    }
  }
  return [...mounts.values()];
}

/** What BuildKit expands a RUN --mount's variables with, besides the Dockerfile's own ARG and ENV. */
export interface BuildVariables {
  /** The `build-args` input: the value of an ARG of that name, over its default. */
  buildArgs?: Record<string, string>;
  /** Platforms built (`os/arch[/variant]`); empty: the builder's native platform. */
  platforms?: string[];
  /** The builder's native platform: the BUILD* ARGs, and the target when `platforms` is empty. */
  buildPlatform: string;
}

/** A variable of a cache mount whose value is not known before the build, and why. */
export interface MissingVariable {
  /** The ARG or ENV name; for `syntax`, the expression as written. */
  name: string;
  /**
   * `undeclared`: no ARG or ENV of the stage (or the stages it builds on) sets it before the RUN;
   * `no-value`: an ARG without default or build arg, or an ENV made from one; `syntax`: a form like
   * `${X%y}` that is not expanded here.
   */
  reason: 'undeclared' | 'no-value' | 'syntax';
}

/** A cache mount as written whose id, target or options cannot be expanded: it is not kept. */
export type UnresolvedCacheMount = CacheMount & { missing: MissingVariable[] };

/** `os/arch[/variant]` normalised as containerd (and so BuildKit's TARGET* ARGs) does. */
function platformParts(platform: string): { os: string; arch: string; variant: string; text: string } {
  const [os = '', arch = '', written = ''] = platform.split('/');
  const variant = (arch === 'arm64' && written === 'v8') || (arch === 'amd64' && written === 'v1') ? '' : arch === 'arm' && written === '' ? 'v7' : written;
  return { os, arch, variant, text: [os, arch, variant].filter(Boolean).join('/') };
}

/** BuildKit's automatic platform ARGs for one target platform built on `buildPlatform`. */
export function platformArgs(target: string, buildPlatform: string): Record<string, string> {
  const t = platformParts(target);
  const b = platformParts(buildPlatform);
  return {
    TARGETPLATFORM: t.text,
    TARGETOS: t.os,
    TARGETARCH: t.arch,
    TARGETVARIANT: t.variant,
    BUILDPLATFORM: b.text,
    BUILDOS: b.os,
    BUILDARCH: b.arch,
    BUILDVARIANT: b.variant,
  };
}

/** The variables a step sees: `value` null when declared without a value known before the build. */
type Scope = Map<string, { value: string | null; fromEnv: boolean }>;

/** `${NAME}`, `$NAME`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, or another `${...}`. */
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** `text` with its variables replaced as BuildKit's shell lexer would, and those it cannot know. */
function expandVariables(text: string, scope: Scope): { value: string; missing: MissingVariable[] } {
  const missing: MissingVariable[] = [];
  const value = text.replace(VARIABLE, (whole: string, braced?: string, op?: string, word?: string, other?: string, bare?: string) => {
    if (other !== undefined || word?.includes('${')) {
      missing.push({ name: whole, reason: 'syntax' });
      return whole;
    }
    const name = (braced ?? bare) as string;
    const entry = scope.get(name);
    const known = entry?.value ?? undefined;
    if (op) {
      // An unset (or, with `:`, empty) variable takes the word; the word may name variables too.
      const set = op.startsWith(':') ? Boolean(known) : known !== undefined;
      const useWord = op.endsWith('-') ? !set : set;
      if (!useWord) return op.endsWith('-') ? (known as string) : '';
      const alternative = expandVariables(word ?? '', scope);
      missing.push(...alternative.missing);
      return alternative.value;
    }
    if (known === undefined) {
      missing.push({ name, reason: entry ? 'no-value' : 'undeclared' });
      return whole;
    }
    return known;
  });
  return { value, missing };
}

/**
 * An ARG as BuildKit scopes it: a build arg of that name, else its default (expanded), else the
 * global ARG's value when it redeclares one. An ENV of the same name always wins over an ARG.
 */
function declareArg(scope: Scope, arg: { name: string; value: string | null }, given: Record<string, string>, globals: Scope): void {
  if (scope.get(arg.name)?.fromEnv) return;
  let value: string | null = null;
  if (Object.hasOwn(given, arg.name)) value = given[arg.name] as string;
  else if (arg.value !== null) {
    const expanded = expandVariables(arg.value, scope);
    value = expanded.missing.length ? null : expanded.value;
  } else value = globals.get(arg.name)?.value ?? null;
  scope.set(arg.name, { value, fromEnv: false });
}

/** One word of ENV: `NAME=value`, the value quoted or with backslash escapes. */
const ENV_WORD = /(?:[^\s"'\\]|\\.|"(?:[^"\\]|\\.)*"|'[^']*')+/g;

function unquote(value: string): string {
  return value.replace(/"((?:[^"\\]|\\.)*)"|'([^']*)'|\\(.)/g, (_, double?: string, single?: string, escaped?: string) =>
    double !== undefined ? double.replace(/\\(.)/g, '$1') : (single ?? escaped ?? ''),
  );
}

/** ENV `A=1 B=2` or the old `ENV NAME value` form; every value sees the variables from before the ENV. */
function setEnv(scope: Scope, text: string): void {
  const words = text.match(ENV_WORD) ?? [];
  const first = words[0] ?? '';
  const pairs = first.includes('=')
    ? words.map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] as const)
    : [[first, text.slice(first.length).trim()] as const];
  const values = pairs.map(([name, raw]) => {
    const expanded = expandVariables(unquote(raw), scope);
    return [name, expanded.missing.length ? null : expanded.value] as const;
  });
  for (const [name, value] of values) if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) scope.set(name, { value, fromEnv: true });
}

/** A written cache mount with its id, target and options expanded, or what keeps it from expanding. */
function expandMount(mount: CacheMount, scope: Scope): CacheMount | UnresolvedCacheMount {
  const missing: MissingVariable[] = [];
  const expand = (text: string): string => {
    const expanded = expandVariables(text, scope);
    missing.push(...expanded.missing);
    return expanded.value;
  };
  const expanded = { ...mount, id: expand(mount.id), target: expand(mount.target), options: Object.fromEntries(Object.entries(mount.options).map(([k, v]) => [k, expand(v)])) };
  return missing.length ? { ...mount, missing: [...new Map(missing.map((m) => [m.name, m])).values()] } : expanded;
}

/**
 * The cache mounts BuildKit uses: ids, targets and owner options expanded with the ARGs and ENVs in
 * scope at each RUN (a stage sees its own ARGs, global ARGs it redeclares, and what the stage it
 * builds FROM had), the build args, and the automatic platform ARGs of every platform built, so
 * `id=apk-$TARGETARCH` gives one mount per architecture. First occurrence of each expanded id wins.
 * A mount with a variable whose value only the build knows is `unresolved`, once per line and id.
 */
export function resolveCacheMounts(model: DockerfileModel, variables: BuildVariables): { mounts: CacheMount[]; unresolved: UnresolvedCacheMount[] } {
  const mounts = new Map<string, CacheMount>();
  const unresolved = new Map<string, UnresolvedCacheMount>();
  const platforms = variables.platforms?.length ? variables.platforms : [variables.buildPlatform];
  for (const platform of platforms) {
    const automatic = platformArgs(platform, variables.buildPlatform);
    const given = { ...automatic, ...variables.buildArgs };
    // Before the first FROM the automatic ARGs are in scope; inside a stage only once declared.
    const globals: Scope = new Map(Object.entries(automatic).map(([name, value]) => [name, { value, fromEnv: false }]));
    for (const step of model.globalArgs) for (const arg of step.argNames ?? []) declareArg(globals, arg, given, globals);
    const stageEnds = new Map<string, Scope>();
    for (const stage of model.stages) {
      const scope: Scope = new Map(stage.from.stage ? stageEnds.get(stage.from.stage) : undefined);
      for (const step of stage.steps) {
        if (step.keyword === 'ARG') for (const arg of step.argNames ?? []) declareArg(scope, arg, given, globals);
        else if (step.keyword === 'ENV') setEnv(scope, step.text);
        if (step.keyword !== 'RUN') continue;
        for (const mountFlag of step.flags.filter((f) => f.name === 'mount')) {
          const written = cacheMountOf(mountFlag.options, stage.name, step.line);
          if (!written) continue;
          const mount = expandMount(written, scope);
          if ('missing' in mount) {
            if (!unresolved.has(`${mount.line}:${mount.id}`)) unresolved.set(`${mount.line}:${mount.id}`, mount);
          } else if (!mounts.has(mount.id)) mounts.set(mount.id, mount);
        }
      }
      stageEnds.set(stage.name.toLowerCase(), scope);
    }
  }
  return { mounts: [...mounts.values()], unresolved: [...unresolved.values()] };
}

/** One warning for a mount that is not kept: which mount, which variables, and what to change. */
export function describeUnresolvedCacheMount(mount: UnresolvedCacheMount, file: string): string {
  const written = mount.id === mount.target ? `target=${mount.target}` : `id=${mount.id}`;
  const reasons = mount.missing.map((m) => {
    if (m.reason === 'syntax') return `\`${m.name}\` is a form that is not expanded here; use \`$NAME\`, \`\${NAME}\`, \`\${NAME:-default}\` or \`\${NAME:+word}\``;
    if (m.reason === 'no-value') return `\`$${m.name}\` has no value before the build (an ARG without a default or a \`build-args\` value, or an ENV made from one); give the ARG a default or pass ${m.name} in \`build-args\``;
    return `\`$${m.name}\` is not an ARG or ENV of stage \`${mount.stage}\` before that line (BuildKit expands it to an empty string, or to the base image's environment); declare \`ARG ${m.name}\` in the stage before the RUN`;
  });
  return `The cache mount \`${written}\` (${file} line ${mount.line}) is not kept between runs: ${reasons.join('; ')}.`;
}

function patternsFor(source: string): string[] {
  const clean = source.replace(/^\/+/, '').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (clean === '' || clean === '.') return ['**'];
  // A source may be a file, a directory or a glob: ask for both the path and whatever lies below it.
  return [clean, `${clean}/**`];
}

/**
 * The lockfiles the Dockerfile takes from the context, relative to it and sorted: COPY/ADD sources
 * and RUN bind mounts (`docker init` binds requirements.txt or package.json into the install).
 * Sources using variables are skipped (their value is only known to the build); `.git` and
 * `node_modules` are never walked.
 */
export async function findCopiedLockfiles(model: DockerfileModel, contextDir: string): Promise<string[]> {
  const sources = model.stages
    .flatMap((s) => s.steps.flatMap((step) => [...contextSources(step), ...bindMountSources(step)]))
    .filter((s) => !s.includes('$'));
  if (sources.length === 0) return [];
  const files = await glob(
    sources.flatMap(patternsFor),
    { cwd: contextDir, dot: true, onlyFiles: true, ignore: ['**/.git/**', '**/node_modules/**'] },
  );
  return [...new Set(files)].filter((f) => LOCKFILE_PATTERN.test(path.posix.basename(f))).sort();
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The cache-mount key cannot be made (a caller's mistake). Not fatal: the build goes on without kept mounts. */
export class CacheMountKeyError extends ImageBuildError {
  readonly fatal = false;
  constructor(message: string) {
    super(message);
    this.name = 'CacheMountKeyError';
  }
}

export interface CacheMountKey {
  key: string;
  /** Tried in order when `key` has no entry: same mounts with other lockfiles (or runs), then anything. */
  restoreKeys: string[];
  mountsHash: string;
  lockfilesHash: string;
  /**
   * `lockfiles`: the key changes with them, and an exact hit is current. `run`: no lockfile tells
   * when the contents are stale, so each run has its own key and saves whatever changed.
   */
  keyedBy: 'lockfiles' | 'run';
}

/**
 * `<prefix>-<mounts>-<lockfiles>`: a new lockfile gives a new key (so a changed dependency set gets
 * saved), while the restore keys fall back to the newest cache of the same mounts. Without lockfiles
 * a constant key would be saved once and hit exactly ever after, so the cache would stay as the
 * first build left it: the key ends in `run-<runId>` instead (e.g. GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT),
 * restored by the mounts prefix and saved when the contents differ from what was restored.
 */
export function cacheMountKey(
  prefix: string,
  mounts: CacheMount[],
  lockfiles: Array<{ path: string; content: Buffer | string }>,
  runId: string,
): CacheMountKey {
  const definition = mounts
    .map((m) => JSON.stringify([m.id, m.target, Object.entries(m.options).sort()]))
    .sort()
    .join('\n');
  const mountsHash = sha256(definition).slice(0, 16);
  const lockHash = createHash('sha256');
  for (const file of [...lockfiles].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    // Length-prefixed so that moving bytes between a name and a content cannot collide.
    lockHash.update(`${file.path.length}:${file.path}:${Buffer.byteLength(file.content)}:`).update(file.content);
  }
  const lockfilesHash = lockHash.digest('hex').slice(0, 16);
  const keyedBy = lockfiles.length > 0 ? 'lockfiles' : 'run';
  // Cache keys may not hold commas; a run id is digits and dashes anyway.
  const runPart = runId.replace(/[^A-Za-z0-9._-]+/g, '-');
  if (keyedBy === 'run' && runPart === '') throw new CacheMountKeyError('A cache-mount key without lockfiles needs a run id (e.g. GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT).');
  return {
    key: `${prefix}-${mountsHash}-${keyedBy === 'lockfiles' ? lockfilesHash : `run-${runPart}`}`,
    restoreKeys: [`${prefix}-${mountsHash}-`, `${prefix}-`],
    mountsHash,
    lockfilesHash,
    keyedBy,
  };
}

/**
 * Finds the lockfiles, reads them and computes the key in one step. `mounts` are the expanded mounts
 * (resolveCacheMounts), so that the key names the caches BuildKit really uses.
 */
export async function cacheMountKeyFor(
  prefix: string,
  model: DockerfileModel,
  contextDir: string,
  options: { mounts: CacheMount[]; runId: string },
): Promise<CacheMountKey & { lockfiles: string[] }> {
  const lockfiles = await findCopiedLockfiles(model, contextDir);
  const contents = await Promise.all(
    lockfiles.map(async (file) => ({ path: file, content: await readFile(path.join(contextDir, file)) })),
  );
  return { ...cacheMountKey(prefix, options.mounts, contents, options.runId), lockfiles };
}

import { createHash, randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './errors.js';
import { branchOf, isPullRequest, sanitizeTag } from './git-tags.js';
import type { GitContext } from './git-tags.js';
import type { Flavour } from './targets.js';

export const CACHE_MODES = ['auto', 'registry', 'gha', 'local', 'inline', 'none'] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

export function parseCacheMode(value: string): CacheMode {
  const mode = (value.trim() || 'auto') as CacheMode;
  if (!CACHE_MODES.includes(mode)) {
    throw new InputError('cache', `\`${value}\` is not a cache backend`, `Use one of ${CACHE_MODES.join(', ')}.`);
  }
  return mode;
}

/** The cache scopes of one build: the ones it reads, in order, and the one it writes (if any). */
export interface CacheScopes {
  /** The scope written; undefined for builds that write none (tags, other refs). */
  own?: string;
  read: string[];
}

/**
 * A branch build reads its branch, then the default branch, and writes its branch. A pull request
 * reads `pr-<n>`, its base branch, then the default branch, and writes `pr-<n>`. Any other ref (a
 * tag, a detached ref) reads the default branch and writes nothing: a tag often points at an old
 * commit, and writing the default branch's scope would replace its cache with that commit's.
 */
export function cacheScopes(git: GitContext, nameOf: (ref: string) => string = uniqueTag): CacheScopes {
  const branch = nameOf(branchOf(git) ?? '');
  const own = isPullRequest(git) ? `pr-${git.prNumber}` : branch || undefined;
  const chain = own ? [own] : [];
  if (isPullRequest(git) && git.prBaseRef) chain.push(nameOf(git.prBaseRef));
  chain.push(nameOf(git.defaultBranch));
  return { ...(own ? { own } : {}), read: [...new Set(chain.filter(Boolean))] };
}

/**
 * `text` as a Docker tag that no other text maps to: unchanged when it is already a valid tag, else
 * sanitized (and cut to fit 128 characters) with a short hash of the original appended. So the branches
 * `feature/a` and `feature-a`, or two long names that differ after 128 characters, never share a cache.
 */
export function uniqueTag(text: string): string {
  const clean = sanitizeTag(text);
  if (clean === text || text === '') return clean;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  const head = clean.slice(0, 128 - hash.length - 1).replace(/-+$/, '');
  return head ? `${head}-${hash}` : hash;
}

export interface CachePlanOptions {
  mode: CacheMode;
  flavour: Flavour;
  /** The `image` input (without the flavour suffix): registry caches live in `<image>-cache`. Empty: no registry. */
  image: string;
  git: GitContext;
  push: boolean;
  /** GitHub's cache service is reachable (ACTIONS_CACHE_URL and ACTIONS_RUNTIME_TOKEN are set). */
  ghaAvailable: boolean;
  /** Root of the local cache directories (`type=local`), required when the plan may use them. */
  localDir?: string;
  /**
   * More of the build's identity for the gha scope and the local dir, beside the image (`planBuild`
   * passes the repository and the Dockerfile path): without `image`, two services of one repository,
   * or two repositories on one self-hosted runner, would otherwise share them.
   */
  service?: string;
}

export interface CachePlan {
  /** The backends actually used after resolving `auto`. */
  backends: Array<Exclude<CacheMode, 'auto'>>;
  from: string[];
  to: string[];
  /** Local export goes to `next` (unique per plan) and replaces `current` after the build (see `swapLocalCache`). */
  localSwap?: { next: string; current: string };
}

const REGISTRY_TO = 'mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true';

/** `<image>-cache:<flavour>-<scope>`, kept within Docker's 128-character tag limit. */
export function registryCacheRef(image: string, flavour: string, scope: string): string {
  return `${image}-cache:${uniqueTag(`${flavour}-${scope}`)}`;
}

function registryPart(o: CachePlanOptions, write: boolean): Pick<CachePlan, 'from' | 'to'> {
  const { own, read } = cacheScopes(o.git);
  return {
    from: read.map((scope) => `type=registry,ref=${registryCacheRef(o.image, o.flavour.name, scope)}`),
    to: write && own ? [`type=registry,ref=${registryCacheRef(o.image, o.flavour.name, own)},${REGISTRY_TO}`] : [],
  };
}

/** Longest readable prefix of a gha scope or local dir name; the hash after it is what keeps names apart. */
const KEY_PREFIX_MAX = 64;

/**
 * The gha scope / local cache dir name of one image, flavour and scope:
 * `<image's last path part>-<flavour>-<scope>` (sanitized, cut to 64 characters, for people) plus 12 hex
 * of a sha256 of the unambiguous tuple (for uniqueness). Unlike registry refs, which live in the
 * image's own `<image>-cache` repository, these names share one namespace per repository (gha) or per
 * runner (the tool cache), and joining parts with `-` is ambiguous (`web`+`worker-x` vs
 * `web-worker`+`x`), so the readable part alone must never be the key. At most 77 characters: well
 * within gha's key and filesystems' 255-byte name limits, and free of the `,` that bake entries split on.
 */
function cacheKeyName(o: CachePlanOptions, scope: string): string {
  const image = o.image || o.flavour.image;
  const hash = createHash('sha256')
    .update(JSON.stringify([image, o.service ?? '', o.flavour.name, scope]))
    .digest('hex')
    .slice(0, 12);
  const label = image.split('/').pop() ?? '';
  const head = sanitizeTag(`${label}-${o.flavour.name}-${scope}`).slice(0, KEY_PREFIX_MAX).replace(/[-.]+$/, '');
  return head ? `${head}-${hash}` : hash;
}

function ghaPart(o: CachePlanOptions): Pick<CachePlan, 'from' | 'to'> {
  const { own, read } = cacheScopes(o.git);
  const scope = (s: string) => cacheKeyName(o, s);
  return {
    from: read.map((s) => `type=gha,scope=${scope(s)}`),
    to: own ? [`type=gha,scope=${scope(own)},mode=max,ignore-error=true`] : [],
  };
}

function localPart(o: CachePlanOptions): CachePlan {
  if (!o.localDir) {
    throw new InputError('cache', 'the local cache needs a directory', 'Pass `cache-dir` (e.g. `${{ runner.temp }}/buildx-cache`).');
  }
  const { own, read } = cacheScopes(o.git);
  const dir = (s: string) => path.join(o.localDir as string, cacheKeyName(o, s));
  const from = read.map((s) => `type=local,src=${dir(s)}`);
  if (!own) return { backends: ['local'], from, to: [] };
  const current = dir(own);
  // A staging dir of this run's own: concurrent jobs writing the same scope (a shared tool cache) must
  // not export into, or delete, each other's. Next to `current`, so the rename into place is atomic.
  const next = `${current}-new-${randomSuffix()}`;
  return {
    backends: ['local'],
    from,
    // A local export never deletes old blobs; exporting into a fresh dir and swapping keeps it bounded.
    to: [`type=local,dest=${next},mode=max,ignore-error=true`],
    localSwap: { next, current },
  };
}

function inlinePart(o: CachePlanOptions): CachePlan {
  // Inline cache travels inside the pushed image (mode=min only): read the branch tags we push, named
  // as computeTags names them.
  const { read } = cacheScopes(o.git, sanitizeTag);
  return {
    backends: ['inline'],
    from: read.map((s) => `type=registry,ref=${o.flavour.image}:${s}`),
    to: o.push ? ['type=inline'] : [],
  };
}

/**
 * The cache import/export of one flavour. `auto`: a pushing build uses the registry (read chain,
 * write own scope). A build that does not push (pull requests) reads its own scope from GitHub's
 * cache when reachable, else from a local directory, and writes it there; the rest of the read chain
 * (base and default branch) comes from the registry, so it starts warm.
 */
export function planCache(o: CachePlanOptions): CachePlan {
  switch (o.mode) {
    case 'none':
      return { backends: [], from: [], to: [] };
    case 'registry':
      if (!o.image) throw new InputError('image', 'is empty, but `cache: registry` keeps the cache next to the image', 'Set `image`, or choose another `cache`.');
      return { backends: ['registry'], ...registryPart(o, true) };
    case 'gha':
      return { backends: ['gha'], ...ghaPart(o) };
    case 'local':
      return localPart(o);
    case 'inline':
      return inlinePart(o);
    case 'auto': {
      if (o.push) return { backends: ['registry'], ...registryPart(o, true) };
      const own = o.ghaAvailable ? { backends: ['gha'] as CachePlan['backends'], ...ghaPart(o) } : localPart(o);
      const { own: ownScope } = cacheScopes(o.git);
      // Without an image there is no registry to read the base and default branch scopes from.
      if (!o.image) return own;
      // Own scope first (it may not exist yet), then the registry's base and default branch scopes.
      const ownFrom = ownScope ? own.from.slice(0, 1) : [];
      const registryFrom = registryPart(o, false).from.slice(ownScope ? 1 : 0);
      if (registryFrom.length === 0) return { ...own, from: ownFrom };
      return { ...own, backends: [...own.backends, 'registry'], from: [...ownFrom, ...registryFrom], to: own.to };
    }
  }
}

/** `type=registry,ref=r/app-cache:devstack-main,mode=max,...` -> `registry r/app-cache:devstack-main`. */
function describeEntry(entry: string): string {
  const fields = new Map(entry.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]));
  const type = fields.get('type') ?? '?';
  const where = fields.get('ref') ?? fields.get('scope') ?? fields.get('src') ?? fields.get('dest');
  return where ? `${type} ${where}` : type;
}

/** One log line of what a flavour's cache plan reads and writes, from the entries themselves. */
export function describeCachePlan(plan: CachePlan): string {
  if (plan.from.length === 0 && plan.to.length === 0) return 'none';
  const reads = plan.from.length ? `reads ${plan.from.map(describeEntry).join(', ')}` : 'reads nothing';
  const writes = plan.to.length ? `writes ${plan.to.map(describeEntry).join(', ')}` : 'writes nothing';
  return `${reads}; ${writes}`;
}

/** 8 hex: staging and set-aside dirs end with it, and cache dirs (ending with 12 hex) never do. */
function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** Leftovers of jobs that died between the export and the swap, removed once this old. */
const STALE_MS = 24 * 60 * 60 * 1000;

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? '';

/**
 * After a successful build: replace the local cache dir with the fresh export (no-op when absent).
 * The dir in place is first renamed aside (never deleted while in place), then the export renamed in;
 * when another job's rename lands in between (ENOTEMPTY/EEXIST, EPERM on Windows), its complete cache is
 * set aside too and ours retried: the last finisher wins, and a complete cache is in place at the end.
 * Returns false when nothing was swapped in.
 */
export async function swapLocalCache(swap: { next: string; current: string }): Promise<boolean> {
  const exported = await stat(swap.next).catch(() => undefined);
  if (!exported?.isDirectory()) return false;
  const aside: string[] = [];
  let swapped = false;
  for (let attempt = 1; attempt <= 3 && !swapped; attempt++) {
    const old = `${swap.current}-old-${randomSuffix()}`;
    // ENOENT: no cache yet, or another job has just set it aside.
    const moved = await rename(swap.current, old).then(
      () => true,
      (error: unknown) => {
        if (errorCode(error) === 'ENOENT') return false;
        throw error;
      },
    );
    if (moved) aside.push(old);
    swapped = await rename(swap.next, swap.current).then(
      () => true,
      async (error: unknown) => {
        if (['ENOTEMPTY', 'EEXIST', 'EPERM'].includes(errorCode(error))) return false;
        // Anything else: put the cache we set aside back before failing, so the job fails, not the cache.
        if (moved) await rename(old, swap.current).then(() => aside.pop(), () => undefined);
        throw error;
      },
    );
  }
  // Still losing the race after 3 tries: the other job's complete cache stays, ours is dropped.
  if (!swapped) aside.push(swap.next);
  await Promise.all(aside.map((dir) => rm(dir, { recursive: true, force: true })));
  await removeStaleLeftovers(swap.current);
  return swapped;
}

/** Best effort: staging and set-aside dirs of `current` older than a day (no build runs that long). */
async function removeStaleLeftovers(current: string): Promise<void> {
  const parent = path.dirname(current);
  const base = path.basename(current);
  const names = await readdir(parent).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    const rest = name.startsWith(`${base}-`) ? name.slice(base.length + 1) : '';
    if (!/^(new|old)-[0-9a-f]{8}$/.test(rest)) continue;
    const info = await stat(path.join(parent, name)).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_MS) await rm(path.join(parent, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

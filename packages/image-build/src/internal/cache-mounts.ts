import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { contextSources } from './dockerfile-model.js';
import type { DockerfileModel } from './dockerfile-model.js';

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

/** Every cache mount of every RUN, first occurrence of each id wins (BuildKit shares one cache per id). */
export function findCacheMounts(model: DockerfileModel): CacheMount[] {
  const mounts = new Map<string, CacheMount>();
  for (const stage of model.stages) {
    for (const step of stage.steps) {
      if (step.keyword !== 'RUN') continue;
      for (const mountFlag of step.flags.filter((f) => f.name === 'mount')) {
        const { type, target, dst, destination, id, sharing, ...rest } = mountFlag.options;
        if (type !== 'cache') continue;
        const mountTarget = target ?? dst ?? destination;
        if (!mountTarget) continue;
        const mountId = id || mountTarget;
        if (mounts.has(mountId)) continue;
        const options = Object.fromEntries(
          Object.entries(rest).filter(([k]) => ['uid', 'gid', 'mode', 'from', 'source', 'src'].includes(k)),
        );
        mounts.set(mountId, {
          id: mountId,
          target: mountTarget,
          sharing: sharing === 'private' || sharing === 'locked' ? sharing : 'shared',
          stage: stage.name,
          line: step.line,
          options,
        });
      }
    }
  }
  return [...mounts.values()];
}

function patternsFor(source: string): string[] {
  const clean = source.replace(/^\/+/, '').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (clean === '' || clean === '.') return ['**'];
  // A source may be a file, a directory or a glob: ask for both the path and whatever lies below it.
  return [clean, `${clean}/**`];
}

/**
 * The lockfiles the Dockerfile copies from the context, relative to it and sorted. Sources using
 * variables are skipped (their value is only known to the build); `.git` and `node_modules` are
 * never walked.
 */
export async function findCopiedLockfiles(model: DockerfileModel, contextDir: string): Promise<string[]> {
  const sources = model.stages.flatMap((s) => s.steps.flatMap(contextSources)).filter((s) => !s.includes('$'));
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

export interface CacheMountKey {
  key: string;
  /** Tried in order when `key` has no entry: same mounts with other lockfiles, then anything. */
  restoreKeys: string[];
  mountsHash: string;
  lockfilesHash: string;
}

/**
 * `<prefix>-<mounts>-<lockfiles>`: a new lockfile gives a new key (so a changed dependency set gets
 * saved), while the restore keys fall back to the newest cache of the same mounts.
 */
export function cacheMountKey(prefix: string, mounts: CacheMount[], lockfiles: Array<{ path: string; content: Buffer | string }>): CacheMountKey {
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
  return {
    key: `${prefix}-${mountsHash}-${lockfilesHash}`,
    restoreKeys: [`${prefix}-${mountsHash}-`, `${prefix}-`],
    mountsHash,
    lockfilesHash,
  };
}

/** Finds the lockfiles, reads them and computes the key in one step. */
export async function cacheMountKeyFor(prefix: string, model: DockerfileModel, contextDir: string): Promise<CacheMountKey & { lockfiles: string[] }> {
  const lockfiles = await findCopiedLockfiles(model, contextDir);
  const contents = await Promise.all(
    lockfiles.map(async (file) => ({ path: file, content: await readFile(path.join(contextDir, file)) })),
  );
  return { ...cacheMountKey(prefix, findCacheMounts(model), contents), lockfiles };
}

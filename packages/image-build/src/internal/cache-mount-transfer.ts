import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DockerfileError } from './errors.js';
import type { CacheMount } from './cache-mounts.js';
import { findStage, resolveFromImage, rootStageOf } from './dockerfile-model.js';
import type { DockerfileModel } from './dockerfile-model.js';

/**
 * Cache mounts live inside BuildKit and vanish with an ephemeral runner. They are moved in and out
 * with two helper builds that mount the same cache ids:
 * - extract: RUN copies each mount into /out, and a scratch stage exports /out with `--output type=local`;
 * - inject: the restored directory is the build context, RUN copies it into each mount, and the
 *   result is thrown away (`--output type=cacheonly`): only the mount contents matter.
 * Their RUN must execute every time, or BuildKit would answer from its build cache and copy nothing.
 * `--no-cache` cannot be used for that: it also gives RUN fresh, empty cache mounts (checked on
 * BuildKit 0.13). A declared ARG with a new value per call (the nonce) busts the step instead.
 * Both run with --network=none: they copy files and need no network, and as root (`USER 0:0`),
 * whatever user the helper image names, so they may write every mount.
 */

const NONCE_ARG = 'CACHE_TRANSFER_NONCE';

/** The directory of one mount inside the transfer dir: readable, and unique per id. */
export function mountDirName(mount: Pick<CacheMount, 'id'>): string {
  const readable = mount.id.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 48);
  return `${readable || 'cache'}-${createHash('sha256').update(mount.id).digest('hex').slice(0, 8)}`;
}

/** Mount ids travel in a CSV flag value: quote them, and refuse what CSV cannot carry. */
function csvValue(value: string, what: string): string {
  if (/["\n\r]/.test(value)) throw new DockerfileError(`Cache mount ${what} \`${value}\` contains a quote or newline; it cannot be transferred.`);
  return value.includes(',') || value.includes('=') ? `"${value}"` : value;
}

/** Mounts seeded `from` another stage are left to BuildKit: their content depends on that stage. */
export function transferableMounts<T extends CacheMount>(mounts: T[]): T[] {
  return mounts.filter((m) => !m.options.from);
}

function mountFlag(mount: CacheMount): string {
  const owner = ['uid', 'gid', 'mode'].flatMap((k) => (mount.options[k] ? [`${k}=${mount.options[k]}`] : []));
  // The helper build would expand a variable with none of the Dockerfile's ARGs: another, empty cache.
  const unexpanded = [mount.id, ...owner].find((value) => /\$[{A-Za-z_]/.test(value));
  if (unexpanded) throw new DockerfileError(`Cache mount \`${unexpanded}\` (line ${mount.line}) still holds a variable; expand it first (resolveCacheMounts).`);
  return ['type=cache', `id=${csvValue(mount.id, 'id')}`, `target=/cache/${mountDirName(mount)}`, 'sharing=locked', ...owner].join(',');
}

function checkHelper(helperImage: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(helperImage)) {
    throw new DockerfileError(`Helper image \`${helperImage}\` is not an image reference.`);
  }
}

/*
 * The generators take mounts as BuildKit names them (resolveCacheMounts): a helper build has none of
 * the Dockerfile's ARGs, so an id left as `apk-$TARGETARCH` would name another, empty cache.
 */

/** Dockerfile of the extract build. The helper image needs `sh`, `mkdir` and `cp -a` (busybox has them). */
export function extractDockerfile(mounts: CacheMount[], helperImage: string): string {
  checkHelper(helperImage);
  const usable = transferableMounts(mounts);
  const flags = usable.map((m) => `--mount=${mountFlag(m)}`).join(' \\\n    ');
  const copies = usable.map((m) => `mkdir -p /out/${mountDirName(m)} && cp -a /cache/${mountDirName(m)}/. /out/${mountDirName(m)}/`);
  return [
    `FROM ${helperImage} AS extract`,
    'USER 0:0',
    `ARG ${NONCE_ARG}`,
    `RUN --network=none ${flags} \\\n    ${['mkdir -p /out', ...copies].join(' && \\\n    ')}`,
    'FROM scratch',
    'COPY --from=extract /out/ /',
    '',
  ].join('\n');
}

/** Dockerfile of the inject build; its context is the directory that extract wrote (or a restore put back). */
export function injectDockerfile(mounts: CacheMount[], helperImage: string): string {
  checkHelper(helperImage);
  const usable = transferableMounts(mounts);
  const flags = usable.map((m) => `--mount=${mountFlag(m)}`);
  const copies = usable.map((m) => `if [ -d /in/${mountDirName(m)} ]; then cp -a /in/${mountDirName(m)}/. /cache/${mountDirName(m)}/; fi`);
  return [
    `FROM ${helperImage}`,
    'USER 0:0',
    `ARG ${NONCE_ARG}`,
    `RUN --network=none ${[...flags, '--mount=type=bind,target=/in'].join(' \\\n    ')} \\\n    ${copies.join(' && \\\n    ')}`,
    '',
  ].join('\n');
}

/**
 * The image the helper builds run in: the base image of the stage with the first transferable
 * mount. That stage runs a shell RUN with the mount, so the image has `sh` and `cp` (busybox and
 * coreutils both know `cp -a`), and the build needs it anyway, so nothing extra is pulled.
 * Undefined when there is no such mount or the base image cannot be resolved (`FROM ${ARG}`
 * without a value).
 */
export function helperImageFor(model: DockerfileModel, mounts: CacheMount[], buildArgs: Record<string, string> = {}): string | undefined {
  const first = transferableMounts(mounts)[0];
  const stage = first ? findStage(model, first.stage) : undefined;
  return stage ? resolveFromImage(model, rootStageOf(model, stage), buildArgs) : undefined;
}

export interface TransferBuild {
  /** Path of the generated Dockerfile (written by the caller). */
  dockerfile: string;
  /** Unique per call (e.g. a random UUID): makes BuildKit run the copy instead of reusing a result. */
  nonce: string;
  /** Build context: an empty dir for extract, the restored dir for inject. */
  context: string;
  builder?: string;
}

function commonArgs(build: TransferBuild): string[] {
  return [
    'buildx',
    'build',
    ...(build.builder ? ['--builder', build.builder] : []),
    '--progress=plain',
    '--build-arg',
    `${NONCE_ARG}=${build.nonce}`,
    '-f',
    build.dockerfile,
  ];
}

/** `docker` argv of the extract build: writes one directory per mount into `outputDir`. */
export function extractArgs(build: TransferBuild & { outputDir: string }): string[] {
  return [...commonArgs(build), '--output', `type=local,dest=${build.outputDir}`, build.context];
}

/** `docker` argv of the inject build: fills the mounts from `context`, produces no image. */
export function injectArgs(build: TransferBuild): string[] {
  return [...commonArgs(build), '--output', 'type=cacheonly', build.context];
}

/**
 * A hash of a directory tree's names, types, permission bits, symlink targets and file contents
 * (not times or owners, which a copy changes): equal hashes mean there is nothing new to save.
 */
export async function hashDirectory(root: string): Promise<{ hash: string; files: number; bytes: number }> {
  const hash = createHash('sha256');
  let files = 0;
  let bytes = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(path.join(root, rel))).sort();
    for (const name of entries) {
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(root, relPath);
      const info = await lstat(full);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) {
        hash.update(`l ${relPath} ${await readlink(full)}\n`);
      } else if (info.isDirectory()) {
        hash.update(`d ${relPath} ${mode}\n`);
        await walk(relPath);
      } else if (info.isFile()) {
        hash.update(`f ${relPath} ${mode} ${info.size}\n`);
        files += 1;
        bytes += info.size;
        await pipeline(createReadStream(full), async function* (source) {
          for await (const chunk of source) hash.update(chunk as Buffer);
        });
      } else {
        hash.update(`o ${relPath}\n`);
      }
    }
  };
  await walk('');
  return { hash: hash.digest('hex'), files, bytes };
}

/** Save after the build only when the mounts hold files and they differ from what was restored. */
export function shouldSaveCacheMounts(extracted: { hash: string; files: number }, restoredHash: string | undefined): boolean {
  return extracted.files > 0 && extracted.hash !== restoredHash;
}

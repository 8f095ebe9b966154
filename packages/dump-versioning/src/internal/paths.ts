import path from 'node:path';
import { UnsafePathError } from './errors.js';

export type DumpKind = 'mysql' | 'mongo';

/**
 * Why a relative dump path is unsafe, or undefined when it is fine. Dump paths are POSIX, relative,
 * without `.`/`..`/empty segments, backslashes or control characters, so they can never escape the
 * directory they are written into on any platform.
 */
export function unsafePathReason(relative: string): string | undefined {
  if (relative.length === 0) return 'it is empty';
  if (relative.length > 1024) return 'it is longer than 1024 characters';
  if (relative.startsWith('/') || /^[A-Za-z]:/.test(relative)) return 'it is absolute';
  if (relative.includes('\\')) return 'it contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(relative)) return 'it contains a control character';
  const segments = relative.split('/');
  if (segments.some((segment) => segment === '..')) return 'it contains a ".." segment';
  if (segments.some((segment) => segment === '.' || segment === '')) return 'it contains an empty or "." segment';
  return undefined;
}

/** Throws UnsafePathError naming `where` when `relative` could escape its directory. */
export function assertSafeRelativePath(relative: string, where: string): void {
  const reason = unsafePathReason(relative);
  if (reason !== undefined) {
    throw new UnsafePathError(
      'unsafe-path',
      `${where}: file name ${JSON.stringify(relative)} is rejected because ${reason}; dump files must be relative paths inside the dump directory`,
    );
  }
}

/** The absolute path of `relative` inside `root`, refusing anything that resolves outside it. */
export function resolveInside(root: string, relative: string, where: string): string {
  assertSafeRelativePath(relative, where);
  const base = path.resolve(root);
  const target = path.resolve(base, ...relative.split('/'));
  if (!target.startsWith(base + path.sep)) {
    throw new UnsafePathError(
      'path-escapes-directory',
      `${where}: file name ${JSON.stringify(relative)} resolves outside ${base}; refusing to write it`,
    );
  }
  return target;
}

/**
 * Kind and database of a dump file from the shared layout: `mysql/<db>.sql`, `mysql/<db>.schema.json`,
 * `mongo/<db>/<collection>...`. Undefined when the path does not follow the layout.
 */
export function classifyDumpPath(relative: string): { kind: DumpKind; database: string } | undefined {
  const segments = relative.split('/');
  const [top, second] = segments;
  if (top === 'mysql' && segments.length === 2 && second) {
    const database = second.split('.')[0];
    if (database && second.length > database.length) return { kind: 'mysql', database };
    return undefined;
  }
  if (top === 'mongo' && segments.length === 3 && second && segments[2]) return { kind: 'mongo', database: second };
  return undefined;
}

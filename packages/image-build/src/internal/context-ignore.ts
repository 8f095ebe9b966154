import dockerignore from '@balena/dockerignore';
import picomatch from 'picomatch';

// Which changed files BuildKit sends with the build context: a file its ignore file excludes cannot
// make a COPY miss the cache, so it is never named as the cause.

/** The ignore file BuildKit reads for a build (`readContextFacts` finds it) and its path in the context. */
export interface ContextIgnore {
  /** Its text; null when there is none (nothing is excluded). */
  content: string | null;
  /**
   * Context-relative path of the file (`.dockerignore`, `Dockerfile.dockerignore`), when it lies inside
   * the context: a change to it alters what a copy of the whole context copies, even when it excludes itself.
   */
  file?: string;
  /**
   * Its text in the commit the changed files are compared with (null: there was none). Absent when
   * unknown: an edit of the file is then a possible cause of every step that reads the context.
   */
  previous?: string | null;
}

/**
 * A predicate telling whether BuildKit sends a context-relative path, by Docker's `.dockerignore`
 * rules (@balena/dockerignore, a port of Docker's matcher: `*` stays within a directory, `**` spans
 * directories, an excluded directory excludes what is under it, `!` re-includes, the last match wins,
 * case-sensitive as on Linux).
 */
export function contextFilter(content: string | null | undefined): (file: string) => boolean {
  if (!content) return () => true;
  const matcher = dockerignore({ ignorecase: false }).add(content);
  return (file) => !matcher.ignores(file.replace(/^(\.\/)+/, ''));
}

/**
 * The changed files a COPY/ADD can see: those the ignore file does not exclude, plus the ignore file
 * itself for a copy of the whole context (`wholeContext`): a change to it changes what is copied.
 * `excluded` are the ones left out, for the hint.
 */
export function visibleChangedFiles(files: string[], ignore: ContextIgnore | undefined, wholeContext: boolean): { visible: string[]; excluded: string[] } {
  const sent = contextFilter(ignore?.content);
  const visible: string[] = [];
  const excluded: string[] = [];
  for (const file of files) {
    const name = file.replace(/^(\.\/)+/, '');
    if (sent(name) || (wholeContext && ignore?.file !== undefined && name === ignore.file)) visible.push(file);
    else excluded.push(file);
  }
  return { visible, excluded };
}

/** The patterns of an ignore file as Docker reads them: comments and blank lines dropped, leading `/` and `./` removed. */
function patternsOf(content: string | null | undefined): string[] {
  return (content ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/^(!?)(?:\.?\/)+/, '$1'));
}

const GLOB = /[*?[\\]/;
const segments = (path: string) => path.replace(/^(?:\.?\/)+/, '').replace(/\/+$/, '').split('/').filter((s) => s !== '' && s !== '.');

/**
 * Whether a pattern can match `source`, a directory above it or a path under it: segment by segment
 * until one runs out (one path lies within the other), `**` matching anything; a glob segment is
 * tried against a literal one, two globs are assumed to meet. Errs towards yes.
 */
function mayOverlap(pattern: string, source: string): boolean {
  const p = segments(pattern.replace(/^!/, ''));
  const s = segments(source);
  for (let i = 0; i < Math.min(p.length, s.length); i++) {
    const [a, b] = [p[i] as string, s[i] as string];
    if (a === '**' || b === '**') return true;
    const [aGlob, bGlob] = [GLOB.test(a), GLOB.test(b)];
    if (aGlob && bGlob) continue;
    if (!aGlob && !bGlob ? a !== b : !picomatch(aGlob ? a : b, { dot: true })(aGlob ? b : a)) return false;
  }
  return true;
}

/**
 * Whether an edit of the ignore file can have changed what a step reading `sources` from the context
 * gets: always when its previous text is unknown; else when a pattern that was added, removed or
 * moved (the last match wins, so order counts) can match a path under a source. A comment-only edit
 * changes nothing.
 */
export function ignoreEditReaches(ignore: ContextIgnore, sources: string[]): boolean {
  if (ignore.previous === undefined) return true;
  const now = patternsOf(ignore.content);
  const before = patternsOf(ignore.previous);
  if (now.length === before.length && now.every((p, i) => p === before[i])) return false;
  const count = (list: string[]) => list.reduce((m, p) => m.set(p, (m.get(p) ?? 0) + 1), new Map<string, number>());
  const [nowCount, beforeCount] = [count(now), count(before)];
  const differing = [...new Set([...now, ...before])].filter((p) => nowCount.get(p) !== beforeCount.get(p));
  // Same patterns in another order: any of them may now win where another did.
  const edited = differing.length ? differing : now;
  return edited.some((pattern) => sources.some((source) => mayOverlap(pattern, source)));
}

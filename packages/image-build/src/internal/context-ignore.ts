import dockerignore from '@balena/dockerignore';

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

import { describe, expect, test } from 'vitest';
import { parseDockerfile, type MissCause, type ReportOptions, type StepReport } from '../src/index.js';
import { ignoreEditReaches } from '../src/internal/context-ignore.js';
import { missCause, type CauseContext } from '../src/internal/miss-cause.js';
import { recordedStageInstructions } from '../src/internal/stage-instructions.js';

// What a missed step reads besides its own text: files bind-mounted from the context, the ignore
// file's patterns, build args its text names, images and URLs fetched by name.

const context = (model: ReturnType<typeof parseDockerfile>, options: Partial<ReportOptions>): CauseContext => ({
  options: { flavours: [{ name: 'app', stage: 'app' }], model, changedFiles: [], ...options },
  flavour: 'app',
  fromSteps: new Map(),
  baseImages: {},
  cachedRoots: new Set(['|app']),
  imports: [],
  anyCached: true,
});
const at = (index: number, total: number, instruction: string): StepReport => ({ stage: 'app', index, total, instruction, status: 'run', durationMs: 1 });
const args = (now: Record<string, string>, before: Record<string, string>): Partial<ReportOptions> => ({ buildArgs: { app: now }, previous: { buildArgs: { app: before } } });
const unknown = (hint: string | RegExp) => ({ kind: 'unknown', hint: typeof hint === 'string' ? hint : expect.stringMatching(hint) });

describe('missCause: files bind-mounted into a RUN', () => {
  const model = parseDockerfile('FROM x AS tools\nFROM x AS app\nRUN --mount=type=bind,source=requirements.txt,target=/r.txt --mount=type=bind,from=tools,source=/t,target=/t pip install -r /r.txt\n');
  const run = at(2, 2, 'RUN --mount=type=bind,source=requirements.txt,target=/r.txt --mount=type=bind,from=tools,source=/t,target=/t pip install -r /r.txt');
  test.each<[string, Partial<ReportOptions>, unknown]>([
    ['a changed bound file is the cause', { changedFiles: ['requirements.txt', 'README.md'] }, { kind: 'context-files', files: ['requirements.txt'] }],
    ['one the ignore file excludes is not', { changedFiles: ['requirements.txt'], contextIgnore: { content: '*.txt\n', file: '.dockerignore' } }, unknown('its instruction or a bind-mounted file changed; no changed file matches its sources (.dockerignore excludes the changed requirements.txt)')],
    // `from=tools` binds another stage, not the context: its `/t` is no context file.
    ['a bind from another stage reads no context file', { changedFiles: ['t'] }, unknown('its instruction or a bind-mounted file changed; no changed file matches its sources')],
    ['the changed files unknown', { changedFiles: undefined, changedFilesUnknown: 'the clone is shallow' }, unknown('its instruction or a bind-mounted file changed; the changed files are unknown (the clone is shallow)')],
  ])('%s', (_, options, expected) => {
    expect(missCause(run, context(model, options))).toEqual(expected);
  });

  test('a bind without a source binds the whole context', () => {
    const whole = parseDockerfile('FROM x AS app\nRUN --mount=type=bind,target=/src make\n');
    expect(missCause(at(2, 2, 'RUN --mount=type=bind,target=/src make'), context(whole, { changedFiles: ['Makefile'] }))).toEqual({ kind: 'context-files', files: ['Makefile'] });
  });
});

describe('missCause: a changed build arg the step names', () => {
  // 1 FROM, 2 ARG A B, 3 ENV DIR=/srv/$B, 4 WORKDIR /srv/${A}, 5 COPY conf/$A.ini ./, 6 WORKDIR $DIR, 7 ADD --chown=$B x ./, 8 COPY y ./, 9 RUN make
  const model = parseDockerfile(['FROM x AS app', 'ARG A B', 'ENV DIR=/srv/$B', 'WORKDIR /srv/${A}', 'COPY conf/$A.ini ./', 'WORKDIR $DIR', 'ADD --chown=$B x ./', 'COPY y ./', 'RUN make', ''].join('\n'));
  const bothChanged = args({ A: '2', B: '2' }, { A: '1', B: '1' });
  // BuildKit shows the steps with the values substituted.
  test.each<[string, StepReport, Partial<ReportOptions>, unknown]>([
    ['WORKDIR naming it', at(2, 7, 'WORKDIR /srv/2'), bothChanged, { kind: 'build-arg', names: ['A'] }],
    ['COPY naming it in a source', at(3, 7, 'COPY conf/2.ini ./'), bothChanged, { kind: 'build-arg', names: ['A'] }],
    ['WORKDIR naming an ENV set from it', at(4, 7, 'WORKDIR /srv/2'), bothChanged, { kind: 'build-arg', names: ['B'] }],
    ['ADD naming it in a flag', at(5, 7, 'ADD --chown=2 x ./'), bothChanged, { kind: 'build-arg', names: ['B'] }],
    ['COPY naming none is no build arg miss', at(6, 7, 'COPY y ./'), bothChanged, unknown(/^its instruction or a copied file changed/)],
    ['WORKDIR naming an unchanged arg', at(2, 7, 'WORKDIR /srv/1'), args({ A: '1', B: '2' }, { A: '1', B: '1' }), unknown(/^its instruction is unchanged|^its instruction or an earlier input changed/)],
    // A RUN has every declared ARG in its environment, named or not.
    ['RUN naming none still sees them', at(7, 7, 'RUN make'), bothChanged, { kind: 'build-arg', names: ['A', 'B'] }],
  ])('%s', (_, missed, options, expected) => {
    expect(missCause(missed, context(model, { ...options, changedFiles: ['unrelated.txt'] }))).toEqual(expected);
  });
});

describe('missCause: sources fetched by name', () => {
  const model = parseDockerfile(['FROM x AS tools', 'FROM x AS app', 'COPY --from=ghcr.io/astral-sh/uv:0.4 /uv /bin/', 'COPY --from=tools /t /t', 'RUN --mount=from=busybox:1.36,target=/bb ls /bb', 'ADD https://example.com/a.tgz /a.tgz', 'COPY --from=x/y@sha256:0123 /z /z', ''].join('\n'));
  test.each<[string, StepReport, MissCause | unknown]>([
    ['COPY --from=<image>', at(2, 6, 'COPY --from=ghcr.io/astral-sh/uv:0.4 /uv /bin/'), unknown('its instruction changed, or it copies from image ghcr.io/astral-sh/uv:0.4, whose content may have changed under the same tag (not recorded)')],
    ['RUN --mount=from=<image>', at(4, 6, 'RUN --mount=from=busybox:1.36,target=/bb ls /bb'), unknown(/^its instruction changed, or it mounts image busybox:1\.36, whose content may have changed under the same tag \(not recorded\)/)],
    ['ADD <url>', at(5, 6, 'ADD https://example.com/a.tgz /a.tgz'), unknown('its instruction changed, or it downloads https://example.com/a.tgz, whose content may have changed under the same tag or URL (not recorded)')],
    // A stage or an image pinned by digest is no source whose content moves under its name.
    ['COPY --from=<stage>', at(3, 6, 'COPY --from=tools /t /t'), unknown(/^its instruction or a copied file changed/)],
    ['COPY --from=<image@digest>', at(6, 6, 'COPY --from=x/y@sha256:0123 /z /z'), unknown(/^its instruction or a copied file changed/)],
  ])('%s', (_, missed, expected) => {
    expect(missCause(missed, context(model, {}))).toEqual(expected);
  });
});

// `.dockerignore` patterns before and after an edit, and the sources of the step that missed.
test.each<[string, string | null | undefined, string, string[], boolean]>([
  ['a new pattern under the copied directory', '.git\n', '.git\nsrc/notes.md\n', ['src/'], true],
  ['a new pattern elsewhere', '.git\n', '.git\ndocs/\n', ['src/'], false],
  ['a removed pattern under the source', '.git\nsrc/*.pyc\n', '.git\n', ['src'], true],
  ['`**` reaches every directory', '', '**/*.md\n', ['src/'], true],
  ['a root-level glob against a directory it cannot name', '', '*.md\n', ['src/'], false],
  ['a root-level glob against the whole context', '', '*.md\n', ['.'], true],
  ['an excluded parent directory', '', 'app\n', ['app/src/'], true],
  ['a source glob', '', 'conf/b.ini\n', ['conf/*.ini'], true],
  ['a comment-only edit', '.git\n', '# keep git out\n.git\n', ['.'], false],
  ['the same patterns reordered (the last match wins)', 'src/\n!src/keep\n', '!src/keep\nsrc/\n', ['src/'], true],
  ['a file that was not there before', null, 'src/x\n', ['src/'], true],
  ['its previous text unknown', undefined, 'docs/\n', ['src/'], true],
])('an ignore file edit: %s', (_, previous, content, sources, reaches) => {
  expect(ignoreEditReaches({ content, file: '.dockerignore', ...(previous !== undefined ? { previous } : {}) }, sources)).toBe(reaches);
});

describe('CRLF line endings', () => {
  const lines = ['FROM x AS app', 'RUN apt-get update && \\', '    apt-get install -y curl', 'RUN <<EOF', 'echo one', 'echo two', 'EOF', 'COPY a ./', ''];
  const lf = recordedStageInstructions(parseDockerfile(lines.join('\n'))).app ?? [];
  const crlf = recordedStageInstructions(parseDockerfile(lines.join('\r\n'))).app ?? [];
  // BuildKit strips an instruction line's `\r\n`, not a heredoc body's: only the heredoc RUN differs.
  test.each([
    ['FROM', 0, true],
    ['a continued RUN', 1, true],
    ['a heredoc RUN', 2, false],
    ['COPY', 3, true],
  ] as const)('%s reads the same: %s', (_, index, same) => {
    expect(crlf[index] === lf[index]).toBe(same);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { buildRecordOf, instructionFingerprint, parseDockerfile, previousFromRecord, type MissCause, type ReportOptions, type StepReport } from '../src/index.js';
import { contextFilter } from '../src/internal/context-ignore.js';
import { describeBaseImageChange, missCause, type CauseContext } from '../src/internal/miss-cause.js';

// Lines: 1 FROM, 2 ARG A, 3 RUN echo $A, 4 ARG B, 5 COPY src/, 6 RUN echo $B.
const model = parseDockerfile(['FROM python:3.12 AS app', 'ARG A', 'RUN echo $A', 'ARG B', 'COPY src/ ./src/', 'RUN echo $B', ''].join('\n'));
const IMAGE = 'docker.io/library/python:3.12';
const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;

const step = (instruction: string): StepReport => ({ stage: 'app', index: 3, total: 5, instruction, status: 'run', durationMs: 10 });

interface Situation {
  options?: Partial<ReportOptions>;
  /** Base image digest of this build (the FROM step resolved it); none: the FROM step was not seen. */
  current?: string;
  /** A step under root stage `app` was cached. */
  rootCached?: boolean;
  anyCached?: boolean;
}

function context({ options = {}, current, rootCached = false, anyCached = true }: Situation): CauseContext {
  return {
    options: { flavours: [{ name: 'app', stage: 'app' }], model, ...options },
    flavour: 'app',
    fromSteps: current ? new Map([['|app', IMAGE]]) : new Map(),
    baseImages: current ? { [IMAGE]: current } : {},
    cachedRoots: new Set(rootCached ? ['|app'] : []),
    imports: [],
    anyCached,
  };
}

const args = (now: Record<string, string>, before: Record<string, string>): Partial<ReportOptions> => ({
  buildArgs: { app: now },
  previous: { buildArgs: { app: before } },
});

describe('missCause: base image', () => {
  test.each<[string, string, Situation, MissCause['kind']]>([
    ['a moved digest with nothing cached under its root is the cause', 'RUN echo $B', { current: NEW, options: { previous: { baseImages: { [IMAGE]: OLD } } } }, 'base-image'],
    ['an unchanged digest is not', 'RUN echo $B', { current: OLD, options: { previous: { baseImages: { [IMAGE]: OLD } } } }, 'unknown'],
    // The record says the digest moved, yet a step under the same root was cached: that root's image did not move.
    ['a moved digest is not when a step under the same root was cached', 'RUN echo $B', { current: NEW, rootCached: true, options: { previous: { baseImages: { [IMAGE]: OLD } } } }, 'unknown'],
    ['an unknown previous digest is not', 'RUN echo $B', { current: NEW, options: { previous: {} } }, 'unknown'],
  ])('%s', (_, instruction, situation, kind) => {
    const cause = missCause(step(instruction), context(situation));
    expect(cause.kind).toBe(kind);
    if (kind === 'base-image') expect(cause).toEqual({ kind, image: IMAGE, previous: OLD, current: NEW });
  });
});

describe('missCause: copied files', () => {
  test.each<[string, string[], MissCause]>([
    ['a changed file under the copied directory', ['src/app.py', 'README.md'], { kind: 'context-files', files: ['src/app.py'] }],
    ['a nested changed file', ['src/pkg/mod.py'], { kind: 'context-files', files: ['src/pkg/mod.py'] }],
    // `src/` is a directory: `src_old.py` and `srcfoo/x` merely share its name's prefix.
    ['only files under src/ are its sources, not src_old.py', ['src/app.py', 'src_old.py', 'srcfoo/x.py'], { kind: 'context-files', files: ['src/app.py'] }],
  ])('%s', (_, changedFiles, expected) => {
    expect(missCause(step('COPY src/ ./src/'), context({ options: { changedFiles } }))).toEqual(expected);
  });

  test('a file that only shares the directory name as a prefix is not the cause', () => {
    const cause = missCause(step('COPY src/ ./src/'), context({ options: { changedFiles: ['src_old.py', 'srcfoo/x.py'] } }));
    expect(cause.kind).toBe('unknown');
  });
});

describe('missCause: build args', () => {
  test.each<[string, string, Partial<ReportOptions>, MissCause['kind'], string[]?]>([
    ['a changed arg declared before the step', 'RUN echo $A', args({ A: '2', B: '1' }, { A: '1', B: '1' }), 'build-arg', ['A']],
    // B is declared on line 4, after `RUN echo $A` (line 3): it cannot reach that step.
    ['a changed arg declared only after the step is not the cause', 'RUN echo $A', args({ A: '1', B: '2' }, { A: '1', B: '1' }), 'unknown'],
    ['of two changed args only the one declared before the step', 'RUN echo $A', args({ A: '2', B: '2' }, { A: '1', B: '1' }), 'build-arg', ['A']],
    ['both changed args before a later step', 'RUN echo $B', args({ A: '2', B: '2' }, { A: '1', B: '1' }), 'build-arg', ['A', 'B']],
    ['an arg given before and no longer given now', 'RUN echo $A', args({}, { A: '1' }), 'build-arg', ['A']],
    ['an arg given now and not before', 'RUN echo $A', args({ A: '1' }, {}), 'build-arg', ['A']],
    ['unchanged args', 'RUN echo $B', args({ A: '1', B: '1' }, { A: '1', B: '1' }), 'unknown'],
  ])('%s', (_, instruction, options, kind, names) => {
    const cause = missCause(step(instruction), context({ options }));
    expect(cause.kind).toBe(kind);
    if (kind === 'build-arg') expect(cause).toEqual({ kind, names });
  });
});

describe('missCause: instruction', () => {
  const recorded = (...instructions: string[]): Partial<ReportOptions> => ({ previous: { instructions: { app: instructions.map(instructionFingerprint) } } });

  test.each<[string, string, Situation, MissCause['kind']]>([
    ['an instruction missing from the record was edited', 'RUN echo $B', { options: recorded('RUN echo $A', 'RUN echo "$B"') }, 'instruction'],
    ['a recorded instruction is not', 'RUN echo $B', { options: recorded('RUN echo $A', 'RUN echo $B') }, 'unknown'],
    // Nothing of the build was cached: there was no cache to use, whatever the record says.
    ['with no step cached the record proves nothing', 'RUN echo $B', { anyCached: false, options: recorded('RUN echo $A') }, 'unknown'],
    // BuildKit's step names collapse whitespace runs: reformatting the Dockerfile is no edit.
    ['an instruction that differs from the record in whitespace only is not', 'RUN  echo \t $B ', { options: recorded('RUN echo $B') }, 'unknown'],
    ['a recorded instruction reported with other whitespace is not', 'RUN echo $B', { options: recorded('RUN echo   $B') }, 'unknown'],
  ])('%s', (_, instruction, situation, kind) => {
    expect(missCause(step(instruction), context(situation)).kind).toBe(kind);
  });

  test('the fingerprint is the sha256 of the instruction with whitespace runs collapsed', () => {
    const expected = `sha256:${createHash('sha256').update('RUN pip install -r requirements.txt').digest('hex')}`;
    expect(instructionFingerprint('RUN pip install -r requirements.txt')).toBe(expected);
    expect(instructionFingerprint('  RUN   pip install\n\t-r  requirements.txt ')).toBe(expected);
    expect(instructionFingerprint('RUN pip install -r requirements-dev.txt')).not.toBe(expected);
  });

  test('with no step cached, the hint says there was no cache to use', () => {
    const cause = missCause(step('RUN echo $B'), context({ anyCached: false, options: recorded('RUN echo $A') }));
    expect(cause).toEqual({ kind: 'unknown', hint: 'no step of the build was cached and no cache was imported: there was no cache to use yet' });
  });
});

// ---- Per root stage base images (D2): a new tag or another image in FROM, not only a moved tag. ----

describe('missCause: the base image of a root stage', () => {
  const m = parseDockerfile(['ARG BASE_IMAGE=x/base:1', 'FROM ${BASE_IMAGE} AS base', 'RUN make', 'FROM x/tools:1 AS tools', 'RUN build', 'FROM x/tools:1 AS tools2', 'RUN build2', 'FROM base AS app', 'COPY src/ ./src/', ''].join('\n'));
  const copy: StepReport = { stage: 'app', index: 2, total: 2, instruction: 'COPY src/ ./src/', status: 'run', durationMs: 1 };
  interface Bases {
    fromSteps?: Record<string, string>;
    baseImages?: Record<string, string>;
    previous?: Record<string, unknown>;
    /** Build args now and in the previous build. */
    args?: [Record<string, string>, Record<string, string>];
    cached?: string[];
    step?: StepReport;
  }
  const cause = (b: Bases) =>
    missCause(b.step ?? copy, {
      options: {
        flavours: [{ name: 'app', stage: 'app' }],
        model: m,
        changedFiles: [],
        ...(b.args ? { buildArgs: { app: b.args[0] } } : {}),
        previous: { ...b.previous, ...(b.args ? { buildArgs: { app: b.args[1] } } : {}) },
      },
      flavour: 'app',
      fromSteps: new Map(Object.entries(b.fromSteps ?? { '|base': 'x/base:2' })),
      baseImages: b.baseImages ?? { 'x/base:2': NEW },
      cachedRoots: new Set(b.cached ?? []),
      imports: [],
      anyCached: true,
    });
  const moved = { kind: 'base-image', image: 'x/base:2', previous: OLD, current: NEW, stage: 'base', previousImage: 'x/base:1' };
  const unknown = (hint: string | RegExp) => ({ kind: 'unknown', hint: expect.stringMatching(hint) });

  test.each<[string, Bases, unknown]>([
    ['a new tag and digest in the FROM of the stage (`FROM x/base:1@A` -> `x/base:2@B`)', { previous: { stageBases: { '|base': `x/base:1@${OLD}` }, baseImages: { 'x/base:1': OLD } } }, moved],
    ['the same digest under another tag is no cause', { baseImages: { 'x/base:2': OLD }, previous: { stageBases: { '|base': `x/base:1@${OLD}` } } }, unknown(/^its instruction or a copied file changed; no changed file/)],
    // A step on the new base was cached: it came from another build (or the record is older than the cache).
    ['a step under the root was cached: no claim, the hint tells the difference', { cached: ['|base'], previous: { stageBases: { '|base': `x/base:1@${OLD}` } } }, unknown(/^the base image of stage base is not the previous build's \(sha256:a{12} -> sha256:b{12}\), yet steps on it were cached \(from another build\); /)],
    ['an older record: the same reference moved', { previous: { baseImages: { 'x/base:2': OLD } } }, { kind: 'base-image', image: 'x/base:2', previous: OLD, current: NEW }],
    ['an older record: a digest none of its FROM lines had', { previous: { baseImages: { 'x/base:1': OLD } } }, unknown(`^the base image of stage base changed: x/base:2@sha256:${'b'.repeat(12)} is none of the previous build's base images`)],
    ['an older record: a digest another FROM had is no claim', { previous: { baseImages: { 'x/tools:1': NEW } } }, unknown(/^its instruction is unchanged|^its instruction or a copied file/)],
    // BuildKit ran the two identical FROM lines once and named the step after `tools` only.
    ['a stage whose FROM step BuildKit named after a twin stage', { step: { ...copy, stage: 'tools2', instruction: 'RUN build2' }, fromSteps: { '|tools': 'x/tools:1' }, baseImages: { 'x/tools:1': NEW }, previous: { stageBases: { '|tools': `x/tools:1@${OLD}` } } }, { kind: 'base-image', image: 'x/tools:1', previous: OLD, current: NEW, stage: 'tools2', previousImage: 'x/tools:1' }],
    ['one platform of several', { step: { ...copy, platform: 'linux/arm64' }, fromSteps: { 'linux/arm64|base': 'x/base:2 (linux/arm64)' }, baseImages: { 'x/base:2 (linux/arm64)': NEW }, previous: { stageBases: { 'linux/arm64|base': `x/base:1@${OLD}`, 'linux/amd64|base': `x/base:2@${NEW}` } } }, { ...moved, image: 'x/base:2 (linux/arm64)' }],
    // D2b: `FROM ${BASE_IMAGE}` with another value: the stage's first step misses.
    ['a changed global ARG in FROM, an older record', { args: [{ BASE_IMAGE: '2' }, { BASE_IMAGE: '1' }], previous: { baseImages: { 'x/base:1': OLD } } }, { kind: 'build-arg', names: ['BASE_IMAGE'] }],
    ['a changed global ARG in FROM, the FROM step not seen', { args: [{ BASE_IMAGE: '2' }, { BASE_IMAGE: '1' }], fromSteps: {}, baseImages: {} }, { kind: 'build-arg', names: ['BASE_IMAGE'] }],
    ['a changed global ARG in FROM that resolved to the same digest is no cause', { args: [{ BASE_IMAGE: '2' }, { BASE_IMAGE: '1' }], baseImages: { 'x/base:2': OLD }, previous: { stageBases: { '|base': `x/base:1@${OLD}` } } }, unknown(/^its instruction or a copied file changed; no changed file/)],
    ['a changed global ARG in FROM, a step under the root cached: no claim', { args: [{ BASE_IMAGE: '2' }, { BASE_IMAGE: '1' }], cached: ['|base'], fromSteps: {} }, unknown(/^its instruction or a copied file changed/)],
    ['a changed build arg the FROM does not name', { args: [{ OTHER: '2' }, { OTHER: '1' }], fromSteps: {}, baseImages: {} }, unknown(/^its instruction or a copied file changed/)],
  ])('%s', (_, bases, expected) => {
    expect(cause(bases)).toEqual(expected);
  });

  test('the summary wording for a base image whose reference changed', () => {
    expect(describeBaseImageChange(cause({ previous: { stageBases: { '|base': `x/base:1@${OLD}` } } }))).toBe(`base image of stage base changed x/base:1@sha256:${'a'.repeat(12)} -> x/base:2@sha256:${'b'.repeat(12)}`);
    expect(describeBaseImageChange(cause({ baseImages: { 'x/base:1': NEW }, fromSteps: { '|base': 'x/base:1' }, previous: { stageBases: { '|base': `x/base:1@${OLD}` } } }))).toBeUndefined();
  });
});

// ---- The Dockerfile's instructions in order (D3): edits that leave the missed step's own text alone. ----

describe('missCause: an earlier instruction changed', () => {
  // 1 FROM, 2 WORKDIR, 3 ENV MODE, 4 LABEL, 5 ARG V, 6 RUN one, 7 RUN two $V, 8 COPY a, 9 ENV TAIL, 10 FROM base AS app, 11 RUN echo $TAIL, 12 COPY src/.
  const BEFORE = ['FROM x/base:1 AS base', 'WORKDIR /app', 'ENV MODE=1', 'LABEL v=1', 'ARG V=1', 'RUN one', 'RUN two $V', 'COPY a ./', 'ENV TAIL=1', 'FROM base AS app', 'RUN echo $TAIL', 'COPY src/ ./src/'];
  const dockerfile = (lines: string[]) => parseDockerfile(`${lines.join('\n')}\n`);
  const edit = (from: string, to: string | null, lines = BEFORE) => lines.flatMap((l) => (l === from ? (to === null ? [] : [to]) : [l]));
  const at = (stage: string, index: number, total: number, instruction: string): StepReport => ({ stage, index, total, instruction, status: 'run', durationMs: 1 });
  const earlier = (where: string, stage = 'base') => {
    const [, removed, line] = /^(?:removed (before|after) )?line (\d+)$/.exec(where)!;
    return { kind: 'earlier-instruction', stage, line: Number(line), ...(removed ? { removed } : {}) };
  };
  const evicted = { kind: 'unknown', hint: 'its instruction is unchanged and the steps before it were cached; the stage declares build arg `V` before it, whose previous values are unknown; else the cache has no result for this step (not exported, or evicted)' };

  test.each<[string, string[], string[], StepReport, unknown]>([
    ['an edited ENV line', BEFORE, edit('ENV MODE=1', 'ENV MODE=2'), at('base', 3, 5, 'RUN one'), earlier('line 3')],
    ['an added USER line', BEFORE, edit('ENV MODE=1', 'ENV MODE=1\nUSER nobody'), at('base', 3, 5, 'RUN one'), earlier('line 4')],
    ['an edited ARG default', BEFORE, edit('ARG V=1', 'ARG V=2'), at('base', 3, 5, 'RUN one'), earlier('line 5')],
    // BuildKit shows `RUN two $V` as `RUN two 1`.
    ['a deleted RUN line', BEFORE, edit('RUN one', null), at('base', 3, 4, 'RUN two 1'), earlier('removed before line 6')],
    ['an ENV at the end of the parent stage, seen by a RUN of the child', BEFORE, edit('ENV TAIL=1', 'ENV TAIL=2'), at('app', 2, 3, 'RUN echo 2'), earlier('line 9')],
    ['the last instruction of the parent stage deleted', BEFORE, edit('ENV TAIL=1', null), at('app', 2, 3, 'RUN echo'), earlier('removed after line 8')],
    ['the parent stage switched', [...BEFORE, 'FROM x/base:1 AS other', 'RUN other'], [...edit('FROM base AS app', 'FROM other AS app'), 'FROM x/base:1 AS other', 'RUN other'], at('app', 2, 3, 'RUN echo'), earlier('line 10', 'app')],
    ['an edited RUN is the step itself', BEFORE, edit('RUN one', 'RUN uno'), at('base', 3, 5, 'RUN uno'), { kind: 'instruction' }],
    ['an edited WORKDIR is the step itself', BEFORE, edit('WORKDIR /app', 'WORKDIR /srv'), at('base', 2, 5, 'WORKDIR /srv'), { kind: 'instruction' }],
    // Not causes: LABEL is image config only; an ENV no RUN sees cannot change a COPY.
    ['an edited LABEL is no cause', BEFORE, edit('LABEL v=1', 'LABEL v=2'), at('base', 3, 5, 'RUN one'), evicted],
    ['an ENV added right before a COPY is no cause of its miss', BEFORE, edit('COPY a ./', 'ENV X=1\nCOPY a ./'), at('base', 5, 5, 'COPY a ./'), { kind: 'unknown', hint: 'its instruction is unchanged and no changed file matches its sources: the cache may come from an older commit' }],
    // A stage of the chain missing from the record (renamed): nothing is known, nothing claimed; nor
    // is the RUN edited because BuildKit's name for it (`RUN echo 2`) is not in the older record.
    ['a renamed parent stage', edit('FROM base AS app', 'FROM basis AS app', edit('FROM x/base:1 AS base', 'FROM x/base:1 AS basis')), edit('ENV TAIL=1', 'ENV TAIL=2'), at('app', 2, 3, 'RUN echo 2'), { kind: 'unknown', hint: 'its instruction or an earlier input changed' }],
    ['the global default an ARG of the stage takes', ['ARG G=1', 'FROM x AS s', 'ARG G', 'RUN g $G'], ['ARG G=2', 'FROM x AS s', 'ARG G', 'RUN g $G'], at('s', 2, 2, 'RUN g 2'), earlier('line 3', 's')],
  ])('%s', (_, before, now, missed, expected) => {
    const previous = buildRecordOf({ baseImages: {} }, {}, dockerfile(before));
    const options: Partial<ReportOptions> = {
      model: dockerfile(now),
      changedFiles: [],
      // The step names of the previous build, as older records keep them: `RUN echo 1` differs from `RUN echo 2`.
      previous: { ...previousFromRecord(previous), instructions: { base: [], app: [instructionFingerprint('RUN echo 1')] } },
    };
    expect(missCause(missed, { ...context({ options }), options: { flavours: [{ name: 'app', stage: missed.stage as string }], ...options } })).toEqual(expected);
  });
});

// ---- Files the ignore file excludes (D4). ----

test.each<[string, string, boolean]>([
  ['README.md', '*.md', false],
  ['docs/README.md', '*.md', true],
  ['docs/README.md', '**/*.md', false],
  ['docs/a/b.txt', 'docs', false],
  ['docs/a/b.txt', 'docs/', false],
  ['docs/keep.txt', 'docs\n!docs/keep.txt', true],
  ['.git/HEAD', '.git', false],
  ['./README.md', '/README.md', false],
  ['Readme.md', 'README.md', true],
  ['src/a.txt', '# src\n\n', true],
])('BuildKit sends %s with the ignore file %j: %s', (file, content, sent) => {
  expect(contextFilter(content)(file)).toBe(sent);
});

describe('missCause: changed files the build context does not send', () => {
  const copyStep = (instruction: string): StepReport => ({ stage: 'app', index: 3, total: 4, instruction, status: 'run', durationMs: 1 });
  test.each<[string, string, string | null, string[], MissCause]>([
    ['ignored files are no cause of `COPY . .`', 'COPY . .', '.git\n*.md\ndocs/\n', ['README.md', 'docs/guide.txt', 'src/a.txt'], { kind: 'context-files', files: ['src/a.txt'] }],
    // Docker's `*.md` matches at the root only (unlike .gitignore).
    ['`*.md` excludes README.md, not sub/README.md', 'COPY . .', '*.md\n', ['README.md', 'sub/README.md'], { kind: 'context-files', files: ['sub/README.md'] }],
    ['`!` includes again', 'COPY . .', 'docs/\n!docs/keep.txt\n', ['docs/keep.txt', 'docs/x.txt'], { kind: 'context-files', files: ['docs/keep.txt'] }],
    ['the ignore file itself, excluded, still changes what `COPY . .` copies', 'COPY . .', '.git\n.dockerignore\n', ['.dockerignore'], { kind: 'context-files', files: ['.dockerignore'] }],
    // Its previous text unknown, an edit may have changed what `COPY src/` sends (see `ignoreEditReaches`).
    ['and may change what `COPY src/` copies', 'COPY src/ ./src/', '.git\n.dockerignore\n', ['.dockerignore'], { kind: 'context-files', files: ['.dockerignore'] }],
    ['only excluded files under the sources', 'COPY src/ ./src/', '**/*.pyc\n', ['src/app.pyc'], { kind: 'unknown', hint: 'its instruction or a copied file changed; no changed file matches its sources (.dockerignore excludes the changed src/app.pyc)' }],
    ['without an ignore file every file counts', 'COPY . .', null, ['README.md'], { kind: 'context-files', files: ['README.md'] }],
  ])('%s', (_, instruction, content, changedFiles, expected) => {
    const contextIgnore = { content, file: '.dockerignore' };
    expect(missCause(copyStep(instruction), context({ options: { changedFiles, contextIgnore } }))).toEqual(expected);
  });

  // The previous text known: only an edit that can match a path under the sources is named.
  test.each<[string, string, string, MissCause]>([
    ['a pattern added under the sources', '.git\n', '.git\nsrc/notes.md\n', { kind: 'context-files', files: ['.dockerignore'] }],
    ['a pattern added elsewhere', '.git\n', '.git\ndocs/\n', { kind: 'unknown', hint: 'its instruction or a copied file changed; no changed file matches its sources (the edit of .dockerignore matches nothing under them)' }],
  ])('an edited ignore file, its previous text known: %s', (_, previous, content, expected) => {
    const contextIgnore = { content, previous, file: '.dockerignore' };
    expect(missCause(copyStep('COPY src/ ./src/'), context({ options: { changedFiles: ['.dockerignore'], contextIgnore } }))).toEqual(expected);
  });
});

// ---- BuildKit names RUN steps with ARG values substituted (`RUN echo $A` -> `RUN echo 1`). ----

describe('missCause: a step named with its ARG values', () => {
  // BuildKit numbers the stage's steps: 1 FROM, 2 `RUN echo $A`, 3 COPY, 4 `RUN echo $B`.
  const named = (index: number, instruction: string): StepReport => ({ stage: 'app', index, total: 4, instruction, status: 'run', durationMs: 1 });
  test.each<[string, StepReport, Partial<ReportOptions>, MissCause]>([
    ['an arg declared only after the step is not its cause', named(2, 'RUN echo 1'), args({ A: '1', B: '2' }, { A: '1', B: '1' }), { kind: 'unknown', hint: 'its instruction or an earlier input changed' }],
    ['the arg declared before it is', named(4, 'RUN echo 2'), args({ A: '1', B: '2' }, { A: '1', B: '1' }), { kind: 'build-arg', names: ['B'] }],
    ['unknown previous values: only the args declared before it are listed', named(2, 'RUN echo 1'), {}, { kind: 'unknown', hint: 'its instruction or an earlier input changed; the stage declares build arg `A` before it, whose previous values are unknown' }],
  ])('%s', (_, missed, options, expected) => {
    expect(missCause(missed, context({ options }))).toEqual(expected);
  });
});

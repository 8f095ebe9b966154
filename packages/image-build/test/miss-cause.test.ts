import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { instructionFingerprint, parseDockerfile, type MissCause, type ReportOptions, type StepReport } from '../src/index.js';
import { missCause, type CauseContext } from '../src/internal/miss-cause.js';

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

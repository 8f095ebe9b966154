import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { describeCause, previousFromRecord, stepLabel } from '../src/index.js';
import { recordedBuilds, type RecordedBuild as Build } from './recorded-builds.js';

// Recorded with the docker driver of the shared test engine (`docker buildx build --progress=rawjson
// --output type=cacheonly`), two builds per scenario, `<name>-1` after the change from `<name>-0`.
// Vertices another build on the engine contributed (BuildKit merged their edges: named after a stage
// these Dockerfiles lack) were removed.
//   bind       a file bind-mounted into a RUN (`RUN --mount=type=bind,source=requirements.txt`) changed
//   argcopy    FLAVOUR=a -> b, used by `WORKDIR /srv/${FLAVOUR}` and `COPY config/${FLAVOUR}.ini`
//   ignoredir  .dockerignore now excludes src/notes.md: `COPY src/ ./src/` sends other files
//   fromimage  the image of `COPY --from=localhost/birec/tool-...:1` was rebuilt under the same tag
//   heredoc    the same Dockerfile with CRLF line endings: the `RUN <<EOF` body keeps its `\r`
const dir = path.join(import.meta.dirname, 'fixtures/rawjson/miss-explained');
const TOOL = 'localhost/birec/tool-1796523545116708552:1';
const { report, recordOf } = recordedBuilds(dir, { name: 'production', stage: 'svc' }, []);

/** What the next build compares with: the record build `name` saves. */
const after = (name: string, args: Record<string, string> = {}) => previousFromRecord(recordOf(name, args));

describe('recorded: the first miss explained', () => {
  test.each<[string, string, () => Build, string, string]>([
    ['a changed file bind-mounted into a RUN', 'bind-1', () => ({ changedFiles: ['requirements.txt'], previous: after('bind-0') }), 'svc 4/4 RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt cat /tmp/requirements.txt > /deps', 'changed file: requirements.txt'],
    ['a changed build arg used by WORKDIR and COPY', 'argcopy-1', () => ({ args: { FLAVOUR: 'b' }, previous: after('argcopy-0', { FLAVOUR: 'a' }) }), 'svc 3/5 WORKDIR /srv/b', 'changed build arg: FLAVOUR'],
    ['a .dockerignore edit under a directory COPY, its previous text unknown', 'ignoredir-1', () => ({ changedFiles: ['.dockerignore'], contextIgnore: { content: '.git\nsrc/notes.md\n', file: '.dockerignore' }, previous: after('ignoredir-0') }), 'svc 4/5 COPY src/ ./src/', 'changed file: .dockerignore'],
    ['a .dockerignore edit under a directory COPY, its previous text known', 'ignoredir-1', () => ({ changedFiles: ['.dockerignore'], contextIgnore: { content: '.git\nsrc/notes.md\n', file: '.dockerignore', previous: '.git\n' }, previous: after('ignoredir-0') }), 'svc 4/5 COPY src/ ./src/', 'changed file: .dockerignore'],
    ['an image copied from, moved under the same tag', 'fromimage-1', () => ({ previous: after('fromimage-0') }), `svc 3/4 COPY --from=${TOOL} /tool /usr/bin/tool`, `unknown: its instruction is unchanged and it copies from image ${TOOL}, whose content may have changed under the same tag (not recorded)`],
    ['a CRLF heredoc body', 'heredoc-1', () => ({ previous: after('heredoc-0') }), 'svc 3/4 RUN <<EOF (echo one > /h1...)', 'its instruction is new or changed since the previous build'],
  ])('%s', (_, name, build, step, reason) => {
    const miss = report(name, build()).flavours[0]?.firstMiss;
    expect(miss && stepLabel(miss.step)).toBe(step);
    expect(miss && describeCause(miss.cause)).toBe(reason);
  });

  // The engine ran every step before the missed one from the cache: the fixtures are the real thing.
  test.each(['bind-1', 'argcopy-1', 'ignoredir-1', 'fromimage-1', 'heredoc-1'])('%s: the steps before the first miss were cached', (name) => {
    const flavour = report(name).flavours[0];
    expect(flavour?.steps.cached).toBeGreaterThan(0);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildArgFingerprints, buildRecordOf, buildReport, parseBuildRecord, parseDockerfile, parseRawJson, serializeBuildRecord } from '../src/index.js';
import type { BuildRecord, ReportOptions } from '../src/index.js';

/** One recorded build's inputs besides its progress stream and Dockerfile. */
export interface RecordedBuild {
  args?: Record<string, string>;
  changedFiles?: string[];
  previous?: ReportOptions['previous'];
  contextIgnore?: ReportOptions['contextIgnore'];
}

/**
 * Reports over recorded builds in `dir` (`<name>.rawjson` from `docker buildx build --progress=rawjson`,
 * `<name>.Dockerfile` built), one flavour. `changedFiles` undefined means "unknown" unless `changedDefault` is given.
 */
export function recordedBuilds(dir: string, flavour: { name: string; stage: string }, changedDefault?: string[]) {
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  const report = (name: string, build: RecordedBuild = {}) => {
    const changedFiles = build.changedFiles ?? changedDefault;
    return buildReport(parseRawJson(read(`${name}.rawjson`)).statuses, {
      flavours: [flavour],
      model: parseDockerfile(read(`${name}.Dockerfile`)),
      buildArgs: { [flavour.name]: buildArgFingerprints(build.args ?? {}) },
      ...(changedFiles ? { changedFiles } : {}),
      ...(build.previous ? { previous: build.previous } : {}),
      ...(build.contextIgnore ? { contextIgnore: build.contextIgnore } : {}),
    });
  };
  /** The record build `name` saves, written and read back as the action does. */
  const recordOf = (name: string, args: Record<string, string> = {}): BuildRecord =>
    parseBuildRecord(serializeBuildRecord(buildRecordOf(report(name, { args }), { [flavour.name]: args }, parseDockerfile(read(`${name}.Dockerfile`)))));
  return { read, report, recordOf };
}

import * as core from '@actions/core';
import { buildArgFingerprints, buildOutputs, buildReport, changedFilesInContext, describeCause, formatBytes, NO_STEPS, reportMarkdown, stepLabel } from '@org/image-build';
import type { BuildReport, FlavourSizes } from '@org/image-build';
import type { PreviousBuild } from './build-record.js';
import type { ChangedFiles, Inputs } from './context.js';
import type { BakeResult } from './build.js';
import { BuildFailedError } from './errors.js';
import type { BuildPlan } from './plan.js';

/**
 * The report of one bake run; `changed` are repository-relative paths changed since the cached build
 * (or why they are unknown), `previous` what the previous build's record holds. Build args are
 * compared as fingerprints, the form the record keeps them in. With the bake's exit code, a bake
 * that exited 0 has no failed step or flavour (BuildKit cancels duplicate vertices of shared steps).
 */
export function makeReport(
  plan: BuildPlan,
  inputs: Inputs,
  result: Pick<BakeResult, 'statuses' | 'messages'> & Partial<Pick<BakeResult, 'exitCode'>>,
  changed: ChangedFiles | undefined,
  compareWith: Pick<PreviousBuild, 'previous' | 'contextIgnore'> = {},
): BuildReport {
  const buildArgs = Object.fromEntries(plan.flavours.map((f) => [f.name, buildArgFingerprints(inputs.buildArgs)]));
  return buildReport(result.statuses, {
    flavours: plan.flavours,
    model: plan.model,
    ...(changed && 'files' in changed ? { changedFiles: changedFilesInContext(changed.files, inputs.context) } : {}),
    ...(changed && 'unknown' in changed ? { changedFilesUnknown: changed.unknown } : {}),
    buildArgs,
    ...(compareWith.previous ? { previous: compareWith.previous } : {}),
    ...(compareWith.contextIgnore ? { contextIgnore: compareWith.contextIgnore } : {}),
    messages: result.messages,
    ...(result.exitCode !== undefined ? { succeeded: result.exitCode === 0 } : {}),
  });
}

/** Log lines per flavour: steps, cache hits, the first miss and why. */
export function reportLines(report: BuildReport, sizes: Record<string, FlavourSizes> = {}): string[] {
  return report.flavours.map((f) => {
    if (f.steps.total === 0) return `${f.flavour}: ${NO_STEPS}`;
    const miss = f.firstMiss ? `first miss \`${stepLabel(f.firstMiss.step)}\` (${describeCause(f.firstMiss.cause)})` : 'no cache miss';
    const size = sizes[f.flavour];
    const sizeText = size?.imageBytes !== undefined ? `; ${formatBytes(size.imageBytes)}` : '';
    const pushed = size?.pushedUnknown
      ? '; pushed bytes unknown'
      : size?.pushedBytes !== undefined
        ? `; pushed ${formatBytes(size.pushedBytes)} in ${size.pushedLayers} new layer(s)`
        : '';
    return `${f.flavour}: ${f.steps.cached}/${f.steps.total} steps cached, ${f.steps.run} run; ${miss}${sizeText}${pushed}`;
  });
}

/** Job summary table and the action's outputs. */
export async function publishReport(plan: BuildPlan, inputs: Inputs, result: BakeResult, report: BuildReport, sizes: Record<string, FlavourSizes>): Promise<void> {
  for (const line of reportLines(report, sizes)) core.info(line);
  const outputs = buildOutputs({
    flavours: plan.flavours,
    tags: plan.tags,
    pushed: plan.push,
    report,
    metadata: result.metadata,
    // Fingerprints, never values: a build arg may carry a token, and outputs end up in logs and PR comments.
    buildArgs: Object.fromEntries(plan.flavours.map((f) => [f.name, buildArgFingerprints(inputs.buildArgs)])),
    sizes,
  });
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
  await writeSummary(reportMarkdown(report, result.metadata, sizes));
}

/** The job summary exists only inside a job (GITHUB_STEP_SUMMARY); elsewhere the table goes to the log. */
export async function writeSummary(markdown: string): Promise<void> {
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write();
  else core.info(markdown);
}

/**
 * A failed build: the summary still shows how far each flavour got; the error names the flavour and
 * step buildx's `ERROR` line names (`report.failure`), not a vertex BuildKit merely cancelled.
 */
export async function reportBuildFailure(
  plan: BuildPlan,
  inputs: Inputs,
  result: BakeResult,
  changed: ChangedFiles | undefined,
  compareWith: Pick<PreviousBuild, 'previous' | 'contextIgnore'> = {},
): Promise<BuildFailedError> {
  const report = makeReport(plan, inputs, result, changed, compareWith);
  await writeSummary(reportMarkdown(report, result.metadata));
  const { failure } = report;
  const step = failure?.step ? ` at \`${stepLabel(failure.step)}\`` : '';
  const detail = failure?.error ?? result.messages.filter((m) => /^ERROR/.test(m)).join(' / ');
  return new BuildFailedError(
    `The build${failure?.flavour ? ` of ${failure.flavour}` : ''} failed${step}: ${detail || `docker buildx bake exited with ${result.exitCode}`}`,
  );
}

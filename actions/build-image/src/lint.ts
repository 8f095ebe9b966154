import * as core from '@actions/core';
import { lintDockerfile, readContextFacts } from '@org/image-build';
import type { LintFinding } from '@org/image-build';
import type { Inputs } from './context.js';
import { LintFailedError } from './errors.js';
import type { BuildPlan } from './plan.js';

/** One annotation per finding, on the Dockerfile line it concerns (the file is workspace-relative). */
export function annotate(findings: LintFinding[]): void {
  for (const finding of findings) {
    const properties = { title: `Dockerfile cache lint: ${finding.rule}`, file: finding.file, startLine: finding.line };
    const message = `${finding.message} Fix: ${finding.fix}`;
    if (finding.severity === 'error') core.error(message, properties);
    else core.warning(message, properties);
  }
}

/** Lints the Dockerfile; with `lint: error`, any finding fails the action after it is annotated. */
export async function lintStep(plan: BuildPlan, inputs: Inputs): Promise<LintFinding[]> {
  if (inputs.lint === 'off') {
    core.info('The Dockerfile cache lint is off (`lint: off`).');
    return [];
  }
  const facts = await readContextFacts(plan.contextDir, plan.dockerfilePath, { context: inputs.context, file: inputs.file });
  const findings = lintDockerfile(plan.model, facts, inputs.lint, inputs.buildArgs);
  annotate(findings);
  core.info(findings.length === 0 ? `${plan.model.file}: no cache problems found.` : `${plan.model.file}: ${findings.length} finding(s).`);
  if (inputs.lint === 'error' && findings.length > 0) throw new LintFailedError(findings.length, plan.model.file);
  return findings;
}

import * as core from '@actions/core';
import { reportFailure } from '@org/action-inputs';
import { buildRecordOf } from '@org/image-build';
import { BakeRunError, runBake } from './build.js';
import { restoreBuildRecord, saveBuildRecord } from './build-record.js';
import { changedFiles, getInputs, readRunContext, sensitiveValues } from './context.js';
import { restoreCacheMounts } from './cache-mounts.js';
import { checkBuilder } from './docker.js';
import { messageOf, toActionError } from './errors.js';
import { lintStep } from './lint.js';
import { login } from './login.js';
import { builderNeeds, describePlan, planBuild } from './plan.js';
import { makeReport, publishReport, reportBuildFailure } from './report.js';
import { blobsBeforePush, measureSizes } from './sizes.js';
import { type PostState, savePostState } from './state.js';

/**
 * The BakeRunError behind `error`: itself, or the `cause` withRegistryRetry keeps when it turns a
 * failed bake into a registry error. Undefined when no bake ran.
 */
export function bakeRunErrorIn(error: unknown): BakeRunError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof BakeRunError) return current;
  }
  return undefined;
}

/** The action's main step. It only orchestrates; every error becomes one reportFailure here. */
export async function run(): Promise<void> {
  try {
    const inputs = getInputs();
    const secrets = sensitiveValues(inputs);
    for (const value of secrets) core.setSecret(value);
    const runContext = await readRunContext();
    if (runContext.defaultBranchUnknown) core.warning(runContext.defaultBranchUnknown);
    const plan = await core.group('Plan', async () => {
      const planned = await planBuild(inputs, runContext);
      for (const line of describePlan(planned)) core.info(line);
      return planned;
    });
    await core.group('Dockerfile cache lint', () => lintStep(plan, inputs));
    const builder = await core.group('Builder', () => checkBuilder(inputs.builder, builderNeeds(plan)));

    const state: PostState = {};
    if (inputs.registry) {
      await core.group(`Log in to ${inputs.registry}`, () => login(inputs.registry, inputs.username, inputs.password));
      state.loggedIn = inputs.registry;
      savePostState(state);
    }
    await core.group('Restore cache mounts', async () => {
      try {
        const mounts = await restoreCacheMounts(plan, inputs, runContext.runnerTemp, builder.platform);
        if (mounts) {
          state.cacheMounts = mounts;
          savePostState(state);
        }
      } catch (error) {
        core.warning(`Cache mounts were not restored (${messageOf(error)}); the build fills them from scratch.`);
      }
    });

    const before = plan.push ? await core.group('Images behind the tags before the push', () => blobsBeforePush(plan)) : undefined;
    const changed = await changedFiles(runContext);
    const previousBuild = await core.group('Previous build record', () => restoreBuildRecord(plan, inputs, runContext));
    const result = await core.group(`Build ${plan.flavours.map((f) => f.name).join(' + ')} (one bake)`, async () => {
      try {
        return await runBake(plan, secrets);
      } catch (error) {
        const bakeRun = bakeRunErrorIn(error);
        if (!bakeRun) throw error;
        const failed = await reportBuildFailure(plan, inputs, bakeRun.result, changed, previousBuild);
        // A registry error made from the bake's (denied push, base image behind auth) says more than
        // "the build failed": keep it; the summary is written either way.
        throw error === bakeRun ? failed : error;
      }
    });
    state.built = true;
    savePostState(state);
    await core.group('Report', async () => {
      const report = makeReport(plan, inputs, result, changed, previousBuild);
      const sizes = await measureSizes(plan, result.metadata, before);
      await publishReport(plan, inputs, result, report, sizes);
      const buildArgs = Object.fromEntries(plan.flavours.map((f) => [f.name, inputs.buildArgs]));
      await saveBuildRecord(previousBuild, buildRecordOf(report, buildArgs));
    });
  } catch (error) {
    reportFailure(toActionError(error));
  }
}

import * as core from '@actions/core';
import { ActionError, reportFailure } from '@org/action-inputs';
import { saveCacheMounts } from './cache-mounts.js';
import { messageOf } from './errors.js';
import { logout } from './login.js';
import { loadPostState, postPlan } from './state.js';

/**
 * The post step, run after every main step (`post-if: always()`): saves the cache mounts after a
 * finished build, then logs out of the registry the main step logged in to. Nothing here may fail
 * the job: every error is reported as a warning in one place.
 */
export async function runPost(): Promise<void> {
  try {
    const plan = postPlan(loadPostState());
    for (const note of plan.notes) core.info(note);
    try {
      if (plan.saveMounts) {
        const mounts = plan.saveMounts;
        await core.group('Save cache mounts', () => saveCacheMounts(mounts));
      }
    } finally {
      if (plan.logout) {
        const registry = plan.logout;
        await core.group(`Log out of ${registry}`, () => logout(registry));
      }
    }
  } catch (error) {
    reportFailure(new ActionError(`The post step failed: ${messageOf(error)}`, false));
  }
}

void runPost();

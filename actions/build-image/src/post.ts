import * as core from '@actions/core';
import { ActionError, reportFailure } from '@org/action-inputs';
import { saveCacheMounts } from './cache-mounts.js';
import { messageOf } from './errors.js';
import { logout } from './login.js';
import { loadPostState } from './state.js';

/**
 * The post step (after a successful job): saves the cache mounts when they changed, then logs out.
 * Nothing here may fail the job: every error is reported as a warning in one place.
 */
export async function runPost(): Promise<void> {
  try {
    const state = loadPostState();
    try {
      if (state.cacheMounts) {
        const mounts = state.cacheMounts;
        await core.group('Save cache mounts', () => saveCacheMounts(mounts));
      }
    } finally {
      if (state.loggedIn) {
        const registry = state.loggedIn;
        await core.group(`Log out of ${registry}`, () => logout(registry));
      }
    }
  } catch (error) {
    reportFailure(new ActionError(`The post step could not save the cache mounts: ${messageOf(error)}`, false));
  }
}

void runPost();

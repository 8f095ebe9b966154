import * as core from '@actions/core';

/** The action's single entry: every error becomes exactly one core.setFailed here. */
export async function run(): Promise<void> {
  try {
    throw new Error('This action is not implemented yet (see the open issues).');
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}

import path from 'node:path';
import * as core from '@actions/core';
import { InputError } from '@org/action-inputs';
import {
  NotFoundError,
  StoreConfigError,
  openStore,
  resolve,
  type Store,
} from '@org/dump-versioning';
import type { Inputs } from './context.js';
import { messageOf } from './errors.js';
import type { Ancestor, NoAncestor } from './mode.js';

/** Opens the `store` input; a relative path is relative to the workspace, like every other path input. */
export function openActionStore(inputs: Pick<Inputs, 'store' | 's3Endpoint' | 'awsRegion'>, workspace: string): Store {
  try {
    return openStore(inputs.store, {
      ...(inputs.s3Endpoint ? { s3Endpoint: inputs.s3Endpoint } : {}),
      s3Region: inputs.awsRegion,
      cwd: workspace,
      // An S3 endpoint that does not answer is retried; the log says so while it waits.
      onRetry: (message: string) => core.info(message),
    });
  } catch (error) {
    if (error instanceof StoreConfigError) {
      const input = error.code === 's3-endpoint-invalid' ? 's3-endpoint' : error.code === 's3-region-invalid' ? 'aws-region' : 'store';
      throw new InputError(input, messageOf(error));
    }
    throw error;
  }
}

/**
 * Where the store's problem lies when a read or write fails: the region (the server answered that the
 * requests were signed for another one), else the store itself or the S3 endpoint.
 */
export function storeInput(inputs: Pick<Inputs, 's3Endpoint'>): (error: unknown) => string {
  return (error) => {
    if (error instanceof StoreConfigError && (error.code === 'region-mismatch' || error.code === 's3-region-invalid')) return 'aws-region';
    return inputs.s3Endpoint ? 'store` / `s3-endpoint' : 'store';
  };
}

/**
 * The nearest published first-parent ancestor of `commit` (the commit itself counts), or why there is none:
 * the store has none within the library's distance limit, the clone lacks the history, or the store is new.
 */
export async function findAncestor(store: Store, service: string, commit: string, repoDir: string): Promise<Ancestor | NoAncestor> {
  try {
    const found = await resolve({ store, service, commit, repoDir });
    return {
      commit: found.commit,
      version: found.version,
      distance: found.distance,
      fingerprint: found.entry.migrations?.fingerprint,
      engines: found.entry.engines,
    };
  } catch (error) {
    if (error instanceof NotFoundError && error.code === 'no-published-ancestor') {
      // Full mode follows; when the clone's history was the reason, the mode's reason says so too.
      if (/shallow clone/.test(error.message)) {
        core.warning(`No published ancestor found: ${error.message}`);
        return { none: `the clone's history could not be searched for a published ancestor (${error.message.replace(/\.$/, '')})` };
      }
      return { none: 'no dump is published for this commit or its first-parent ancestors' };
    }
    // A filesystem store that does not exist yet: this is the first publish into it.
    if (error instanceof StoreConfigError && error.code === 'store-missing') return { none: `the store ${store.location} does not exist yet (this is its first publish)` };
    throw error;
  }
}

/** Resolves a workspace-relative path input and keeps it inside the workspace. */
export function workspacePath(workspace: string, input: string, value: string): string {
  const resolved = path.resolve(workspace, value);
  const relative = path.relative(workspace, resolved);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new InputError(input, `"${value}" points outside the workspace ${workspace}; give a path inside the checkout`);
  }
  return resolved;
}

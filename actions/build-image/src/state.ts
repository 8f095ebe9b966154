import * as core from '@actions/core';
import type { CacheMount } from '@org/image-build';

/** What the main step hands to the post step (through GITHUB_STATE / STATE_*). */
export interface CacheMountState {
  /** The key to save under: it encodes the mounts and the lockfiles (or, without lockfiles, the run). */
  key: string;
  /** What the key's last part is; missing in the state of an older main step (then `lockfiles`). */
  keyedBy?: 'lockfiles' | 'run';
  /** The key restored from (exact or by prefix), if any. */
  matchedKey?: string;
  /** hashDirectory of what was restored, to save only when the contents changed. */
  restoredHash?: string;
  /** Restore and save use the same path: @actions/cache versions entries by their paths. */
  dir: string;
  workDir: string;
  /** Expanded as BuildKit names them (resolveCacheMounts): the extract build mounts the same ids. */
  mounts: CacheMount[];
  helperImage: string;
  builder?: string;
}

export interface PostState {
  cacheMounts?: CacheMountState;
  /** Registry logged in to, to log out again. */
  loggedIn?: string;
  /** The main step finished its build: only then are the cache mounts worth saving. */
  built?: boolean;
}

/** What the post step does. It runs after every main step (`post-if: always()`), even one that failed early. */
export interface PostPlan {
  saveMounts?: CacheMountState;
  logout?: string;
  /** Why something is skipped, for the log. */
  notes: string[];
}

/**
 * Logging out follows a login whatever happened after it, so credentials never stay on the runner.
 * Cache mounts are saved only after a finished build: a failed one leaves them half-filled, and a
 * saved key is never saved again.
 */
export function postPlan(state: PostState): PostPlan {
  const notes: string[] = [];
  const plan: PostPlan = { notes };
  if (state.cacheMounts && state.built) plan.saveMounts = state.cacheMounts;
  else if (state.cacheMounts) notes.push('The build did not finish, so the cache mounts are not saved.');
  if (state.loggedIn) plan.logout = state.loggedIn;
  if (!state.cacheMounts && !state.loggedIn) notes.push('Nothing to do: the main step saved no cache mounts and logged in nowhere.');
  return plan;
}

const KEY = 'build-image';

export function savePostState(state: PostState): void {
  core.saveState(KEY, JSON.stringify(state));
}

/** The main step's state; empty when it stopped before saving any (or the state cannot be read). */
export function loadPostState(raw: string = core.getState(KEY)): PostState {
  if (!raw) return {};
  try {
    return JSON.parse(raw) as PostState;
  } catch {
    return {};
  }
}

import * as core from '@actions/core';
import type { CacheMount } from '@org/image-build';

/** What the main step hands to the post step (through GITHUB_STATE / STATE_*). */
export interface CacheMountState {
  /** The key to save under: it encodes the mounts and the lockfiles. */
  key: string;
  /** The key restored from (exact or by prefix), if any. */
  matchedKey?: string;
  /** hashDirectory of what was restored, to save only when the contents changed. */
  restoredHash?: string;
  /** Restore and save use the same path: @actions/cache versions entries by their paths. */
  dir: string;
  workDir: string;
  mounts: CacheMount[];
  helperImage: string;
  builder?: string;
}

export interface PostState {
  cacheMounts?: CacheMountState;
  /** Registry logged in to, to log out again. */
  loggedIn?: string;
}

const KEY = 'build-image';

export function savePostState(state: PostState): void {
  core.saveState(KEY, JSON.stringify(state));
}

export function loadPostState(): PostState {
  const raw = core.getState(KEY);
  return raw ? (JSON.parse(raw) as PostState) : {};
}

import { expect, test } from 'vitest';
import { loadPostState, postPlan } from '../src/state.js';
import type { CacheMountState, PostState } from '../src/state.js';

const mounts: CacheMountState = { key: 'k', dir: '/tmp/m', workDir: '/tmp/w', mounts: [], helperImage: 'busybox' };

// The post step runs after every main step (`post-if: always()`), however far main got.
test.each<[string, PostState, { saveMounts: boolean; logout?: string; notes: RegExp[] }]>([
  ['main failed before saving any state (bad input, no engine)', {}, { saveMounts: false, notes: [/^Nothing to do/] }],
  ['the build failed after the login: log out, keep the half-filled mounts out of the cache', { loggedIn: 'ghcr.io', cacheMounts: mounts }, { saveMounts: false, logout: 'ghcr.io', notes: [/did not finish, so the cache mounts are not saved/] }],
  ['a finished build: save the mounts, then log out', { loggedIn: 'ghcr.io', cacheMounts: mounts, built: true }, { saveMounts: true, logout: 'ghcr.io', notes: [] }],
  ['a finished build without login', { cacheMounts: mounts, built: true }, { saveMounts: true, notes: [] }],
])('%s', (_, state, expected) => {
  const plan = postPlan(state);
  expect(plan.saveMounts !== undefined).toBe(expected.saveMounts);
  expect(plan.logout).toBe(expected.logout);
  expect(plan.notes).toHaveLength(expected.notes.length);
  expected.notes.forEach((note, i) => expect(plan.notes[i]).toMatch(note));
});

test('state that is missing or unreadable is empty state, not a failed post step', () => {
  expect(loadPostState('')).toEqual({});
  expect(loadPostState('{not json')).toEqual({});
  expect(loadPostState(JSON.stringify({ loggedIn: 'ghcr.io' }))).toEqual({ loggedIn: 'ghcr.io' });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitSettings } from '../../scripts/act/env-files.js';

// e2e.yml reads the harness through secrets.* and vars.*; the generated files and the templates must
// offer exactly those names, each on the right side (a secret in vars would be logged unmasked).
const workflow = readFileSync(new URL('../../.github/workflows/e2e.yml', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => !line.trimStart().startsWith('#'))
  .join('\n');
const referenced = (context: 'secrets' | 'vars') =>
  [...new Set([...workflow.matchAll(new RegExp(`\\b${context}\\.([A-Z0-9_]+)`, 'g'))].map((match) => match[1]!))].sort();

function templateKeys(name: string): string[] {
  const text = readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
  return [...text.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]!).sort();
}

/** A harness .env as `test/services/up` writes it (values made up). */
const harness = {
  TEST_MYSQL_URL: 'mysql://root:pw@127.0.0.1:13306',
  TEST_MONGO_URL: 'mongodb://127.0.0.1:17017',
  TEST_S3_ENDPOINT: 'http://127.0.0.1:19000',
  TEST_S3_ACCESS_KEY_ID: 'oa1234',
  TEST_S3_SECRET_ACCESS_KEY: 'secret',
  TEST_S3_REGION: 'us-east-1',
  TEST_REGISTRY: '127.0.0.1:15000',
  DOCKER_HOST: 'unix:///tmp/org-actions-services/docker.sock',
  TEST_BASE_IMAGE: 'localhost/org-actions/busybox:1.35.0',
};

describe('e2e.yml and the act env files', () => {
  it('the workflow reads only secrets the generator writes as secrets', () => {
    expect(referenced('secrets')).toEqual(['TEST_MYSQL_URL', 'TEST_S3_ACCESS_KEY_ID', 'TEST_S3_SECRET_ACCESS_KEY']);
    expect(Object.keys(splitSettings(harness).secrets).sort()).toEqual(referenced('secrets'));
  });

  it('every var the workflow reads is generated from the harness settings', () => {
    const generated = Object.keys(splitSettings(harness).vars);
    expect(referenced('vars').filter((name) => !generated.includes(name))).toEqual([]);
  });

  it('uses no remote action but actions/checkout (act fetches every remote action, even of a skipped step, and has no route to GitHub)', () => {
    const remote = [...workflow.matchAll(/^\s*(?:-\s*)?uses:\s*([^\s#]+)/gm)].map((match) => match[1]!).filter((ref) => !ref.startsWith('./'));
    expect([...new Set(remote.map((ref) => ref.replace(/@.*$/, '')))]).toEqual(['actions/checkout']);
  });

  it('the templates list the same names', () => {
    expect(templateKeys('secrets.example')).toEqual(referenced('secrets'));
    expect(templateKeys('vars.example')).toEqual(referenced('vars'));
  });
});

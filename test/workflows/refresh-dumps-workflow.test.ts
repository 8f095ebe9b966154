/**
 * The example workflow `.github/workflows/refresh-dumps.yml` is what service teams copy, so it is checked
 * for what issue 5 asks of it (actionlint, in .ci/run, checks only that it is a valid workflow): the
 * triggers and paths filter, least-privilege permissions, one non-cancelling concurrency group, MySQL 8.0
 * and Mongo 7 service containers, AWS credentials by OIDC only, and inputs the action really has.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');
const workflow = parse(readFileSync(join(root, '.github/workflows/refresh-dumps.yml'), 'utf8'));
const actionYml = parse(readFileSync(join(root, 'actions/refresh-dumps/action.yml'), 'utf8'));

type Step = { uses?: string; with?: Record<string, unknown>; run?: string };
const jobs = Object.values(workflow.jobs as Record<string, { services?: Record<string, { image: string }>; steps: Step[] }>);
const steps = jobs.flatMap((job) => job.steps);
const stepUsing = (prefix: string) => steps.find((step) => step.uses?.startsWith(prefix));

describe('example workflow refresh-dumps.yml', () => {
  test('runs on pushes to master that touch migrations, and by hand', () => {
    expect(workflow.on.push.branches).toEqual(['master']);
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    const paths: string[] = workflow.on.push.paths;
    expect(paths.some((path) => path.includes('migrations'))).toBe(true);
    // Each filter names a place that exists: a typo would silently stop every refresh.
    for (const path of paths) expect(existsSync(join(root, path.split('*')[0]!)), path).toBe(true);
  });

  test('asks for the least privilege: read the code, mint an OIDC token', () => {
    expect(workflow.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  test('runs one refresh at a time and never cancels a running one', () => {
    expect(typeof workflow.concurrency.group).toBe('string');
    expect(workflow.concurrency['cancel-in-progress']).toBe(false);
  });

  test('has MySQL 8.0 and Mongo 7 service containers', () => {
    const images = jobs.flatMap((job) => Object.values(job.services ?? {}).map((service) => service.image));
    expect(images).toEqual(expect.arrayContaining(['mysql:8.0', 'mongo:7']));
  });

  test('gets AWS credentials through OIDC, never stored keys', () => {
    const aws = stepUsing('aws-actions/configure-aws-credentials@');
    expect(aws?.with).toHaveProperty('role-to-assume');
    expect(Object.keys(aws?.with ?? {}).filter((key) => /access-key|secret/.test(key))).toEqual([]);
  });

  test('gives the action only inputs it declares, and every required one', () => {
    const refresh = stepUsing('./actions/refresh-dumps');
    const given = Object.keys(refresh?.with ?? {});
    const declared = actionYml.inputs as Record<string, { required?: boolean }>;
    expect(given.filter((name) => !(name in declared))).toEqual([]);
    const required = Object.entries(declared).filter(([, input]) => input.required).map(([name]) => name);
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
  });
});

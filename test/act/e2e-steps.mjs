#!/usr/bin/env node
// Steps of .github/workflows/e2e.yml that need more than a line of shell: create the S3 bucket and check
// what each action published. Node built-ins and curl only, so they run unchanged on a GitHub runner
// (no `pnpm install`) and in the offline act job image.
//   node test/act/e2e-steps.mjs create-bucket | check-refresh-dumps | check-build-image | check-base-moved |
//   check-same-digests
// Settings come from the environment (see each command); S3 keys are passed to curl on stdin, never argv.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

class CheckFailed extends Error {}

function need(name) {
  const value = process.env[name];
  if (value === undefined || value === '') throw new CheckFailed(`${name} is not set`);
  return value;
}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

/** One signed S3 request with curl's SigV4 support; returns the HTTP status and the body. */
function s3(method, key) {
  const endpoint = need('S3_ENDPOINT').replace(/\/+$/, '');
  const quote = (text) => `"${text.replace(/[\\"]/g, '\\$&')}"`;
  const dir = mkdtempSync(join(tmpdir(), 'e2e-s3-'));
  try {
    const bodyFile = join(dir, 'body');
    const result = spawnSync(
      'curl',
      ['-sS', '--config', '-', '--aws-sigv4', `aws:amz:${process.env.S3_REGION || 'us-east-1'}:s3`, '-X', method, '-o', bodyFile, '-w', '%{http_code}', `${endpoint}/${key}`],
      { input: `user = ${quote(`${need('AWS_ACCESS_KEY_ID')}:${need('AWS_SECRET_ACCESS_KEY')}`)}\n`, encoding: 'utf8' },
    );
    if (result.error) throw new CheckFailed(`curl could not run: ${result.error.message}`);
    if (result.status !== 0) throw new CheckFailed(`curl ${method} ${endpoint}/${key} failed: ${result.stderr.trim()}`);
    let body = '';
    try {
      body = readFileSync(bodyFile, 'utf8');
    } catch {
      // HEAD and some errors write no body.
    }
    return { status: Number(result.stdout), body };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function s3Json(key) {
  const { status, body } = s3('GET', key);
  check(status === 200, `s3://${key}: HTTP ${status}, expected 200`);
  return JSON.parse(body);
}

/** E2E_BUCKET: created, or already there (409 from a previous run). */
function createBucket() {
  const bucket = need('E2E_BUCKET');
  const { status, body } = s3('PUT', bucket);
  check(status === 200 || (status === 409 && /BucketAlreadyOwnedByYou/.test(body)), `creating bucket ${bucket}: HTTP ${status} ${body.slice(0, 200)}`);
  console.log(`bucket ${bucket}: ${status === 200 ? 'created' : 'already there'}`);
}

/**
 * The outputs of the two refresh-dumps runs (VERSION/CHANGED/MODE/COMMIT/MANIFEST, then RERUN_*) against
 * the store (E2E_BUCKET/STORE_PREFIX): the branch ref points at this commit and version, the manifest exists.
 */
function checkRefreshDumps() {
  const version = need('VERSION');
  const commit = need('COMMIT');
  const service = need('SERVICE');
  const branch = need('BRANCH');
  check(/^[0-9a-f]{64}$/.test(version), `version "${version}" is not a sha256`);
  check(commit === need('EXPECTED_COMMIT'), `commit ${commit} is not the workflow's commit ${process.env.EXPECTED_COMMIT}`);
  check(['true', 'false'].includes(need('CHANGED')), `changed "${process.env.CHANGED}" is not true/false`);
  check(['full', 'incremental'].includes(need('MODE')), `mode "${process.env.MODE}" is not full/incremental`);
  check(need('MANIFEST').includes(`${service}/versions/${version}.json`), `manifest "${process.env.MANIFEST}" does not name ${service}/versions/${version}.json`);
  // The same commit again: nothing new to publish.
  check(need('RERUN_VERSION') === version, `the re-run gave version ${process.env.RERUN_VERSION}, the first run ${version}`);
  check(need('RERUN_CHANGED') === 'false', `the re-run on the same commit says changed=${process.env.RERUN_CHANGED}`);

  const base = `${need('E2E_BUCKET')}/${need('STORE_PREFIX')}/${service}`;
  const ref = s3Json(`${base}/refs/${encodeURIComponent(branch)}.json`);
  check(ref.version === version && ref.commit === commit, `ref ${branch} points at ${ref.commit}/${ref.version}, expected ${commit}/${version}`);
  const manifest = s3Json(`${base}/versions/${version}.json`);
  const files = Array.isArray(manifest.files) ? manifest.files.map((file) => file.path) : [];
  check(files.some((path) => path.startsWith('mysql/')) && files.some((path) => path.startsWith('mongo/')), `manifest lists no mysql/ and mongo/ files: ${files.join(', ')}`);
  console.log(`refresh-dumps: version ${version} for ${commit} (${files.length} files); ref ${branch} points at it; re-run unchanged`);
}

/** The outputs of build-image (DIGEST_*, TAGS, METADATA, CACHE_HIT_RATIO) against the registry REGISTRY. */
async function checkBuildImage() {
  const registry = need('REGISTRY');
  const image = need('IMAGE');
  const metadata = JSON.parse(need('METADATA'));
  const ratio = Number(need('CACHE_HIT_RATIO'));
  check(ratio >= 0 && ratio <= 1, `cache-hit-ratio ${process.env.CACHE_HIT_RATIO} is not within 0..1`);
  const tags = need('TAGS').split('\n').filter(Boolean);
  for (const [flavour, variable, repository] of [
    ['devstack', 'DIGEST_DEVSTACK', `${image}-dev`],
    ['production', 'DIGEST_PRODUCTION', image],
  ]) {
    const digest = need(variable);
    check(/^sha256:[0-9a-f]{64}$/.test(digest), `${variable} "${digest}" is not a digest`);
    const entry = metadata.flavours?.[flavour];
    check(entry !== undefined, `metadata.flavours has no "${flavour}" entry: ${Object.keys(metadata.flavours ?? {}).join(', ')}`);
    check(entry.digest === digest, `metadata.flavours.${flavour}.digest is ${entry.digest}, the ${variable} output ${digest}`);
    check(tags.some((tag) => tag.startsWith(`${repository}:`)), `no tag of ${repository} among: ${tags.join(' ')}`);
    const path = repository.slice(registry.length + 1);
    const response = await fetch(`http://${registry}/v2/${path}/manifests/${digest}`, {
      method: 'HEAD',
      headers: {
        accept: [
          'application/vnd.oci.image.index.v1+json',
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.docker.distribution.manifest.list.v2+json',
          'application/vnd.docker.distribution.manifest.v2+json',
        ].join(', '),
      },
    });
    check(response.status === 200, `${repository}@${digest}: the registry answers HTTP ${response.status}`);
    check(response.headers.get('docker-content-digest') === digest, `${repository}@${digest}: the registry has ${response.headers.get('docker-content-digest')}`);
    console.log(`build-image: ${repository}@${digest} is in the registry`);
  }
  console.log(`build-image: ${tags.length} tags, cache-hit-ratio ${ratio}`);
}

/**
 * The second build of the same commit, after BASE_IMAGE was re-pointed (METADATA), against the first
 * (BEFORE): each flavour's first cache miss is put down to the base image moving from the digest the
 * first build resolved to the one this build did (carried by the build record in the Actions cache).
 */
function checkBaseMoved() {
  const baseImage = need('BASE_IMAGE');
  const before = JSON.parse(need('BEFORE'));
  const metadata = JSON.parse(need('METADATA'));
  const previous = before.baseImages?.[baseImage];
  const current = metadata.baseImages?.[baseImage];
  check(/^sha256:[0-9a-f]{64}$/.test(previous ?? ''), `the first build resolved no digest for ${baseImage}: ${JSON.stringify(before.baseImages)}`);
  check(/^sha256:[0-9a-f]{64}$/.test(current ?? '') && current !== previous, `the second build resolved ${baseImage} to ${current}, the first to ${previous}`);
  for (const flavour of ['devstack', 'production']) {
    const miss = metadata.flavours?.[flavour]?.firstMiss;
    check(miss?.cause?.kind === 'base-image', `${flavour}: the first miss is put down to ${JSON.stringify(miss?.cause)}, not the moved base image`);
    check(miss.cause.image === baseImage && miss.cause.previous === previous && miss.cause.current === current, `${flavour}: cause ${JSON.stringify(miss.cause)}`);
    check(miss.reason.startsWith(`base image ${baseImage} moved (`), `${flavour}: reason "${miss.reason}"`);
    console.log(`build-image: ${flavour} first miss \`${miss.step}\`: ${miss.reason}`);
  }
}

/** Two builds of the same commit on the same base (BEFORE, METADATA): the same digest per flavour. */
function checkSameDigests() {
  const before = JSON.parse(need('BEFORE'));
  const metadata = JSON.parse(need('METADATA'));
  for (const flavour of ['devstack', 'production']) {
    const [first, again] = [before.flavours?.[flavour]?.digest, metadata.flavours?.[flavour]?.digest];
    check(/^sha256:[0-9a-f]{64}$/.test(first ?? '') && again === first, `${flavour}: built to ${again}, the first build to ${first}`);
    console.log(`build-image: ${flavour} is ${again} again`);
  }
}

const commands = {
  'create-bucket': createBucket,
  'check-refresh-dumps': checkRefreshDumps,
  'check-build-image': checkBuildImage,
  'check-base-moved': checkBaseMoved,
  'check-same-digests': checkSameDigests,
};
const command = commands[process.argv[2]];
if (command === undefined) {
  console.error(`usage: e2e-steps.mjs ${Object.keys(commands).join(' | ')}`);
  process.exit(2);
}
try {
  await command();
} catch (error) {
  if (!(error instanceof CheckFailed || error instanceof SyntaxError)) throw error;
  console.log(`::error::${process.argv[2]}: ${error.message}`);
  process.exit(1);
}

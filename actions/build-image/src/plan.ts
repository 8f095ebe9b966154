import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import { InputError } from '@org/action-inputs';
import {
  bakeDefinition,
  computeTags,
  defaultPush,
  describeCachePlan,
  getBakeArgs,
  isPullRequest,
  parseDockerfile,
  planCache,
  resolveFlavours,
  sanitizeTag,
  stageClosure,
} from '@org/image-build';
import type { BakeDefinition, BuildSecretFile, CachePlan, DockerfileModel, Flavour, TagPlan } from '@org/image-build';
import type { Inputs, RunContext } from './context.js';

/** Everything the build needs, decided before anything runs. */
export interface BuildPlan {
  contextDir: string;
  dockerfilePath: string;
  model: DockerfileModel;
  flavours: Flavour[];
  tags: TagPlan[];
  push: boolean;
  cache: Record<string, CachePlan>;
  /** Secret files to write (0600) before the bake and delete after it. */
  secretFiles: BuildSecretFile[];
  secretsDir: string;
  /** Bake definition without the secret entries (added once the files exist). */
  definition: BakeDefinition;
  bakeFile: string;
  metadataFile: string;
  bakeArgs: string[];
  workDir: string;
}

/** The Actions cache service is reachable: buildx's `type=gha` and @actions/cache can use it. */
export function actionsCacheAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean((env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL) && env.ACTIONS_RUNTIME_TOKEN);
}

async function readDockerfile(file: string, shown: string): Promise<DockerfileModel> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError('file', `cannot read ${shown} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give the Dockerfile's path relative to the workspace`);
  }
  return parseDockerfile(content, shown);
}

/** Without `image`, a build that is only loaded still needs a name: the repository's. */
function localImageName(env: NodeJS.ProcessEnv): string {
  const repo = (env.GITHUB_REPOSITORY ?? '').split('/').pop() ?? '';
  return `localhost/${sanitizeTag(repo.toLowerCase()).replace(/[^a-z0-9._-]/g, '') || 'build-image'}`;
}

/** The context must exist before the Dockerfile is looked for: `file` defaults to a path inside it. */
async function checkContext(contextDir: string, shown: string): Promise<void> {
  const info = await stat(contextDir).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    throw new InputError('context', `"${shown}" does not exist in the workspace (${info.code ?? info.message}); give the build context's directory relative to the workspace, and check out the repository first`);
  }
  if (!info.isDirectory()) throw new InputError('context', `"${shown}" is a file, not a directory; give the build context's directory relative to the workspace`);
}

export async function planBuild(inputs: Inputs, run: RunContext, env: NodeJS.ProcessEnv = process.env): Promise<BuildPlan> {
  const contextDir = path.resolve(run.workspace, inputs.context);
  await checkContext(contextDir, inputs.context);
  const dockerfilePath = path.resolve(run.workspace, inputs.file);
  const model = await readDockerfile(dockerfilePath, inputs.file);

  let push = inputs.push === 'auto' ? defaultPush(run.git) : inputs.push;
  if (push && isPullRequest(run.git)) {
    core.warning('`push` is true, but pull request builds are never pushed (their `pr-<n>` tags are local); building without pushing.');
    push = false;
  }
  if (push && inputs.image === '') throw new InputError('image', 'is required when pushing; set it to the repository, e.g. `ghcr.io/org/app`');

  const flavours = resolveFlavours({ targets: inputs.targets, image: inputs.image || localImageName(env), suffixes: inputs.flavourSuffixes });
  for (const flavour of flavours) stageClosure(model, flavour.stage);
  const tags = computeTags(run.git, inputs.tags);

  const workDir = path.join(run.runnerTemp, 'build-image');
  const cache: Record<string, CachePlan> = {};
  for (const flavour of flavours) {
    cache[flavour.name] = planCache({
      mode: inputs.cache,
      flavour,
      image: inputs.image,
      git: run.git,
      push,
      ghaAvailable: actionsCacheAvailable(env),
      // Kept in the tool cache when there is one: it outlives the job on self-hosted runners.
      localDir: path.join(env.RUNNER_TOOL_CACHE || workDir, 'build-image-cache'),
      // The tool cache outlives the job and is shared by every repository on a self-hosted runner.
      service: `${env.GITHUB_REPOSITORY ?? ''}:${inputs.file}`,
    });
  }

  const definition = bakeDefinition({
    context: contextDir,
    dockerfile: dockerfilePath,
    flavours,
    tags,
    git: run.git,
    buildArgs: inputs.buildArgs,
    proxyArgs: inputs.mirrors.proxyArgs,
    platforms: inputs.platforms,
    cache,
    output: push ? 'push' : 'load',
    provenance: inputs.provenance,
    // Refuses a declared proxy ARG while a `mirrors` proxy carries credentials, before anything runs.
    model,
  });
  const bakeFile = path.join(workDir, 'bake.json');
  const metadataFile = path.join(workDir, 'bake-metadata.json');
  return {
    contextDir,
    dockerfilePath,
    model,
    flavours,
    tags,
    push,
    cache,
    secretFiles: [...inputs.mirrors.secrets, ...inputs.secrets],
    secretsDir: path.join(workDir, 'secrets'),
    definition,
    bakeFile,
    metadataFile,
    bakeArgs: getBakeArgs({ bakeFile, metadataFile, ...(inputs.builder ? { builder: inputs.builder } : {}) }),
    workDir,
  };
}

/** Log lines that show what will be built, before it is. */
export function describePlan(plan: BuildPlan): string[] {
  return [
    `Dockerfile: ${plan.model.file}; context: ${plan.contextDir}`,
    ...plan.flavours.map((f) => `${f.name}: stage \`${f.stage}\` -> ${f.image} (${plan.tags.map((t) => t.name).join(', ')})`),
    `Push: ${plan.push ? 'yes' : 'no (the images are loaded into the local engine)'}`,
    ...plan.flavours.map((f) => {
      const c = plan.cache[f.name];
      return `Cache of ${f.name}: ${c ? describeCachePlan(c) : 'none'}`;
    }),
  ];
}

/** What the builder must be able to do for this plan: export cache other than inline, build several platforms. */
export function builderNeeds(plan: Pick<BuildPlan, 'definition'>): { cacheExport: boolean; platforms: number } {
  const targets = Object.values(plan.definition.target);
  return {
    cacheExport: targets.some((target) => (target['cache-to'] ?? []).some((entry) => !/^type=inline\b/.test(entry))),
    platforms: Math.max(0, ...targets.map((target) => target.platforms?.length ?? 0)),
  };
}

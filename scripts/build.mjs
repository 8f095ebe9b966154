// Bundles every action's entries (runs.main and, where present, runs.post of its action.yml) into its dist/,
// and the command-line tools (the devstack-dumps CLI) into theirs.
// One script for all actions so they are built the same way; esbuild does not typecheck (see `pnpm typecheck`).
// The file action.yml names decides the format:
//  - dist/<entry>.mjs: ESM with code splitting. Static imports are bundled into the entry; every dynamic
//    `import()` (e.g. the AWS SDK, needed only for s3:// stores) becomes a chunk under dist/chunks/ that Node
//    loads only when the import runs, so start-up parses and evaluates only what the run needs.
//  - dist/<entry>.cjs: one CommonJS file (dynamic imports are inlined).
import { build } from 'esbuild';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const actionsDir = join(root, 'actions');
// src/index.ts only calls run() (main); src/post.ts is the optional post step.
const sources = { main: 'index', post: 'post' };

/**
 * @actions/http-client imports undici (~770 KB, ~25 ms to initialise) when it loads, only for the proxy
 * agent of its own requests. The actions load it through @actions/core (OIDC helpers) and @actions/cache;
 * most runs never make such a request. This turns that import into a require at first use: undici stays
 * in the bundle, off the start-up path. The build fails if the import line changes.
 */
const lazyUndiciInHttpClient = {
  name: 'lazy-undici-in-http-client',
  setup(build) {
    build.onLoad({ filter: /[\\/]@actions[\\/]http-client[\\/]lib[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const eager = "import { ProxyAgent } from 'undici';";
      if (!source.includes(eager)) throw new Error(`${args.path} no longer has \`${eager}\`; update lazyUndiciInHttpClient in scripts/build.mjs`);
      const lazy = "const ProxyAgent = function LazyProxyAgent(...args) { return new (require('undici').ProxyAgent)(...args); };";
      return { contents: source.replace(eager, lazy), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

const shared = {
  bundle: true,
  plugins: [lazyUndiciInHttpClient],
  platform: 'node',
  // action.yml says node24; the bundle also runs on Node 20 (act images, older runners).
  target: 'node20',
  // Prefer ESM entry points: some UMD builds (jsonc-parser) hide their requires from the bundler.
  mainFields: ['module', 'main'],
  sourcemap: true,
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
  // Keep the bundle stable across machines: no absolute paths, no timestamps.
  absWorkingDir: root,
};

const formats = {
  '.mjs': {
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    // Bundled CommonJS dependencies call require() for Node's built-ins; ESM has none, so give each file one.
    banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
  },
  '.cjs': {
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    // ESM code that calls createRequire(import.meta.url) needs a real URL inside a CJS bundle.
    banner: { js: "const __bundle_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__bundle_import_meta_url' },
  },
};

/** { main: 'dist/main.mjs', post?: ... } as the action's action.yml `runs` declares them. */
function declaredEntries(actionDir) {
  const { runs } = parse(readFileSync(join(actionDir, 'action.yml'), 'utf8'));
  return Object.fromEntries(Object.keys(sources).filter((entry) => runs?.[entry]).map((entry) => [entry, runs[entry]]));
}

/** Rebuilds `actionDir`/dist from `actionDir`/src; returns the entry files written (relative to the action). */
async function buildAction(actionDir) {
  const entries = declaredEntries(actionDir);
  const files = Object.values(entries);
  const extension = files[0]?.match(/\.[cm]js$/)?.[0];
  if (!extension || !files.every((file) => file.startsWith('dist/') && file.endsWith(extension) && !file.slice('dist/'.length).includes('/'))) {
    throw new Error(`${relative(root, actionDir)}/action.yml: runs.main/runs.post must be dist/<name>.mjs or dist/<name>.cjs, one format for both (got ${files.join(', ') || 'nothing'})`);
  }
  const entryPoints = Object.fromEntries(
    Object.entries(entries).map(([entry, file]) => {
      const source = join(actionDir, 'src', `${sources[entry]}.ts`);
      if (!existsSync(source)) throw new Error(`${relative(root, actionDir)}/action.yml names ${file}, but src/${sources[entry]}.ts does not exist`);
      return [file.slice('dist/'.length, -extension.length), source];
    }),
  );
  const outdir = join(actionDir, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  await build({ ...shared, ...formats[extension], entryPoints, outdir });
  return files;
}

/**
 * Command-line tools shipped as one self-contained bundle each (ESM with lazy chunks, like the .mjs actions), so
 * a service repository can install and run them without this workspace or a TypeScript loader.
 */
const tools = [{ dir: 'packages/devstack-dumps', source: 'src/bin.ts', out: 'dist/devstack-dumps.mjs' }];

async function buildTool({ dir, source, out }) {
  const outdir = join(root, dir, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  const esm = formats['.mjs'];
  await build({
    ...shared,
    ...esm,
    entryPoints: { [out.slice('dist/'.length, -'.mjs'.length)]: join(root, dir, source) },
    outdir,
    // The entry is the package's `bin`: executable with a shebang (harmless in the chunks, which get it too).
    banner: { js: `#!/usr/bin/env node\n${esm.banner.js}` },
  });
  chmodSync(join(root, dir, out), 0o755);
  return join(dir, out);
}

// `node scripts/build.mjs [action-dir...]`: the given actions, or every directory of actions/ with an action.yml
// and then every tool.
const given = process.argv.slice(2).map((dir) => resolve(dir));
const actionDirs =
  given.length > 0
    ? given
    : readdirSync(actionsDir)
        .sort()
        .map((action) => join(actionsDir, action))
        .filter((dir) => existsSync(join(dir, 'action.yml')));
const built = await Promise.all([
  ...actionDirs.map(async (dir) => (await buildAction(dir)).map((file) => join(relative(root, dir), file))),
  ...(given.length > 0 ? [] : tools.map(async (tool) => [await buildTool(tool)])),
]);
for (const out of built.flat()) console.log(`built ${out}`);

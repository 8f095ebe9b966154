// Bundles every action entry (main and, where present, post) to actions/<name>/dist/<entry>.cjs.
// One script for all actions so they are built the same way; esbuild does not typecheck (see `pnpm typecheck`).
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const actionsDir = join(root, 'actions');
// src/index.ts only calls run() (main); src/post.ts is the optional post step.
const entries = { index: 'main', post: 'post' };

const jobs = [];
for (const action of readdirSync(actionsDir).sort()) {
  const srcDir = join(actionsDir, action, 'src');
  if (!existsSync(join(actionsDir, action, 'action.yml'))) continue;
  const outDir = join(actionsDir, action, 'dist');
  rmSync(outDir, { recursive: true, force: true });
  for (const [source, entry] of Object.entries(entries)) {
    const file = join(srcDir, `${source}.ts`);
    if (!existsSync(file)) continue;
    jobs.push(
      build({
        entryPoints: [file],
        outfile: join(outDir, `${entry}.cjs`),
        bundle: true,
        platform: 'node',
        // action.yml says node24; the bundle also runs on Node 20 (act images, older runners).
        target: 'node20',
        format: 'cjs',
        // Prefer ESM entry points: some UMD builds (jsonc-parser) hide their requires from the bundler.
        mainFields: ['module', 'main'],
        // ESM code that calls createRequire(import.meta.url) needs a real URL inside a CJS bundle.
        banner: { js: "const __bundle_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
        define: { 'import.meta.url': '__bundle_import_meta_url' },
        sourcemap: true,
        sourcesContent: false,
        legalComments: 'linked',
        logLevel: 'warning',
        // Keep the bundle stable across machines: no absolute paths, no timestamps.
        absWorkingDir: root,
      }).then(() => `${action}/dist/${entry}.cjs`),
    );
  }
}

const built = await Promise.all(jobs);
for (const out of built) console.log(`built actions/${out}`);

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionNode } from '../test/support/action-node.js';
import { useTempDirs } from '../test/support/temp-dirs.js';

const temp = useTempDirs();

const actionsDir = new URL('../actions', import.meta.url).pathname;
const buildScript = new URL('./build.mjs', import.meta.url).pathname;

/** The environment a runner gives an action with no inputs: nothing of ours leaks in. */
function runnerEnv(cwd: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_') && !key.startsWith('RUNNER_')),
  );
  return { ...env, GITHUB_WORKSPACE: cwd };
}

// A bundle that loads but meets no inputs must fail with one workflow error, not a module crash
// (esbuild bundles CJS dependencies, and some of them only work from their ESM builds). On the Node 24
// action.yml names, and on Node 20 (act's job images, older self-hosted runners), which the build targets.
const runtimes = [
  ['Node 24 (runs.using)', actionNode()],
  [`this Node ${process.version}`, process.execPath],
];
describe.each(['build-image', 'refresh-dumps'])('the %s bundle', (action) => {
  it.each(runtimes)('loads (as action.yml names it) on %s and reports missing inputs as one ::error:: line', (_runtime, node) => {
    const { runs } = parse(readFileSync(join(actionsDir, action, 'action.yml'), 'utf8')) as { runs: { using: string; main: string } };
    expect(runs.using).toBe('node24');
    const bundle = join(actionsDir, action, runs.main);
    expect(existsSync(bundle)).toBe(true);
    const cwd = temp.makeSync('bundle-');
    const result = spawnSync(node, [bundle], { cwd, env: runnerEnv(cwd), encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).not.toMatch(/Cannot find module|ReferenceError|is not a function|SyntaxError|Dynamic require/);
    expect(result.stdout.match(/^::error::/gm)).toHaveLength(1);
    expect(result.status).toBe(1);
  });
});

describe('scripts/build.mjs', () => {
  const dir = temp.makeSync('build-scheme-');

  /** A throw-away action: its main imports node:path statically and ./lazy.ts only when asked to. */
  function writeAction(name: string, main: string): string {
    const actionDir = join(dir, name);
    mkdirSync(join(actionDir, 'src'), { recursive: true });
    writeFileSync(join(actionDir, 'action.yml'), `name: ${name}\nruns:\n  using: node24\n  main: ${main}\n`);
    writeFileSync(
      join(actionDir, 'src', 'index.ts'),
      [
        "import { basename } from 'node:path';",
        "console.log(`main ${basename(import.meta.url)}`);",
        "if (process.argv[2] === 'lazy') void import('./lazy.js').then((lazy) => console.log(lazy.describe()));",
      ].join('\n'),
    );
    // A CommonJS-style require of a built-in, as bundled npm packages do, must work in either format.
    writeFileSync(join(actionDir, 'src', 'lazy.ts'), "export const describe = () => `LAZY-MODULE-LOADED ${typeof require('node:os').cpus}`;\n");
    return actionDir;
  }

  const run = (file: string, ...args: string[]) => spawnSync(process.execPath, [file, ...args], { encoding: 'utf8', timeout: 30_000 });
  /** `node scripts/build.mjs <actionDir>`: the files it says it built, or its error output. */
  const build = (actionDir: string) => {
    const result = run(buildScript, actionDir);
    return result.status === 0 ? result.stdout.trim().split('\n') : new Error(result.stderr);
  };

  it('keeps a dynamic import out of an .mjs entry: a chunk under dist/chunks that loads only when the import runs', () => {
    const actionDir = writeAction('esm', 'dist/main.mjs');
    expect(build(actionDir)).toEqual([expect.stringMatching(/^built .*esm\/dist\/main\.mjs$/)]);
    const dist = join(actionDir, 'dist');
    expect(readFileSync(join(dist, 'main.mjs'), 'utf8')).not.toContain('LAZY-MODULE-LOADED');
    const chunks = readdirSync(join(dist, 'chunks')).filter((file) => file.endsWith('.mjs'));
    expect(chunks.filter((file) => readFileSync(join(dist, 'chunks', file), 'utf8').includes('LAZY-MODULE-LOADED'))).toHaveLength(1);
    expect(existsSync(join(dist, 'main.mjs.map'))).toBe(true);

    const eager = run(join(dist, 'main.mjs'));
    expect(eager.stdout).toBe('main main.mjs\n');
    const lazy = run(join(dist, 'main.mjs'), 'lazy');
    expect(lazy.stderr).toBe('');
    expect(lazy.stdout).toBe('main main.mjs\nLAZY-MODULE-LOADED function\n');
  });

  it('builds a .cjs entry as one CommonJS file with the dynamic import inlined', () => {
    const actionDir = writeAction('cjs', 'dist/main.cjs');
    expect(build(actionDir)).toEqual([expect.stringMatching(/^built .*cjs\/dist\/main\.cjs$/)]);
    const dist = join(actionDir, 'dist');
    expect(readdirSync(dist).sort()).toEqual(['main.cjs', 'main.cjs.map']);
    expect(run(join(dist, 'main.cjs'), 'lazy').stdout).toBe('main main.cjs\nLAZY-MODULE-LOADED function\n');
  });

  it('refuses entries action.yml names outside dist/ or in two formats', () => {
    expect(build(writeAction('outside', 'lib/main.mjs'))).toEqual(expect.objectContaining({ message: expect.stringMatching(/runs\.main\/runs\.post must be dist\/<name>\.mjs or dist\/<name>\.cjs/) }));
    const mixed = writeAction('mixed', 'dist/main.mjs');
    writeFileSync(join(mixed, 'src', 'post.ts'), "console.log('post');\n");
    writeFileSync(join(mixed, 'action.yml'), 'name: mixed\nruns:\n  using: node24\n  main: dist/main.mjs\n  post: dist/post.cjs\n');
    expect(build(mixed)).toEqual(expect.objectContaining({ message: expect.stringMatching(/one format for both/) }));
  });
});

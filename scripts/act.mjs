#!/usr/bin/env node
// `pnpm act [--workflow <file>] [--job <id>] [act args...]`: runs this repository's workflows locally with
// nektos/act against the harness's Docker engine and servers (see docs/act.md). The work is done in
// scripts/act/*.ts, loaded through tsx so it is typechecked with the rest of the repository.
let tsImport;
try {
  ({ tsImport } = await import('tsx/esm/api'));
} catch {
  process.stderr.write('pnpm act: the dev dependencies are not installed: run `pnpm install` first\n');
  process.exit(1);
}
const { main } = await tsImport('./act/main.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));

// Generates the inputs/outputs tables of actions/<name>/README.md from action.yml (changesets/action style).
// `--check` fails when a README is not current, so an input added to action.yml without regenerating fails CI.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const args = process.argv.slice(2);
const check = args.includes('--check');
// --root lets the tests run the generator on a scratch copy of the repository.
const rootArg = args.indexOf('--root');
const root = rootArg === -1 ? new URL('..', import.meta.url).pathname : args[rootArg + 1];
const begin = '<!-- action-docs:begin (generated from action.yml by `pnpm generate-docs`; do not edit) -->';
const end = '<!-- action-docs:end -->';

const cell = (value) =>
  String(value ?? '')
    .trim()
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');

function renderTables(action) {
  const lines = [];
  const inputs = Object.entries(action.inputs ?? {});
  lines.push('### Inputs', '');
  if (inputs.length === 0) lines.push('This action has no inputs.');
  else {
    lines.push('| name | description | required | default |', '| --- | --- | --- | --- |');
    for (const [name, input] of inputs) {
      const fallback = input.default === undefined || input.default === '' ? '' : `\`${cell(input.default)}\``;
      lines.push(`| \`${name}\` | ${cell(input.description)} | ${input.required ? 'yes' : 'no'} | ${fallback} |`);
    }
  }
  const outputs = Object.entries(action.outputs ?? {});
  lines.push('', '### Outputs', '');
  if (outputs.length === 0) lines.push('This action has no outputs.');
  else {
    lines.push('| name | description |', '| --- | --- |');
    for (const [name, output] of outputs) lines.push(`| \`${name}\` | ${cell(output.description)} |`);
  }
  return lines.join('\n');
}

function updateReadme(readme, tables) {
  const block = `${begin}\n${tables}\n${end}`;
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1) return `${readme.trimEnd()}\n\n## Inputs and outputs\n\n${block}\n`;
  return readme.slice(0, from) + block + readme.slice(to + end.length);
}

const stale = [];
const actionsDir = join(root, 'actions');
for (const name of readdirSync(actionsDir).sort()) {
  const actionFile = join(actionsDir, name, 'action.yml');
  if (!existsSync(actionFile)) continue;
  const readmeFile = join(actionsDir, name, 'README.md');
  const current = existsSync(readmeFile) ? readFileSync(readmeFile, 'utf8') : `# ${name}\n`;
  const next = updateReadme(current, renderTables(parse(readFileSync(actionFile, 'utf8'))));
  if (next === current) continue;
  if (check) stale.push(`actions/${name}/README.md`);
  else {
    writeFileSync(readmeFile, next);
    console.log(`updated actions/${name}/README.md`);
  }
}
if (stale.length > 0) {
  console.error(`Action READMEs are not current with action.yml: ${stale.join(', ')}. Run \`pnpm generate-docs\` and commit.`);
  process.exit(1);
}
if (check) console.log('check-docs: action READMEs match action.yml');

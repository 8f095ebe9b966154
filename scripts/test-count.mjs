// Prints the closing line of a CI run, "N passed, N failed, N skipped", from vitest's JSON report.
// A test file that failed before any test ran (e.g. a missing server under CI=true) counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file || !existsSync(file)) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
let failed = report.numFailedTests ?? 0;
for (const result of report.testResults ?? []) {
  const failedInFile = (result.assertionResults ?? []).filter((a) => a.status === 'failed').length;
  if (result.status === 'failed' && failedInFile === 0) failed += 1;
}
const passed = report.numPassedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);

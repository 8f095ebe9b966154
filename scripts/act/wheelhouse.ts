import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type Log, toolCacheDir } from './tools.js';

const run = promisify(execFile);

/** Pinned Python requirements the e2e jobs install (the fixture Django app's). */
export const requirementFiles = ['test/fixtures/django-app/requirements.txt'];

/** manylinux tags a glibc >= 2.17 system (Debian's is newer) accepts, for `pip download --platform`. */
function manylinuxPlatforms(machine: string): string[] {
  const tags = [`manylinux2014_${machine}`];
  for (let minor = 17; minor <= 36; minor++) tags.push(`manylinux_2_${minor}_${machine}`);
  return tags;
}

/**
 * Downloads the wheels of `requirementFiles` on the host, for the job image's Python, into the tool cache;
 * the job container installs from there offline (PIP_NO_INDEX, PIP_FIND_LINKS). The container has no
 * route to PyPI, and the host's own route may go through a TLS-intercepting proxy the image does not trust.
 * Returns the directory, or undefined (with a warning) when the host cannot download them; jobs that need
 * no Python are unaffected then.
 */
export async function ensureWheelhouse(root: string, env: NodeJS.ProcessEnv, image: string, log: Log): Promise<string | undefined> {
  const requirements = requirementFiles.map((file) => readFileSync(join(root, file), 'utf8'));
  const key = createHash('sha256').update(JSON.stringify([requirements, image, arch()])).digest('hex').slice(0, 16);
  const dir = join(toolCacheDir(env), 'wheels', key);
  if (existsSync(join(dir, '.complete'))) return dir;

  const started = performance.now();
  const temp = `${dir}.tmp-${process.pid}`;
  try {
    // The image's Python decides which wheels fit (e.g. cp311 for pymongo).
    const { stdout: version } = await run(
      'docker',
      ['run', '--rm', '--network', 'none', '--entrypoint', 'python3', image, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
      { env, timeout: 60_000 },
    );
    // A Python with pip on the host: the fixture app's venv, which `test/services/install` sets up.
    const { stdout: python } = await run('bash', [join(root, 'test/fixtures/django-app/setup')], { env, timeout: 600_000 });
    const machine = arch() === 'arm64' ? 'aarch64' : 'x86_64';
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    const platforms = manylinuxPlatforms(machine).flatMap((tag) => ['--platform', tag]);
    const requirementArgs = requirementFiles.flatMap((file) => ['--requirement', join(root, file)]);
    await run(
      python.trim(),
      ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--only-binary=:all:', '--implementation', 'cp', '--python-version', version.trim(), ...platforms, ...requirementArgs, '--dest', temp],
      { env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    );
    writeFileSync(join(temp, '.complete'), `${version.trim()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(temp, dir);
    // Wheels for an older job image or older requirements are never used again.
    for (const name of readdirSync(dirname(dir))) {
      if (name !== key && !name.includes('.tmp-')) rmSync(join(dirname(dir), name), { recursive: true, force: true });
    }
    log(`downloaded the Python wheels for the job image's Python ${version.trim()} into ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return dir;
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    const reason = ((error as { stderr?: string }).stderr || (error as Error).message).trim().split('\n').pop();
    log(`warning: no offline Python wheels for the job container (${reason}); jobs that pip install will fail`);
    return undefined;
  }
}

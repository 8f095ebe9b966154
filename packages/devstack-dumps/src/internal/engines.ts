import type { EngineInfo } from '@org/dump-versioning';

type Engines = { mysql?: EngineInfo; mongo?: EngineInfo };

const majorMinor = (version: string) => /^(\d+)\.(\d+)/.exec(version)?.slice(1, 3).join('.') ?? version;
const LABEL = { mysql: 'MySQL', mongo: 'MongoDB' } as const;

/**
 * Why the loaded schema may differ from the one the dump recorded: the server it was loaded into is another
 * flavour (MariaDB for a MySQL dump, FerretDB for MongoDB) or another major.minor release than the one that
 * wrote it. Patch releases do not count. One sentence per engine, empty when they match or are unknown.
 */
export function engineMismatches(dumped: Engines | undefined, loaded: Engines): string[] {
  const warnings: string[] = [];
  for (const engine of ['mysql', 'mongo'] as const) {
    const from = dumped?.[engine];
    const into = loaded[engine];
    if (!from || !into) continue;
    const sameFlavor = from.flavor === into.flavor;
    if (sameFlavor && majorMinor(from.version) === majorMinor(into.version)) continue;
    warnings.push(
      `the ${LABEL[engine]} dump was made on ${from.flavor} ${from.version} and loaded into ${into.flavor} ${into.version}: ` +
        `${sameFlavor ? 'defaults, collations and type spellings can differ between releases' : 'types, defaults and collations can load differently on another flavour'}; ` +
        `run ${from.flavor} ${majorMinor(from.version)} locally for the schema CI migrated`,
    );
  }
  return warnings;
}

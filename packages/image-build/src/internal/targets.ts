import { InputError, redactUserInfo } from './errors.js';

/** One image built from the Dockerfile: the flavour's name, its stage, and the repository it is pushed to. */
export interface Flavour {
  name: string;
  stage: string;
  image: string;
}

/** A flavour name becomes a bake target name, a tag fragment and a cache scope, so keep it tag-safe. */
const FLAVOUR_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Docker reference grammar, simplified: lowercase path components, optional host[:port]. No tag/digest. */
const IMAGE_NAME = /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

export const DEFAULT_TARGETS = 'devstack=dev,production=production';
export const DEFAULT_FLAVOUR_SUFFIXES: Readonly<Record<string, string>> = { devstack: '-dev', production: '' };

/**
 * Splits `a=b,c=d` or one pair per line into ordered pairs; `input` names the input in errors.
 * `lines` splits on newlines only, for values that may contain commas.
 */
export function parseKeyValueList(input: string, value: string, example: string, separator: 'comma-or-line' | 'lines' = 'comma-or-line'): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const raw of value.split(separator === 'lines' ? '\n' : /[,\n]/)) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InputError(input, `\`${redactUserInfo(item)}\` is not a key=value pair`, `Write it like \`${example}\`.`);
    pairs.push([item.slice(0, eq).trim(), item.slice(eq + 1).trim()]);
  }
  return pairs;
}

/**
 * Parses the `targets` input (`devstack=dev,production=production`): flavour -> Dockerfile stage,
 * in the order given. Stage names are checked against the Dockerfile separately (see `stageNames`).
 */
export function parseTargets(value: string): Array<{ name: string; stage: string }> {
  const pairs = parseKeyValueList('targets', value, DEFAULT_TARGETS);
  if (pairs.length === 0) {
    throw new InputError('targets', 'no flavour is given', `Name at least one, e.g. \`${DEFAULT_TARGETS}\`.`);
  }
  const seen = new Set<string>();
  return pairs.map(([name, stage]) => {
    if (!FLAVOUR_NAME.test(name)) {
      throw new InputError(
        'targets',
        `flavour \`${name}\` is not a valid name`,
        'Use lowercase letters, digits, `-` and `_`, starting with a letter or digit.',
      );
    }
    if (stage === '') throw new InputError('targets', `flavour \`${name}\` has no stage`, 'Write `flavour=stage`.');
    if (seen.has(name)) throw new InputError('targets', `flavour \`${name}\` is listed twice`, 'List each flavour once.');
    seen.add(name);
    return { name, stage };
  });
}

/**
 * Parses `flavour-suffixes` (`devstack=-dev,production=`): flavour -> suffix appended to `image`.
 * A name that is not one of `flavours` (the names in `targets`) is refused: a typo would otherwise
 * leave that flavour on its default suffix without a word.
 */
export function parseFlavourSuffixes(value: string, flavours: readonly string[]): Record<string, string> {
  const suffixes: Record<string, string> = {};
  for (const [flavour, suffix] of parseKeyValueList('flavour-suffixes', value, 'devstack=-dev,production=')) {
    if (!flavours.includes(flavour)) {
      throw new InputError('flavour-suffixes', `\`${flavour}\` is not a flavour of \`targets\``, `Name one of the flavours built: ${flavours.join(', ')}.`);
    }
    if (suffix !== '' && !/^[._-]?[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(suffix)) {
      throw new InputError('flavour-suffixes', `suffix \`${suffix}\` of \`${flavour}\` is not valid in an image name`, 'Use lowercase letters, digits and `-`, e.g. `-dev`.');
    }
    suffixes[flavour] = suffix;
  }
  return suffixes;
}

/** Checks the `image` input: `registry/name` in lowercase, no tag or digest. */
export function parseImageName(value: string): string {
  const image = value.trim();
  if (!IMAGE_NAME.test(image)) {
    throw new InputError(
      'image',
      `\`${value}\` is not an image name`,
      'Write `registry/name` in lowercase without a tag or digest (tags come from git and `tags`), e.g. `ghcr.io/org/app`.',
    );
  }
  return image;
}

/**
 * The repository of each flavour: `image` plus the flavour's suffix. `suffixes` (input
 * `flavour-suffixes`, `devstack=-dev,production=`) overrides the defaults: `devstack` -> `-dev`,
 * `production` -> none, any other flavour -> `-<flavour>`. Both may be given raw or parsed; parsed
 * suffixes come from `parseFlavourSuffixes`, which has checked their flavour names.
 */
export function resolveFlavours(options: {
  targets: string | Array<{ name: string; stage: string }>;
  image: string;
  suffixes?: string | Record<string, string>;
}): Flavour[] {
  const image = parseImageName(options.image);
  const targets = typeof options.targets === 'string' ? parseTargets(options.targets) : options.targets;
  const names = targets.map((t) => t.name);
  const given = typeof options.suffixes === 'object' ? options.suffixes : parseFlavourSuffixes(options.suffixes ?? '', names);
  const suffixes = new Map(Object.entries({ ...DEFAULT_FLAVOUR_SUFFIXES, ...given }));
  const flavours = targets.map(({ name, stage }) => ({
    name,
    stage,
    image: image + (suffixes.get(name) ?? `-${name}`),
  }));
  const byImage = new Map<string, string>();
  for (const flavour of flavours) {
    const other = byImage.get(flavour.image);
    if (other) {
      throw new InputError('flavour-suffixes', `flavours \`${other}\` and \`${flavour.name}\` would both push to ${flavour.image}`, 'Give each flavour its own suffix.');
    }
    byImage.set(flavour.image, flavour.name);
  }
  return flavours;
}

import { describe, expect, test } from 'vitest';
import { InputError, parseFlavourSuffixes, parseTargets, resolveFlavours } from '../src/index.js';

describe('parseTargets', () => {
  test.each([
    ['devstack=dev,production=production', [{ name: 'devstack', stage: 'dev' }, { name: 'production', stage: 'production' }]],
    [' devstack = dev \n production=prod ', [{ name: 'devstack', stage: 'dev' }, { name: 'production', stage: 'prod' }]],
    ['worker=worker,', [{ name: 'worker', stage: 'worker' }]],
  ])('%j', (value, expected) => {
    expect(parseTargets(value)).toEqual(expected);
  });

  test.each([
    ['', /Input `targets`: no flavour is given/],
    ['devstack', /Input `targets`: `devstack` is not a key=value pair/],
    ['Dev=dev', /Input `targets`: flavour `Dev` is not a valid name/],
    ['devstack=', /flavour `devstack` has no stage/],
    ['a=x,a=y', /flavour `a` is listed twice/],
  ])('rejects %j', (value, message) => {
    const error = (() => {
      try {
        parseTargets(value);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('targets');
    expect((error as Error).message).toMatch(message);
    expect((error as InputError).fatal).toBe(true);
  });
});

describe('resolveFlavours', () => {
  test.each([
    [{ targets: 'devstack=dev,production=production', image: 'ghcr.io/org/app' }, ['ghcr.io/org/app-dev', 'ghcr.io/org/app']],
    [{ targets: 'devstack=dev,worker=w', image: '127.0.0.1:5000/app' }, ['127.0.0.1:5000/app-dev', '127.0.0.1:5000/app-worker']],
    [{ targets: 'devstack=dev,production=production', image: 'app', suffixes: 'devstack=-devstack,production=-prod' }, ['app-devstack', 'app-prod']],
    // Not listed: devstack -> -dev, production -> none, others -> -<flavour>.
    [{ targets: 'devstack=dev,production=production,worker=w', image: 'app', suffixes: 'worker=-jobs' }, ['app-dev', 'app', 'app-jobs']],
    [{ targets: 'devstack=dev,production=production,worker=w', image: 'app', suffixes: '' }, ['app-dev', 'app', 'app-worker']],
  ])('%j', (options, images) => {
    expect(resolveFlavours(options).map((f) => f.image)).toEqual(images);
  });

  test.each([
    [{ targets: 'devstack=dev', image: 'ghcr.io/org/App' }, 'image', /not an image name/],
    [{ targets: 'devstack=dev', image: 'ghcr.io/org/app:1.0' }, 'image', /without a tag/],
    [{ targets: 'a=a,b=b', image: 'app', suffixes: 'a=,b=' }, 'flavour-suffixes', /would both push to app/],
    [{ targets: 'a=a', image: 'app', suffixes: 'a=-Dev!' }, 'flavour-suffixes', /not valid in an image name/],
    [{ targets: 'devstack=dev,production=production', image: 'app', suffixes: 'devstak=-dev' }, 'flavour-suffixes', /`devstak` is not a flavour of `targets`\. Name one of the flavours built: devstack, production\./],
    [{ targets: 'production=production', image: 'app', suffixes: 'devstack=-dev' }, 'flavour-suffixes', /`devstack` is not a flavour of `targets`\. Name one of the flavours built: production\./],
  ])('rejects %j', (options, input, message) => {
    expect(() => resolveFlavours(options)).toThrow(message);
    try {
      resolveFlavours(options);
    } catch (e) {
      expect((e as InputError).input).toBe(input);
    }
  });
});

describe('parseFlavourSuffixes', () => {
  test.each([
    ['devstack=-devstack,production=', ['devstack', 'production'], { devstack: '-devstack', production: '' }],
    ['', ['devstack'], {}],
  ])('%j for %j', (value, names, expected) => {
    expect(parseFlavourSuffixes(value, names)).toEqual(expected);
  });

  // The one check of suffix names against `targets`: resolveFlavours parses raw suffixes through it.
  test.each([
    ['devstak=-dev', ['devstack', 'production'], /^Input `flavour-suffixes`: `devstak` is not a flavour of `targets`\. Name one of the flavours built: devstack, production\.$/],
    ['devstack=-dev', ['production'], /^Input `flavour-suffixes`: `devstack` is not a flavour of `targets`\. Name one of the flavours built: production\.$/],
  ])('refuses %j for %j', (value, names, message) => {
    expect(() => parseFlavourSuffixes(value, names)).toThrow(message);
  });
});

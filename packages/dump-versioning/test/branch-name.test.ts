import { describe, expect, test } from 'vitest';
import { InvalidInputError, checkBranchName } from '../src/index.js';

describe('checkBranchName', () => {
  test.each(['main', 'master', 'feature/new-login', 'release-1.2', 'user/x/y_z', 'a@b', 'v1.0-rc', 'deps/bump+1'])('accepts %s', (name) => {
    expect(checkBranchName(name)).toBe(name);
  });

  test.each([
    ['', /is empty/],
    ['refs/heads/main', /give the short name, e.g\. main/],
    ['bad branch..name', /space/],
    ['bad..name', /"\.\."/],
    ['tab\tname', /control character/],
    ['del\u007fname', /control character/],
    ['a~1', /"~"/],
    ['a^', /"\^"/],
    ['a:b', /":"/],
    ['a?', /"\?"/],
    ['a*', /"\*"/],
    ['a[b', /"\["/],
    ['a\\b', /"\\\\"/],
    ['-main', /starts with "-"/],
    ['/main', /starts with "\/"/],
    ['main/', /ends with "\/"/],
    ['main.', /ends with "\."/],
    ['main.lock', /ends with "\.lock"/],
    ['x.lock/y', /ends with "\.lock"/],
    ['feature/.hidden', /starts with "\."/],
    ['a@{1}', /"@\{"/],
    ['@', /"@"/],
    ['HEAD', /"HEAD", which names the checked-out commit/],
    ['a//b', /"\/\/"/],
  ])('rejects %j', (name, reason) => {
    let caught: unknown;
    try {
      checkBranchName(name);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidInputError);
    expect(caught).toMatchObject({ code: 'bad-branch' });
    expect((caught as Error).message).toMatch(reason);
    expect((caught as Error).message).toContain(JSON.stringify(name));
  });
});

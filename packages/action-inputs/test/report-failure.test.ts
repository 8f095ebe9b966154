import * as core from '@actions/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ActionError, InputError, reportFailure } from '../src/index.js';

vi.mock('@actions/core', () => ({ setFailed: vi.fn(), warning: vi.fn(), debug: vi.fn() }));

afterEach(() => vi.clearAllMocks());

describe('reportFailure', () => {
  it('fails the step for a fatal action error (an input error included), with its message only', () => {
    reportFailure(new InputError('keep', 'expected a whole number of at least 1, got "0"'));
    expect(core.setFailed).toHaveBeenCalledWith('Input `keep`: expected a whole number of at least 1, got "0"');
    expect(core.warning).not.toHaveBeenCalled();
    expect(core.debug).not.toHaveBeenCalled();
  });

  it('only warns for a non-fatal action error: the step goes on', () => {
    reportFailure(new ActionError('cache export failed', false));
    expect(core.warning).toHaveBeenCalledWith('cache export failed');
    expect(core.setFailed).not.toHaveBeenCalled();
  });

  it('fails the step for any other error, its stack only in the debug log', () => {
    const error = new TypeError('boom');
    reportFailure(error);
    expect(core.setFailed).toHaveBeenCalledWith('boom');
    expect(core.debug).toHaveBeenCalledWith(error.stack);
    reportFailure('plain string');
    expect(core.setFailed).toHaveBeenLastCalledWith('plain string');
  });
});

// One cancellation rule (src-main/util/abort.ts): an AbortError by name, never a message that mentions cancel.
import { describe, expect, it } from 'vitest';
import { isAbortError } from '../../src-main/util/abort';

describe('isAbortError', () => {
  it('knows aborts by name and nothing else', () => {
    const controller = new AbortController();
    controller.abort();
    expect(isAbortError(controller.signal.reason)).toBe(true);
    expect(isAbortError(new DOMException('prediction cancelled', 'AbortError'))).toBe(true);
    const named = new Error('stopped');
    named.name = 'AbortError';
    expect(isAbortError(named)).toBe(true);
    // A real failure whose message mentions cancelling or aborting is still a failure.
    expect(isAbortError(new Error('could not cancel the transfer: disk full'))).toBe(false);
    expect(isAbortError(new Error('aborted: out of memory'))).toBe(false);
    expect(isAbortError('AbortError')).toBe(false);
    expect(isAbortError(null)).toBe(false);
  });
});

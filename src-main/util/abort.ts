// The one rule for "this failure is a cancellation": an error named AbortError (what AbortSignal's
// default reason, throwIfAborted in predict/progress.ts and the network's cancelled patches throw).
// Callers that abort with their own reason also check their signal's `aborted`; a message that merely
// mentions "cancel" is not a cancellation.

export function isAbortError(err: unknown): boolean {
  // DOMException (AbortSignal's default reason) is an Error in Node.
  return err instanceof Error && err.name === 'AbortError';
}

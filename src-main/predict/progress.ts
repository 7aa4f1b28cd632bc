// Cancellation and progress plumbing shared by the pipeline stages.
import type { ProgressCallback } from './types';

/** Throws the signal's reason (an AbortError by default) when it has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof Error) throw reason;
    const err = new Error('pre-segmentation was cancelled');
    err.name = 'AbortError';
    throw err;
  }
}

const nextTick: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Lets long synchronous loops give the event loop a turn every `everyMs`, so an abort() (or a UI
 * message) arriving meanwhile is seen promptly; cheap to call often.
 */
export class Yielder {
  private last = performance.now();
  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly everyMs = 25,
  ) {}

  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.last >= this.everyMs) {
      await nextTick();
      this.last = performance.now();
    }
    throwIfAborted(this.signal);
  }
}

/** Maps stage-local fractions onto [start, end] of the overall bar and never lets it go back. */
export class ProgressReporter {
  private lastFraction = 0;
  constructor(private readonly cb: ProgressCallback | undefined) {}

  stage(start: number, end: number): (fraction: number, message: string) => void {
    return (fraction, message) => this.report(start + (end - start) * Math.min(1, Math.max(0, fraction)), message);
  }

  report(fraction: number, message: string): void {
    if (!this.cb) return;
    const f = Math.max(this.lastFraction, Math.min(1, fraction));
    this.lastFraction = f;
    this.cb(f, message);
  }
}

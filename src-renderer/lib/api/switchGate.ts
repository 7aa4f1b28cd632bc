// The API as the page uses it, with one extra: a project switch runs alone. Calls already in flight finish
// first, calls made meanwhile wait, and once the app serves another project none of the old page's calls
// (a case's stats, a label version) go out to land on the wrong project. No DOM types: Node tests use it.
import type {
  ApiBinaryCalls,
  ApiBinaryMethod,
  ApiCalls,
  ApiEvent,
  ApiMethod,
  ApiUploadCalls,
  ApiUploadMethod,
  BinaryCallOptions,
  DeformuxApi,
} from '../../../src-main/api/contract';

/** How long a switch waits for calls in flight before it goes ahead anyway (a slow volume download, say). */
export const DRAIN_TIMEOUT_MS = 10_000;

export class SwitchGate implements DeformuxApi {
  readonly #inner: DeformuxApi;
  #inFlight = 0;
  #drained: (() => void)[] = [];
  /** Set while a switch runs (and after it succeeds: the page is about to start over on the new project). */
  #held: Promise<void> | null = null;
  #release: (() => void) | null = null;

  constructor(inner: DeformuxApi) {
    this.#inner = inner;
  }

  /** Calls waiting for a switch to end or in flight now (diagnostics and tests). */
  get pending(): number {
    return this.#inFlight;
  }

  get holding(): boolean {
    return this.#held !== null;
  }

  async #run<T>(f: () => Promise<T>): Promise<T> {
    while (this.#held) await this.#held;
    this.#inFlight++;
    try {
      return await f();
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#drained.splice(0)) wake();
    }
  }

  call<M extends ApiMethod>(method: M, req: ApiCalls[M]['req']): Promise<ApiCalls[M]['res']> {
    return this.#run(() => this.#inner.call(method, req));
  }

  binary<M extends ApiBinaryMethod>(
    method: M,
    req: ApiBinaryCalls[M]['req'],
    options?: BinaryCallOptions,
  ): Promise<ArrayBuffer> {
    return this.#run(() => this.#inner.binary(method, req, options));
  }

  upload<M extends ApiUploadMethod>(
    method: M,
    req: ApiUploadCalls[M]['req'],
    data: ArrayBuffer,
  ): Promise<ApiUploadCalls[M]['res']> {
    return this.#run(() => this.#inner.upload(method, req, data));
  }

  onEvent(listener: (event: ApiEvent) => void): () => void {
    return this.#inner.onEvent(listener);
  }

  /**
   * Runs `change` (the call that switches the project) alone: new calls wait, calls in flight finish first
   * (up to `drainTimeoutMs`). When `change` fails the waiting calls go ahead on the project still served;
   * when it succeeds they stay held, since the page starts over on the new project.
   */
  async exclusive<T>(change: (api: DeformuxApi) => Promise<T>, drainTimeoutMs = DRAIN_TIMEOUT_MS): Promise<T> {
    while (this.#held) await this.#held;
    this.#held = new Promise<void>((resolve) => (this.#release = resolve));
    try {
      if (this.#inFlight > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => this.#drained.push(resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs))),
        ]);
        clearTimeout(timer);
      }
      return await change(this.#inner);
    } catch (e) {
      const release = this.#release;
      this.#held = null;
      this.#release = null;
      release?.();
      throw e;
    }
  }
}

// The web shell transport of the typed API: POST /api/<method> on 127.0.0.1 with the per-run token,
// JSON in and out, voxels as raw bytes, events over SSE. No DOM types, so Node tests can use it.
import type {
  ApiBinaryCalls,
  ApiBinaryMethod,
  ApiCalls,
  ApiErrorBody,
  ApiEvent,
  ApiMethod,
  ApiUploadCalls,
  ApiUploadMethod,
  BinaryCallOptions,
  DeformuxApi,
} from '../../../src-main/api/contract';
import {
  WEB_API_PREFIX,
  WEB_EVENTS_PATH,
  WEB_REQUEST_HEADER,
  WEB_TOKEN_HEADER,
  WEB_TOKEN_QUERY,
  WEB_UPLOAD_PREFIX,
} from '../../../src-main/api/contract';

/** The part of the browser's EventSource used here. */
type EventSourceLike = new (url: string) => { onmessage: ((msg: { data: string }) => void) | null; close(): void };

async function errorMessage(res: Response, method: string): Promise<string> {
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as Partial<ApiErrorBody>;
    if (typeof body.error === 'string' && body.error) detail = body.error;
  } catch {
    // Not JSON: keep the status line.
  }
  return `${method} failed: ${detail}`;
}

/** HTTP transport of the web shell: token in the header on every call and in the query (EventSource cannot set headers). */
export class HttpApi implements DeformuxApi {
  readonly #base: string;
  readonly #token: string;
  readonly #listeners = new Set<(event: ApiEvent) => void>();
  #source: InstanceType<EventSourceLike> | null = null;

  constructor(baseUrl: string, token: string) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#token = token;
  }

  #url(path: string): string {
    return `${this.#base}${path}?${WEB_TOKEN_QUERY}=${encodeURIComponent(this.#token)}`;
  }

  async #post(method: string, req: unknown, signal?: AbortSignal): Promise<Response> {
    const res = await fetch(this.#url(`${WEB_API_PREFIX}${method}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [WEB_TOKEN_HEADER]: this.#token },
      body: JSON.stringify(req ?? {}),
      signal,
    });
    if (!res.ok) throw new Error(await errorMessage(res, method));
    return res;
  }

  async call<M extends ApiMethod>(method: M, req: ApiCalls[M]['req']): Promise<ApiCalls[M]['res']> {
    const res = await this.#post(method, req);
    return (await res.json()) as ApiCalls[M]['res'];
  }

  async binary<M extends ApiBinaryMethod>(
    method: M,
    req: ApiBinaryCalls[M]['req'],
    options: BinaryCallOptions = {},
  ): Promise<ArrayBuffer> {
    const res = await this.#post(method, req, options.signal);
    const total = Number(res.headers.get('content-length'));
    if (!options.onProgress || !res.body || !(total > 0)) return res.arrayBuffer();
    // Stream into one preallocated buffer so big volumes report progress without a second copy.
    const out = new Uint8Array(total);
    let received = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.length > total) throw new Error(`${method} failed: more bytes than the announced ${total}`);
      out.set(value, received);
      received += value.length;
      options.onProgress(received / total);
    }
    if (received !== total) throw new Error(`${method} failed: received ${received} of ${total} bytes`);
    return out.buffer;
  }

  /** POSTs the raw bytes; the JSON request rides in a header so the body stays binary. */
  async upload<M extends ApiUploadMethod>(
    method: M,
    req: ApiUploadCalls[M]['req'],
    data: ArrayBuffer,
  ): Promise<ApiUploadCalls[M]['res']> {
    const res = await fetch(this.#url(`${WEB_UPLOAD_PREFIX}${method}`), {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        [WEB_TOKEN_HEADER]: this.#token,
        [WEB_REQUEST_HEADER]: encodeURIComponent(JSON.stringify(req ?? {})),
      },
      body: data,
    });
    if (!res.ok) throw new Error(await errorMessage(res, method));
    return (await res.json()) as ApiUploadCalls[M]['res'];
  }

  /**
   * One event stream for every listener of the page. A browser keeps at most 6 HTTP/1.1 connections per host and an
   * EventSource holds one for good: with a stream per panel, the seventh subscriber left every API call queued
   * behind them. The stream opens with the first listener and closes with the last.
   */
  onEvent(listener: (event: ApiEvent) => void): () => void {
    const EventSourceCtor = (globalThis as unknown as { EventSource?: EventSourceLike }).EventSource;
    if (!EventSourceCtor) return () => {};
    this.#listeners.add(listener);
    if (!this.#source) {
      const source = new EventSourceCtor(this.#url(WEB_EVENTS_PATH));
      source.onmessage = (msg) => {
        let event: ApiEvent;
        try {
          event = JSON.parse(msg.data) as ApiEvent;
        } catch {
          return; // A malformed event is dropped rather than breaking the UI.
        }
        if (!event || typeof event.name !== 'string') return;
        for (const l of [...this.#listeners]) {
          try {
            l(event);
          } catch (err) {
            // One failing listener must not starve the others.
            console.error(err);
          }
        }
      };
      this.#source = source;
    }
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#source?.close();
        this.#source = null;
      }
    };
  }
}

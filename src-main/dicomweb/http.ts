// HTTP(S) for DICOMweb: auth headers, a user CA file, idle timeouts, retries with back-off and
// AbortSignal cancel. Credentials go into headers only; every message names the URL without them.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

export type DicomwebAuth = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface DicomwebConnection {
  /** The service root, e.g. http://127.0.0.1:8042/dicom-web (no credentials in it). */
  baseUrl: string;
  auth?: DicomwebAuth;
  /** PEM file of extra certificate authorities to trust (a hospital's own CA). */
  caFile?: string;
  /** No byte for this long (connecting, waiting or streaming) fails the request. Default 30 s. */
  timeoutMs?: number;
  /** Retries of a failed idempotent request (connection errors, 5xx, 429). Default 3. */
  retries?: number;
  /** First back-off delay; doubles each retry. Default 250 ms. */
  retryBaseMs?: number;
}

/** A DICOMweb failure, phrased for the person who meets it; `status` is the HTTP status when there was one. */
export class DicomwebError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null = null) {
    super(message);
    this.name = 'DicomwebError';
    this.status = status;
  }
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  url: string;
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

/**
 * Splits a URL into a credential-free base URL and the basic-auth user in it, if any; a URL that
 * carries credentials must never reach a log line as typed.
 */
export function parseServiceUrl(raw: string): { baseUrl: string; auth?: DicomwebAuth } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DicomwebError(
      `'${raw.replace(/\/\/[^@/]*@/, '//***@')}' is not a URL (expected http(s)://host[:port]/path).`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DicomwebError(`${url.protocol}// is not supported for DICOMweb (http or https).`);
  const auth: DicomwebAuth | undefined = url.username
    ? { kind: 'basic', username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    : undefined;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return { baseUrl: url.toString().replace(/\/+$/, ''), ...(auth ? { auth } : {}) };
}

function authHeader(auth: DicomwebAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if (auth.kind === 'bearer') return { authorization: `Bearer ${auth.token}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

const caCache = new Map<string, Buffer>();
function caOf(file: string): Buffer {
  let ca = caCache.get(file);
  if (!ca) {
    try {
      ca = readFileSync(file);
    } catch (err) {
      throw new DicomwebError(`${file}: the CA file cannot be read (${(err as NodeJS.ErrnoException).code ?? err}).`);
    }
    caCache.set(file, ca);
  }
  return ca;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** TLS failures that mean "this certificate is not signed by anyone we trust". */
const UNTRUSTED_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

/** Node's network error codes worth another try (the server restarting, a dropped connection). */
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

function statusMessage(status: number, url: string): string {
  if (status === 401)
    return `${url}: the server refused the credentials (HTTP 401); set DEFORMUX_DICOMWEB_TOKEN or a credentials file.`;
  if (status === 403) return `${url}: access denied for these credentials (HTTP 403).`;
  if (status === 404) return `${url}: not found on the server (HTTP 404).`;
  return `${url}: the server answered HTTP ${status}.`;
}

/** One request, no retries. Resolves when the response headers arrive; the body streams. */
function requestOnce(conn: DicomwebConnection, url: URL, opts: RequestOptions): Promise<HttpResponse> {
  const timeoutMs = conn.timeoutMs ?? 30_000;
  const shown = url.toString();
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, {
      method: opts.method ?? 'GET',
      headers: {
        ...authHeader(conn.auth),
        ...(opts.body ? { 'content-length': String(opts.body.byteLength) } : {}),
        ...opts.headers,
      },
      // An extra CA adds to Node's bundled roots rather than replacing them.
      ...(url.protocol === 'https:' && conn.caFile ? { ca: [...rootCertificates, caOf(conn.caFile)] } : {}),
      signal: opts.signal,
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new DicomwebError(`${shown}: no answer for ${Math.round(timeoutMs / 1000)} s (timed out).`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (opts.signal?.aborted) reject(opts.signal.reason);
      else if (err instanceof DicomwebError) reject(err);
      else if (err.code && UNTRUSTED_CERT_CODES.has(err.code))
        reject(
          new DicomwebError(
            `${shown}: the server's certificate is not trusted (${err.code}); give the CA that signed it with --ca FILE.`,
          ),
        );
      else {
        const e = new DicomwebError(`${shown}: cannot reach the server (${err.code ?? err.message}).`);
        (e as DicomwebError & { code?: string }).code = err.code;
        reject(e);
      }
    });
    req.on('response', (res) => {
      // The idle timeout keeps watching the body: a server that stalls mid-transfer fails the read.
      res.socket?.setTimeout(timeoutMs, () => {
        res.destroy(
          new DicomwebError(`${shown}: the transfer stalled for ${Math.round(timeoutMs / 1000)} s (timed out).`),
        );
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: shown });
    });
    req.end(opts.body);
  });
}

/**
 * Sends a request and returns its streaming response when the status is 2xx. GETs (and any request
 * with `retry: true`) are retried after connection errors, 429 and 5xx, with doubling back-off.
 */
export async function request(
  conn: DicomwebConnection,
  path: string,
  opts: RequestOptions & { retry?: boolean; acceptStatus?: number[] } = {},
): Promise<HttpResponse> {
  const url = new URL(conn.baseUrl.replace(/\/+$/, '') + path);
  const retries = (opts.retry ?? (opts.method ?? 'GET') === 'GET') ? (conn.retries ?? 3) : 0;
  const base = conn.retryBaseMs ?? 250;
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    let failure: DicomwebError;
    try {
      const res = await requestOnce(conn, url, opts);
      if ((res.status >= 200 && res.status < 300) || opts.acceptStatus?.includes(res.status)) return res;
      const detail = await readText(res.body, 2000).catch(() => '');
      res.body.destroy();
      failure = new DicomwebError(
        statusMessage(res.status, res.url) +
          (detail.trim() && res.status >= 400 && res.status !== 401 ? ` ${firstLine(detail)}` : ''),
        res.status,
      );
      if (!(res.status === 429 || res.status >= 500)) throw failure;
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (!(err instanceof DicomwebError)) throw err;
      const code = (err as DicomwebError & { code?: string }).code;
      if (err.status === null && !(code && RETRYABLE_CODES.has(code))) throw err;
      if (err.status !== null && !(err.status === 429 || err.status >= 500)) throw err;
      failure = err;
    }
    if (attempt >= retries) {
      if (attempt > 0) failure.message += ` (gave up after ${attempt + 1} tries)`;
      throw failure;
    }
    await sleep(base * 2 ** attempt, opts.signal);
  }
}

const firstLine = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 200);

/** Reads a whole (small) body as text, at most `maxBytes`. */
export async function readText(body: AsyncIterable<Buffer>, maxBytes = 64 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > maxBytes) throw new DicomwebError(`the answer is larger than ${maxBytes} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

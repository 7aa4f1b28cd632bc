// The web shell: serves the built renderer and the API handlers over HTTP on 127.0.0.1 only.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  MAX_UPLOAD_BYTES,
  WEB_API_PREFIX,
  WEB_EVENTS_PATH,
  WEB_REQUEST_HEADER,
  WEB_TOKEN_HEADER,
  WEB_TOKEN_QUERY,
  WEB_UPLOAD_PREFIX,
} from '../api/contract';
import type { ApiEvent } from '../api/contract';
import { ApiRequestError, apiErrorOf } from '../api/errors';
import { isApiBinaryMethod, isApiMethod, isApiUploadMethod } from '../api/handlers';
import type { ApiHandlers } from '../api/handlers';
import { contentSecurityPolicy } from '../electron/csp';
import { checkRequest, newToken, tokenCookieName } from './auth';
import { contentTypeOf, readStaticFile, resolveInside } from './static';

const MAX_JSON_BODY_BYTES = 1024 * 1024;
const SSE_HEARTBEAT_MS = 15_000;

export interface WebServerOptions {
  handlers: ApiHandlers;
  /** Folder holding the built renderer (index.html + assets); a placeholder page when missing. */
  rendererDir: string;
  /** 0 = any free port. */
  port: number;
  /** Fixed token (tests); a fresh random one otherwise. */
  token?: string;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': bytes.length,
  });
  res.end(bytes);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

/** Grace given to a client to finish sending a refused body before its connection is closed. */
const REFUSED_BODY_DRAIN_MS = 2000;
/** Bytes of a refused body read and discarded at most, so the client sees the reply rather than a reset. */
const REFUSED_BODY_DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * Feeds each body chunk to `take` until the body ends. When `take` throws, reading stops and the error
 * is returned without destroying the request (as `for await` would): destroying it resets the
 * connection before the client can read our 413. The caller answers and drops the rest.
 */
function readBody(req: IncomingMessage, take: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolveBody, rejectBody) => {
    const onData = (chunk: Buffer): void => {
      try {
        take(chunk);
      } catch (err) {
        cleanup();
        req.pause();
        rejectBody(err as Error);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolveBody();
    };
    const onError = (err: Error): void => {
      cleanup();
      rejectBody(err);
    };
    // 'close' without 'end': the client went away mid-body.
    const onClose = (): void => {
      cleanup();
      if (!req.complete) rejectBody(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      else resolveBody();
    };
    function cleanup(): void {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const tooLarge = () => new ApiRequestError(413, `request body is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
  // Refused from the announced length alone, before a byte of the body is read.
  if (Number(req.headers['content-length'] ?? 0) > MAX_JSON_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  await readBody(req, (chunk) => {
    size += chunk.length;
    if (size > MAX_JSON_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  });
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiRequestError(400, 'request body is not valid JSON.');
  }
}

/** The JSON request of an upload, from its URI-encoded header. */
function uploadRequestOf(req: IncomingMessage, method: string): unknown {
  const raw = req.headers[WEB_REQUEST_HEADER];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (!text)
    throw new ApiRequestError(400, `${method}: the '${WEB_REQUEST_HEADER}' header with the JSON request is missing.`);
  try {
    return JSON.parse(decodeURIComponent(text)) as unknown;
  } catch {
    throw new ApiRequestError(400, `${method}: the '${WEB_REQUEST_HEADER}' header is not URI-encoded JSON.`);
  }
}

/**
 * Reads exactly `size` body bytes into one buffer; a declared or actual length that differs is
 * refused before (or as soon as) it shows, so a wrong client cannot make us buffer gigabytes.
 */
async function readExactBody(req: IncomingMessage, size: number, method: string): Promise<Uint8Array> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) !== size) {
    throw new ApiRequestError(
      Number(declared) > size ? 413 : 400,
      `${method}: the body must be exactly ${size} bytes (one per voxel), but ${declared} were announced.`,
    );
  }
  const out = new Uint8Array(size);
  let received = 0;
  await readBody(req, (bytes) => {
    if (received + bytes.length > size)
      throw new ApiRequestError(413, `${method}: the body is larger than the ${size} bytes the case needs.`);
    out.set(bytes, received);
    received += bytes.length;
  });
  if (received !== size)
    throw new ApiRequestError(400, `${method}: the body must be exactly ${size} bytes, but ${received} arrived.`);
  return out;
}

const PLACEHOLDER_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>DeformUX Annotator</title></head>
<body><h1>DeformUX Annotator</h1><p>The renderer is not built yet: run <code>npm run build</code>, then reload.
The API is live under <code>/api/</code>.</p></body></html>`;

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? newToken();
  const csp = contentSecurityPolicy();
  const sseClients = new Set<ServerResponse>();
  let port = 0;

  async function serveStatic(url: URL, res: ServerResponse, setCookie: boolean): Promise<void> {
    const file = await resolveInside(opts.rendererDir, url.pathname);
    if (!file) return sendError(res, 403, `'${url.pathname}' is outside the app.`);
    const headers: Record<string, string | number> = { ...COMMON_HEADERS };
    // The page was opened with ?token=: later asset, worker and EventSource requests carry the cookie.
    if (setCookie) headers['set-cookie'] = `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    let body: Buffer | null;
    let type = contentTypeOf(file);
    try {
      body = await readStaticFile(file);
      if (!body) return sendError(res, 403, `'${url.pathname}' is not a file of the app.`);
    } catch {
      if (url.pathname !== '/' && url.pathname !== '/index.html')
        return sendError(res, 404, `'${url.pathname}' not found.`);
      body = Buffer.from(PLACEHOLDER_HTML);
      type = 'text/html; charset=utf-8';
    }
    if (type.startsWith('text/html')) headers['content-security-policy'] = csp;
    res.writeHead(200, { ...headers, 'content-type': type, 'content-length': body.length });
    res.end(body);
  }

  function serveEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    sseClients.add(res);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), SSE_HEARTBEAT_MS);
    heartbeat.unref();
    req.on('close', () => {
      clearInterval(heartbeat);
      sseClients.delete(res);
    });
  }

  async function serveApi(method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendError(res, 405, `${method}: use POST with a JSON body.`);
    const body = await readJsonBody(req);
    if (isApiMethod(method)) return sendJson(res, 200, await opts.handlers.call(method, body));
    if (isApiBinaryMethod(method)) {
      const bytes = await opts.handlers.binary(method, body);
      res.writeHead(200, {
        ...COMMON_HEADERS,
        'content-type': 'application/octet-stream',
        'content-length': bytes.byteLength,
      });
      res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }
    throw new ApiRequestError(404, `unknown API call '${method}'.`);
  }

  async function serveUpload(method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendError(res, 405, `${method}: use POST with the bytes as body.`);
    if (!isApiUploadMethod(method)) throw new ApiRequestError(404, `unknown upload API call '${method}'.`);
    const request = uploadRequestOf(req, method);
    // Validates the request and finds the case before a byte of the body is read.
    const size = opts.handlers.uploadSize(method, request);
    if (size > MAX_UPLOAD_BYTES)
      throw new ApiRequestError(413, `${method}: ${size} bytes is above the ${MAX_UPLOAD_BYTES}-byte upload limit.`);
    const data = await readExactBody(req, size, method);
    return sendJson(res, 200, await opts.handlers.upload(method, request, data));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return sendError(res, 400, 'malformed request URL.');
    }
    const header = req.headers[WEB_TOKEN_HEADER];
    const verdict = checkRequest(
      {
        host: req.headers.host,
        origin: req.headers.origin,
        headerToken: Array.isArray(header) ? header[0] : header,
        queryToken: url.searchParams.get(WEB_TOKEN_QUERY),
        cookie: req.headers.cookie,
      },
      token,
      port,
    );
    if (!verdict.ok) {
      req.resume();
      return sendError(res, verdict.status, verdict.reason);
    }
    try {
      if (url.pathname === WEB_EVENTS_PATH) return serveEvents(req, res);
      if (url.pathname.startsWith(WEB_UPLOAD_PREFIX))
        return await serveUpload(url.pathname.slice(WEB_UPLOAD_PREFIX.length), req, res);
      if (url.pathname.startsWith(WEB_API_PREFIX))
        return await serveApi(url.pathname.slice(WEB_API_PREFIX.length), req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'only GET for app files.');
      return await serveStatic(url, res, verdict.via === 'query');
    } catch (err) {
      // The client went away mid-body (closed tab, killed upload): nobody to answer; one line, no stack.
      if (!req.complete && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
        console.warn(`web: ${req.method} ${url.pathname}: the client closed the connection before sending its body.`);
        return;
      }
      const { status, message } = apiErrorOf(err);
      if (status === 500) console.error(err);
      if (!req.complete) {
        if (status === 413)
          console.warn(`web: ${req.method} ${url.pathname}: refused an oversized body (413): ${message}`);
        refuseRestOfBody(req, res);
      }
      if (!res.headersSent) sendError(res, status, message);
      else res.destroy();
    }
  }

  /**
   * The reply goes out before the body has arrived: the connection closes after it (no keep-alive on a
   * half-read request), and meanwhile the rest of the body is read and dropped for a short while, so
   * the client reads the reply instead of a reset; a client that keeps sending is cut off.
   */
  function refuseRestOfBody(req: IncomingMessage, res: ServerResponse): void {
    res.shouldKeepAlive = false;
    if (!res.headersSent) res.setHeader('connection', 'close');
    const socket = req.socket;
    if (!socket) return;
    let dropped = 0;
    const cut = () => socket.destroy();
    const timer = setTimeout(cut, REFUSED_BODY_DRAIN_MS);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > REFUSED_BODY_DRAIN_BYTES) cut();
    });
    req.on('error', () => undefined);
    socket.once('close', () => clearTimeout(timer));
    req.resume();
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  const unsubscribe = opts.handlers.onEvent((event: ApiEvent) => {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const client of sseClients) client.write(frame);
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    // Loopback only: the web shell must never be reachable from the network.
    server.listen(opts.port, '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/?${WEB_TOKEN_QUERY}=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolveClose) => {
        unsubscribe();
        for (const client of sseClients) client.end();
        sseClients.clear();
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

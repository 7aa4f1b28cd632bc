// Per-run token and origin checks for the web shell (pure functions; unit-tested).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WEB_TOKEN_HEADER, WEB_TOKEN_QUERY } from '../api/contract';

/** 32 random bytes as base64url: only A-Z a-z 0-9 - _ (safe in URLs, headers and cookies). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookie name per port: cookies are shared by all ports of a host, tokens are not. */
export function tokenCookieName(port: number): string {
  return `deformux_token_${port}`;
}

export interface RequestFacts {
  host: string | undefined;
  origin: string | undefined;
  headerToken: string | undefined;
  queryToken: string | null;
  cookie: string | undefined;
}

export type AuthVerdict =
  { ok: true; via: 'header' | 'query' | 'cookie' } | { ok: false; status: 401 | 403; reason: string };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Host must be our loopback address (defeats DNS rebinding); Origin, when sent, must be our own
 * page; and the token must come in the header, the query or our cookie.
 */
export function checkRequest(facts: RequestFacts, token: string, port: number): AuthVerdict {
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!facts.host || !allowedHosts.includes(facts.host.toLowerCase())) {
    return { ok: false, status: 403, reason: `Host '${facts.host ?? ''}' is not this server.` };
  }
  if (facts.origin !== undefined && !allowedHosts.map((h) => `http://${h}`).includes(facts.origin.toLowerCase())) {
    return { ok: false, status: 403, reason: `Origin '${facts.origin}' may not use this server.` };
  }
  if (facts.headerToken !== undefined && sameSecret(facts.headerToken, token)) return { ok: true, via: 'header' };
  if (facts.queryToken !== null && sameSecret(facts.queryToken, token)) return { ok: true, via: 'query' };
  const fromCookie = cookieValue(facts.cookie, tokenCookieName(port));
  if (fromCookie !== undefined && sameSecret(fromCookie, token)) return { ok: true, via: 'cookie' };
  return {
    ok: false,
    status: 401,
    reason: `Missing or wrong token: open the URL printed at start, or send '${WEB_TOKEN_HEADER}' or '?${WEB_TOKEN_QUERY}='.`,
  };
}

// The renderer's one way to reach src-main: the Electron preload's verbs when present, otherwise
// HTTP to the web shell on 127.0.0.1 with the per-run token from the page URL.
import type { DeformuxApi } from '../../../src-main/api/contract';
import { WEB_TOKEN_QUERY } from '../../../src-main/api/contract';
import { HttpApi } from './httpApi';

export { HttpApi };

declare global {
  interface Window {
    /** Exposed by the Electron preload through contextBridge; absent in the web shell. */
    deformux?: DeformuxApi;
  }
}

/** Picks the transport: the preload's API in Electron, else the web shell named by the URL. */
export function createApi(loc: Location = window.location): DeformuxApi {
  if (window.deformux) return window.deformux;
  const token = new URLSearchParams(loc.search).get(WEB_TOKEN_QUERY);
  if (!token) {
    throw new Error('No API: open the address the web shell printed (it carries ?token=…).');
  }
  return new HttpApi(loc.origin, token);
}

// The verbs the preload exposes as window.deformux: built over a minimal IPC surface (unit-tested).
import {
  API_BINARY_METHODS,
  API_METHODS,
  API_UPLOAD_METHODS,
  IPC_BINARY_CHANNEL,
  IPC_CALL_CHANNEL,
  IPC_EVENT_CHANNEL,
  IPC_UPLOAD_CHANNEL,
} from '../api/contract';
import type { ApiEvent, DeformuxApi } from '../api/contract';
import { unwrapIpcResult } from './ipc-envelope';
import type { IpcResult } from './ipc-envelope';

/** The few ipcRenderer functions used; the renderer never sees these, only the verbs. */
export interface PreloadIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): void;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): void;
}

export function createPreloadApi(ipc: PreloadIpc): DeformuxApi {
  return {
    async call(method, req) {
      // Checked here too, so a compromised page cannot even reach other channels through us.
      if (!(API_METHODS as readonly string[]).includes(method))
        throw new Error(`unknown API call '${String(method)}'.`);
      return unwrapIpcResult((await ipc.invoke(IPC_CALL_CHANNEL, method, req)) as IpcResult<never>);
    },
    async binary(method, req) {
      if (!(API_BINARY_METHODS as readonly string[]).includes(method))
        throw new Error(`unknown binary API call '${String(method)}'.`);
      const bytes = unwrapIpcResult((await ipc.invoke(IPC_BINARY_CHANNEL, method, req)) as IpcResult<Uint8Array>);
      // An exact ArrayBuffer of the payload (a Uint8Array view may sit inside a larger buffer).
      return bytes.buffer.byteLength === bytes.byteLength
        ? (bytes.buffer as ArrayBuffer)
        : (bytes.slice().buffer as ArrayBuffer);
    },
    async upload(method, req, data) {
      if (!(API_UPLOAD_METHODS as readonly string[]).includes(method))
        throw new Error(`unknown upload API call '${String(method)}'.`);
      // By tag, not instanceof: the buffer may come from the page's realm across the context bridge.
      if (Object.prototype.toString.call(data) !== '[object ArrayBuffer]')
        throw new Error(`${method}: the data must be an ArrayBuffer.`);
      // Structured clone carries the ArrayBuffer as bytes; main receives it as an ArrayBuffer/Uint8Array.
      return unwrapIpcResult((await ipc.invoke(IPC_UPLOAD_CHANNEL, method, req, data)) as IpcResult<never>);
    },
    onEvent(listener) {
      // The IPC event object (with its sender) is not passed on: only the typed payload.
      const wrapped = (_event: unknown, payload: unknown) => listener(payload as ApiEvent);
      ipc.on(IPC_EVENT_CHANNEL, wrapped);
      return () => ipc.removeListener(IPC_EVENT_CHANNEL, wrapped);
    },
  };
}

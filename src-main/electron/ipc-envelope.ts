// How results cross IPC: an envelope, so the renderer gets our sentence, not Electron's wrapping.
export type IpcResult<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

export function unwrapIpcResult<T>(result: IpcResult<T>): T {
  if (result.ok) return result.value;
  throw new Error(result.error);
}

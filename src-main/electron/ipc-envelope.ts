// How results cross IPC: an envelope, so the renderer gets our sentence, not Electron's wrapping.
export type IpcResult<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

export function unwrapIpcResult<T>(result: IpcResult<T>): T {
  if (result.ok) return result.value;
  throw new Error(result.error);
}

/** Bytes that arrived over IPC (an ArrayBuffer, or a typed array/Buffer) as a Uint8Array view; null otherwise. */
export function ipcBytes(value: unknown): Uint8Array | null {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

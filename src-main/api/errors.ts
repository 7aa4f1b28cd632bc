// Errors the API reports to the renderer, with the HTTP status the web shell answers with.
import { CancelledError, ConflictError, RequestError } from '../domain/errors';
import { InputError } from '../imaging/volume';
import { NotFoundError, StoreRequestError } from '../store/errors';

export class ApiRequestError extends Error {
  readonly status: number;
  constructor(status: 400 | 404 | 409 | 413, message: string) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
  }
}

/** Maps any thrown value to a status and a sentence safe to show the user. */
export function apiErrorOf(err: unknown): { status: number; message: string } {
  if (err instanceof ApiRequestError) return { status: err.status, message: err.message };
  if (err instanceof NotFoundError) return { status: 404, message: err.message };
  if (err instanceof StoreRequestError || err instanceof RequestError || err instanceof InputError)
    return { status: 400, message: err.message };
  // A job cancelled while its request waited (an nnU-Net export): it clashed with the cancel.
  if (err instanceof ConflictError || err instanceof CancelledError) return { status: 409, message: err.message };
  // A PACS that refused, failed or sent something broken: the server's problem, said in its words.
  if (err instanceof Error && err.name === 'DicomwebError') return { status: 502, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, message: `Internal error: ${message}` };
}

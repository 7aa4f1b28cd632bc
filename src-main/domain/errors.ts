// Errors for requests that cannot be carried out, raised below the API; api/errors.ts maps each to its HTTP status.

/** A request that cannot be carried out as asked: a bad argument, or a job or project in the wrong state. */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

/** A request that clashes with work already under way (the same case being pre-labelled). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Work stopped because someone cancelled it (jobs.cancel, or the app closing); what it left is whole. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

// Errors the store raises for things the caller asked for that are not there or not allowed.

/** A case, label version or project that does not exist. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A request that cannot be carried out as asked (wrong grid, bad name, wrong state). */
export class StoreRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreRequestError';
  }
}

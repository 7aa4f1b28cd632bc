// DICOM UIDs for the objects we create: "2.25." + a random UUID as a decimal integer (PS3.5 B.2).
import { randomUUID } from 'node:crypto';

/** Our implementation class UID (a fixed UUID-derived UID, so readers can tell our files apart). */
export const IMPLEMENTATION_CLASS_UID = '2.25.246073413958297836517325961245410826711';
export const IMPLEMENTATION_VERSION_NAME = 'DEFORMUX_1';

export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** True for a syntactically valid UID: dot-separated numbers without leading zeros, at most 64 chars. */
export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}

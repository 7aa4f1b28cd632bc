// multipart/related (RFC 2387) for WADO-RS and STOW-RS: a streaming reader that hands over one part
// at a time (memory bounded by the largest part), and the writer for STOW request bodies.
import { randomBytes } from 'node:crypto';
import { DicomwebError } from './http';

export interface MultipartPart {
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

/** The boundary parameter of a multipart/related Content-Type; a clear error when absent. */
export function boundaryOf(contentType: string | undefined, what: string): string {
  const ct = contentType ?? '';
  if (!/^\s*multipart\/related\b/i.test(ct))
    throw new DicomwebError(`${what}: expected a multipart/related answer, got '${ct || 'no Content-Type'}'.`);
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new DicomwebError(`${what}: the multipart/related answer names no boundary.`);
  return boundary;
}

/** A part bigger than this is refused (no CT slice or SEG comes close). */
const MAX_PART_BYTES = 1 << 30;
const MAX_HEADER_BYTES = 16 << 10;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Yields the parts of a multipart body as they complete. Throws a DicomwebError naming `what` for a
 * body that is not well-formed or that ends before its closing boundary (a server that stopped).
 */
export async function* readMultipart(
  body: AsyncIterable<Buffer>,
  boundary: string,
  what: string,
): AsyncGenerator<MultipartPart> {
  // The first delimiter may come without the leading CRLF (no preamble); later ones always have it.
  const firstDelim = Buffer.from(`--${boundary}`);
  const delim = Buffer.from(`\r\n--${boundary}`);
  type State = 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done';
  let state: State = 'preamble';
  let pending: Buffer = Buffer.alloc(0);
  let headers: Record<string, string> = {};
  let parts: Buffer[] = [];
  let partBytes = 0;
  let count = 0;
  const bad = (why: string): DicomwebError => new DicomwebError(`${what}: malformed multipart body (${why}).`);

  for await (const chunk of body) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (state === 'preamble') {
        const at = pending.indexOf(firstDelim);
        if (at < 0) {
          if (pending.length > MAX_HEADER_BYTES) throw bad('no boundary delimiter at the start');
          break;
        }
        pending = pending.subarray(at + firstDelim.length);
        state = 'after-delimiter';
      } else if (state === 'after-delimiter') {
        if (pending.length < 2) break;
        if (pending[0] === 0x2d && pending[1] === 0x2d) {
          state = 'done';
          pending = Buffer.alloc(0);
          break;
        }
        // Transport padding (spaces/tabs) may follow a delimiter before its CRLF.
        const eol = pending.indexOf(CRLF);
        if (eol < 0) {
          if (pending.length > 256) throw bad('a boundary delimiter is not followed by a line end');
          break;
        }
        if (!/^[ \t]*$/.test(pending.subarray(0, eol).toString('latin1')))
          throw bad('unexpected bytes after a boundary delimiter');
        pending = pending.subarray(eol + 2);
        state = 'headers';
      } else if (state === 'headers') {
        // A part with no headers starts with the blank line directly.
        let end: number;
        let skip: number;
        if (pending.length >= 2 && pending[0] === 0x0d && pending[1] === 0x0a) {
          end = 0;
          skip = 2;
        } else {
          end = pending.indexOf(HEADER_END);
          skip = 4;
        }
        if (end < 0) {
          if (pending.length > MAX_HEADER_BYTES) throw bad(`part ${count + 1} has no end of its headers`);
          break;
        }
        headers = {};
        for (const line of pending.subarray(0, end).toString('latin1').split('\r\n')) {
          if (!line) continue;
          const colon = line.indexOf(':');
          if (colon <= 0) throw bad(`part ${count + 1} has a header line without a name: '${line.slice(0, 60)}'`);
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        pending = pending.subarray(end + skip);
        parts = [];
        partBytes = 0;
        state = 'body';
      } else if (state === 'body') {
        const at = pending.indexOf(delim);
        if (at < 0) {
          // Keep a tail that could be the start of a delimiter split across chunks.
          const keep = Math.min(pending.length, delim.length - 1);
          const ready = pending.subarray(0, pending.length - keep);
          if (ready.length) {
            parts.push(Buffer.from(ready));
            partBytes += ready.length;
            if (partBytes > MAX_PART_BYTES) throw bad(`part ${count + 1} is larger than ${MAX_PART_BYTES} bytes`);
          }
          pending = Buffer.from(pending.subarray(pending.length - keep));
          break;
        }
        parts.push(Buffer.from(pending.subarray(0, at)));
        pending = pending.subarray(at + delim.length);
        count++;
        state = 'after-delimiter';
        yield { headers, body: parts.length === 1 ? parts[0] : Buffer.concat(parts) };
        parts = [];
      } else break;
    }
    if (state === 'done') break;
  }
  if (state !== 'done') {
    throw new DicomwebError(
      count === 0 && state === 'preamble'
        ? `${what}: malformed multipart body (no boundary delimiter '--${boundary}' found).`
        : `${what}: the multipart body ended after ${count} complete part(s) without its closing boundary (the server stopped mid-transfer?).`,
    );
  }
}

/** A STOW-RS request body: each instance as one application/dicom part. */
export function writeMultipart(instances: readonly Uint8Array[]): { body: Buffer; contentType: string } {
  const boundary = `deformux-${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const inst of instances) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`));
    chunks.push(Buffer.from(inst.buffer, inst.byteOffset, inst.byteLength));
    chunks.push(CRLF);
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
  };
}

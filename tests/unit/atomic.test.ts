// writeFileAtomic with a list of pieces writes them in order (the gzip writer hands over its stream's pieces).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src-main/util/atomic';

const dir = mkdtempSync(join(tmpdir(), 'deformux-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes a list of pieces as one file, in order, and leaves no temp file', async () => {
    const pieces = [Buffer.from('head-'), new Uint8Array(300_000).fill(7), Buffer.alloc(0), Buffer.from('-tail')];
    const path = join(dir, 'pieces.bin');
    await writeFileAtomic(path, pieces);
    expect(readFileSync(path).equals(Buffer.concat(pieces))).toBe(true);
    await writeFileAtomic(path, 'replaced');
    expect(readFileSync(path, 'utf8')).toBe('replaced');
    expect(readdirSync(dir)).toEqual(['pieces.bin']);
  });
});

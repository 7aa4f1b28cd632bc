// safetensors / .npy / config parsing: round trips, files written by Python, and clear errors for bad input.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
} from '../../src-main/engine/io/safetensors';
import type { TensorMap } from '../../src-main/engine/io/safetensors';
import { parseNpy, readNpy, serializeNpy, writeNpy } from '../../src-main/engine/io/npy';
import { parseConfig, presetConfig } from '../../src-main/engine/model/config';
import { countParams, engineToTorch, paramSpecs, torchToEngine } from '../../src-main/engine/model/params';
import { InputError } from '../../src-main/imaging/volume';

const dir = mkdtempSync(join(tmpdir(), 'deformux-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const python = '/usr/bin/python3';
const hasNumpy =
  existsSync(python) &&
  (() => {
    try {
      execFileSync(python, ['-c', 'import numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

describe('safetensors', () => {
  it('round-trips f32 and f64 tensors with names and shapes', async () => {
    const t: TensorMap = new Map([
      ['b.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6]) }],
      ['a', { shape: [3], data: Float64Array.from([Math.PI, -1e-300, 7]) }],
      ['scalarish', { shape: [], data: Float32Array.from([9]) }],
    ]);
    const path = join(dir, 'rt.safetensors');
    await writeSafetensors(path, t);
    const back = await readSafetensors(path);
    expect([...back.keys()].sort()).toEqual(['a', 'b.weight', 'scalarish']);
    expect(back.get('b.weight')!.shape).toEqual([2, 3]);
    expect([...back.get('b.weight')!.data]).toEqual([1, -2, 3.5, 4, 5, 6]);
    expect(back.get('a')!.data).toBeInstanceOf(Float64Array);
    expect([...back.get('a')!.data]).toEqual([Math.PI, -1e-300, 7]);
  });

  it('reads F16 and BF16 written by numpy / bit patterns', () => {
    // f16 1.0 = 0x3c00, -2.5 = 0xc100, 2^-24 = 0x0001; bf16 1.0 = 0x3f80, -3.0 = 0xc040.
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
    });
    const hb = Buffer.from(header);
    const bytes = Buffer.alloc(8 + hb.length + 10);
    bytes.writeBigUInt64LE(BigInt(hb.length), 0);
    hb.copy(bytes, 8);
    const o = 8 + hb.length;
    [0x3c00, 0xc100, 0x0001, 0x3f80, 0xc040].forEach((v, i) => bytes.writeUInt16LE(v, o + 2 * i));
    const t = parseSafetensors(bytes, 'x.safetensors');
    expect([...t.get('h')!.data]).toEqual([1, -2.5, 2 ** -24]);
    expect([...t.get('b')!.data]).toEqual([1, -3]);
  });

  it('names the file and the tensor in errors', () => {
    const good = serializeSafetensors(new Map([['w', { shape: [4], data: new Float32Array(4) }]]));
    expect(() => parseSafetensors(good.subarray(0, good.length - 4), 'cut.safetensors')).toThrow(
      /cut\.safetensors: tensor 'w' has data offsets/,
    );
    expect(() => parseSafetensors(new Uint8Array(3), 'tiny.safetensors')).toThrow(InputError);
    const bad = Buffer.from(good);
    bad.write('I', bad.indexOf('F32')); // dtype 'F32' -> 'I32'
    expect(() => parseSafetensors(bad, 'dtype.safetensors')).toThrow(/tensor 'w' has dtype I32/);
  });

  it.skipIf(!hasNumpy)('matches the bytes Python writes (independent writer in model_goldens.py)', () => {
    const golden = readFileSync(join(__dirname, '..', 'goldens', 'model', 'tiny', 'weights.safetensors'));
    const t = parseSafetensors(golden, 'weights');
    const name = 'out.conv.conv.weight';
    const py = execFileSync(python, [
      '-c',
      `
import json,struct,sys,numpy as np
b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); e=h[sys.argv[2]]
a=np.frombuffer(b[8+n+e['data_offsets'][0]:8+n+e['data_offsets'][1]],dtype='<f4')
print(json.dumps([e['shape'], [float(x) for x in a[:5]]]))`,
      join(__dirname, '..', 'goldens', 'model', 'tiny', 'weights.safetensors'),
      name,
    ]).toString();
    const [shape, first] = JSON.parse(py) as [number[], number[]];
    expect(t.get(name)!.shape).toEqual(shape);
    expect([...t.get(name)!.data.subarray(0, 5)]).toEqual(first);
  });
});

describe('npy', () => {
  it('round-trips float32 with shape', async () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    const path = join(dir, 'a.npy');
    await writeNpy(path, { shape: [1, 2, 3, 4], data });
    const back = await readNpy(path);
    expect(back.shape).toEqual([1, 2, 3, 4]);
    expect([...back.data]).toEqual([...data]);
  });

  it.skipIf(!hasNumpy)('is read by numpy and reads what numpy writes', async () => {
    const path = join(dir, 'b.npy');
    await writeNpy(path, { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
    const seen = execFileSync(python, [
      '-c',
      'import numpy as np,sys; a=np.load(sys.argv[1]); print(a.dtype, a.shape, a[1,2])',
      path,
    ])
      .toString()
      .trim();
    expect(seen).toBe('float32 (2, 3) 6.0');
    const fromPy = join(dir, 'c.npy');
    execFileSync(python, [
      '-c',
      'import numpy as np,sys; np.save(sys.argv[1], np.arange(6, dtype=np.float64).reshape(3,2)*1.5)',
      fromPy,
    ]);
    const c = await readNpy(fromPy);
    expect(c.shape).toEqual([3, 2]);
    expect([...c.data]).toEqual([0, 1.5, 3, 4.5, 6, 7.5]);
  });

  it('rejects Fortran order and truncated data with the file name', () => {
    const bytes = serializeNpy({ shape: [4], data: new Float32Array(4) });
    expect(() => parseNpy(bytes.subarray(0, bytes.length - 1), 'short.npy')).toThrow(/short\.npy: holds 15 data bytes/);
    const f = Buffer.from(bytes);
    f.write('True ', f.indexOf('False'));
    expect(() => parseNpy(f, 'f.npy')).toThrow(/Fortran order/);
  });
});

describe('config and parameter layouts', () => {
  it('presets have the parameter counts of MODEL.md (paper ~53 M, lite ~6 M)', () => {
    const paper = countParams(presetConfig('paper'));
    const lite = countParams(presetConfig('lite'));
    expect(paper).toBeGreaterThan(50e6);
    expect(paper).toBeLessThan(56e6);
    expect(lite).toBeGreaterThan(5e6);
    expect(lite).toBeLessThan(7e6);
  });

  it('rejects bad configs naming the key', () => {
    const ok = presetConfig('lite');
    expect(() => parseConfig({ ...ok, kernel_size: 4 }, 'c.json')).toThrow(/c\.json: 'kernel_size' must be odd/);
    expect(() => parseConfig({ ...ok, deform_groups: 3 }, 'c.json')).toThrow(/not divisible by deform_groups 3/);
    const { depths: _d, ...missing } = ok;
    expect(() => parseConfig(missing, 'c.json')).toThrow(/missing the key 'depths'/);
    expect(() => presetConfig('huge')).toThrow(/not a known config preset/);
  });

  it('torch <-> engine conversion is a bijection and moves axes as documented', () => {
    const specs = paramSpecs(
      parseConfig(
        JSON.parse(readFileSync(join(__dirname, '..', 'goldens', 'model', 'tiny', 'config.json'), 'utf8')),
        'tiny',
      ),
    );
    for (const spec of specs) {
      const n = spec.torchShape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => i);
      expect([...engineToTorch(spec, torchToEngine(spec, data))]).toEqual([...data]);
    }
    // conv [out=2, in=3, 1, 1, 2] -> engine [1, 1, 2, 3, 2]: engine[0,0,kw,ci,co] = torch[co,ci,0,0,kw].
    const spec = { torchShape: [2, 3, 1, 1, 2], kind: 'conv' as const };
    const torch = Float32Array.from({ length: 12 }, (_, i) => i);
    const eng = torchToEngine(spec, torch);
    for (let co = 0; co < 2; co++)
      for (let ci = 0; ci < 3; ci++)
        for (let kw = 0; kw < 2; kw++) expect(eng[(kw * 3 + ci) * 2 + co]).toBe(torch[(co * 3 + ci) * 2 + kw]);
  });
});

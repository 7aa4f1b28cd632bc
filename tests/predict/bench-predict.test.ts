// `deformux bench predict` with a real model reports what moves its timings: the tfjs the engine loaded and the
// addon's huge-page heap reserve (not the timings themselves).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src-main/bench/predict';
import { TFJS_CORE_CPU } from '../../src-main/engine/tf';

afterEach(() => vi.restoreAllMocks());

describe('bench predict', () => {
  it('runs the kidney starter on a small phantom and names the engine it ran on', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
    expect(await run(['--phantom', 'kidney', '--dims', '64,64,32', '--starter', 'kidney', '--json'])).toBe(0);
    const report = JSON.parse(lines.at(-1)!);
    expect(report.bench).toBe('predict');
    expect(report.networkRuns).toBeGreaterThan(0);
    expect(report.engine.tfjs).toBe(TFJS_CORE_CPU);
    if (process.platform === 'linux') expect(report.engine.heapReservedMb).toBeGreaterThan(0);
    expect(report.modelMs).toBeGreaterThan(0);
  }, 120_000);

  it('reports no engine for the threshold stand-in (no network, no model load)', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
    expect(await run(['--phantom', 'kidney', '--dims', '64,64,32', '--json'])).toBe(0);
    const report = JSON.parse(lines.at(-1)!);
    expect(report.engine).toBeNull();
    expect(report.model).toBe('threshold stand-in');
  }, 120_000);
});

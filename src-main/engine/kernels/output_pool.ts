// Reuse of kernel output arrays within a network run (withOutputReuse) or a sequence of runs (createOutputReuse:
// the windows of one pre-label, the steps of one Trainer).
//
// Every activation is a fresh ArrayBuffer, and V8 answers each ~64 MB of new ArrayBuffer memory with garbage
// collection work (incremental marking, then a full GC: measured 13-14 % of a lite forward at 64^3 and 96^3,
// about 43 collections per forward). In a run, an output array whose every tensor is disposed goes back to its
// pool and serves the next output of the same length, so the run allocates almost nothing new.
//
// Safety: an array is reused only by its own pool, and only when no tensor refers to its memory any more: the cpu
// backend's write/move/disposeData are wrapped to count, per ArrayBuffer, the live tensor data that use it (views
// made by tfjs's contiguous Slice count too). What the wrapping cannot see is a typed array kept from dataSync()
// after its tensor is disposed; code in a run must not do that (the network does not: it reads inputs during an
// op only), and between the runs of a persistent pool only an immediate copy may read one. A temporary pool is
// dropped when its run ends, a persistent one by release().
//
// The state (which arrays pools own, the run in progress, the counts, on or off) belongs to the current Engine
// (engine.ts); the wrapped backend entry points consult whichever engine is current.
import { currentEngine } from '../engine';
import { cpuBackendInternals } from '../tfjs-internals';

/** A pool of free output arrays by length. Temporary (one withOutputReuse call) or persistent (createOutputReuse). */
export interface ReusePool {
  free: Map<number, Float32Array[]>;
  open: boolean;
  persistent: boolean;
  /** The pool state of the engine that made it: a pool runs (reuses) only while that engine is current. */
  state: OutputPoolState;
}

export interface Owned {
  array: Float32Array;
  pool: ReusePool;
  refs: number;
}

/** The output-pool state an Engine (engine.ts) holds. */
export interface OutputPoolState {
  /** Per output ArrayBuffer adopted by a pool: the array, its pool and how many live tensor data use its memory. */
  owned: WeakMap<ArrayBufferLike, Owned>;
  /** The cpu backends whose write/move/disposeData are wrapped (shared by successive engines: the wrap stays). */
  hooked: WeakSet<object>;
  /** The pool of the run in progress, or null. */
  active: ReusePool | null;
  stats: { reused: number; fresh: number };
  enabled: boolean;
}

/** The current engine's pool state. */
function state(): OutputPoolState {
  return currentEngine().pool;
}

/** Wraps a cpu backend's data entry points (once per backend) so pooled arrays know their live tensors. */
export function installOutputReuse(backend: unknown): boolean {
  const b = cpuBackendInternals(backend);
  if (!b) return false;
  const hooked = state().hooked;
  if (hooked.has(b)) return true;
  hooked.add(b);
  const note = (values: unknown, delta: number): void => {
    if (!(values instanceof Float32Array)) return;
    const st = state();
    const o = st.owned.get(values.buffer);
    if (!o) return;
    o.refs += delta;
    // Free again: back to its pool while that pool's run is on, or any time for a persistent pool.
    if (o.refs === 0 && o.pool.open && (o.pool === st.active || o.pool.persistent)) {
      const list = o.pool.free.get(o.array.length);
      if (list) list.push(o.array);
      else o.pool.free.set(o.array.length, [o.array]);
    }
  };
  const write = b.write.bind(b);
  const move = b.move.bind(b);
  const disposeData = b.disposeData.bind(b);
  b.write = (values, shape, dtype) => {
    note(values, 1);
    return write(values, shape, dtype);
  };
  b.move = (dataId, values, shape, dtype, refCount) => {
    const before = b.data.has(dataId) ? b.data.get(dataId)?.values : undefined;
    note(values, 1);
    move(dataId, values, shape, dtype, refCount);
    if (before !== undefined) note(before, -1);
  };
  b.disposeData = (dataId, force) => {
    const values = b.data.has(dataId) ? b.data.get(dataId)?.values : undefined;
    const gone = disposeData(dataId, force);
    if (values !== undefined && !b.data.has(dataId)) note(values, -1);
    return gone;
  };
  return true;
}

/** An array from the pool of the active run, or undefined (then the caller allocates and calls adopt). */
export function pooledOutput(n: number): Float32Array | undefined {
  const st = state();
  const a = st.active?.free.get(n)?.pop();
  if (a) {
    st.owned.get(a.buffer)!.refs = 0;
    st.stats.reused++;
  }
  return a;
}

/** Registers a freshly allocated output array with the active run's pool (no-op outside a run). */
export function adoptOutput(a: Float32Array): Float32Array {
  const st = state();
  if (st.active && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) {
    st.owned.set(a.buffer, { array: a, pool: st.active, refs: 0 });
    st.stats.fresh++;
  }
  return a;
}

function runIn<T>(pool: ReusePool, f: () => T): T {
  const st = state();
  // Nested runs join the outer one; a pool of a replaced engine runs without reuse.
  if (st.active || !st.enabled || !pool.open || pool.state !== st) return f();
  st.active = pool;
  try {
    return f();
  } finally {
    st.active = null;
  }
}

/**
 * Runs `f` (synchronous: a network forward or training step) with output arrays reused inside it. Nested calls
 * join the outer run. Returns f's result; tensors it returns keep their arrays (they are still referenced).
 */
export function withOutputReuse<T>(f: () => T): T {
  const pool: ReusePool = { free: new Map(), open: true, persistent: false, state: state() };
  try {
    return runIn(pool, f);
  } finally {
    pool.open = false;
    pool.free.clear();
  }
}

/** A pool that lives across runs: arrays freed between runs (when a run's result is disposed) serve the next. */
export interface OutputReuse {
  /** Runs `f` with this pool (synchronous, as withOutputReuse). */
  run<T>(f: () => T): T;
  /** Drops the free arrays (the garbage collector then frees them); later runs start empty again. */
  release(): void;
}

/**
 * A persistent pool for a sequence of runs of one network (the windows of a pre-label). Between runs nothing may
 * read a disposed tensor's array except at once (a copy of the run's result right after its tensor is disposed);
 * call release() when the sequence ends.
 */
export function createOutputReuse(): OutputReuse {
  const pool: ReusePool = { free: new Map(), open: true, persistent: true, state: state() };
  return {
    run: (f) => {
      pool.open = true;
      return runIn(pool, f);
    },
    release: () => {
      pool.open = false;
      pool.free.clear();
    },
  };
}

/** Turns reuse on or off for the current engine (DEFORMUX_OUTPUT_REUSE=0 starts it off); returns the previous setting. */
export function setOutputReuse(on: boolean): boolean {
  const st = state();
  const was = st.enabled;
  st.enabled = on;
  return was;
}

/** Arrays reused and freshly allocated inside runs since the current engine was made (for tests and benchmarks). */
export function outputReuseStats(): { reused: number; fresh: number } {
  return { ...state().stats };
}

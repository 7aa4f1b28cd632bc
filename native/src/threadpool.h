// A persistent thread pool sized to the machine: run() executes fn(ctx, tid, nthreads) on every thread
// (the caller is tid 0) and returns when all are done. Calls from several threads are serialised.
#pragma once
#include <cstddef>

namespace dx {

using PoolFn = void (*)(void* ctx, int tid, int nthreads);

/** The process-wide pool (created on first use; $DEFORMUX_THREADS overrides the size). */
void pool_run(PoolFn fn, void* ctx);
int pool_threads();
/** Resizes the pool (n <= 0: back to the machine's size). */
void pool_set_threads(int n);

/** 64-byte aligned float buffers for kernel scratch (nullptr on failure; zeroed when asked). */
float* scratch_alloc(size_t n, bool zero);
void scratch_free(float* p);

}  // namespace dx

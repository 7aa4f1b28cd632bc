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

/**
 * Asks the kernel to back the whole 2 MiB pages inside [p, p + bytes) with transparent huge pages (Linux,
 * ranges of 8 MiB and more; a no-op elsewhere). A fresh tensor's first write otherwise takes one page fault
 * per 4 KiB: measured here, 32 ms to first-touch 56 MiB, against ~9 ms with huge pages.
 */
void advise_huge_pages(void* p, size_t bytes);

}  // namespace dx

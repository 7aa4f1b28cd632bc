// Persistent thread pool: workers sleep on a condition variable between jobs, spinning briefly first
// so that back-to-back kernel calls (many per training step) do not pay a wake-up each.
#include "threadpool.h"

#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "check.h"

namespace dx {

void fail(const char* file, int line, const std::string& msg) {
  const char* base = std::strrchr(file, '/');
  throw Error(msg + " (" + (base ? base + 1 : file) + ":" + std::to_string(line) + ")");
}

namespace {

int machine_threads() {
  if (const char* env = std::getenv("DEFORMUX_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n > 256 ? 256 : n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

class Pool {
 public:
  explicit Pool(int n) : n_(n < 1 ? 1 : n) {
    for (int t = 1; t < n_; t++) workers_.emplace_back([this, t] { loop(t); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
      gen_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int size() const { return n_; }

  void run(PoolFn fn, void* ctx) {
    std::lock_guard<std::mutex> serial(run_mutex_);
    if (n_ == 1) {
      fn(ctx, 0, 1);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      fn_ = fn;
      ctx_ = ctx;
      pending_.store(n_ - 1);
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    fn(ctx, 0, n_);
    // Wait for the workers: spin a little (they usually finish together), then sleep.
    for (int i = 0; i < 4000 && pending_.load(std::memory_order_acquire) != 0; i++) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lk(m_);
      done_cv_.wait(lk, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }

 private:
  void loop(int tid) {
    unsigned seen = 0;  // the generation at construction: a job queued before this thread ran is not lost
    for (;;) {
      // Spin briefly for the next job before sleeping (cheap on idle cores, keeps latency low).
      for (int i = 0; i < 2000 && gen_.load(std::memory_order_acquire) == seen; i++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return gen_.load() != seen; });
        if (stop_) return;
        seen = gen_.load();
      }
      fn_(ctx_, tid, n_);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(m_);  // pairs with the caller's predicate check
        done_cv_.notify_one();
      }
    }
  }

  const int n_;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::mutex run_mutex_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::atomic<unsigned> gen_{0};
  std::atomic<int> pending_{0};
  PoolFn fn_ = nullptr;
  void* ctx_ = nullptr;
  bool stop_ = false;
};

std::mutex g_pool_mutex;
Pool* g_pool = nullptr;  // never destroyed: joining at process exit could hang

Pool& pool() {
  std::lock_guard<std::mutex> lk(g_pool_mutex);
  if (!g_pool) g_pool = new Pool(machine_threads());
  return *g_pool;
}

}  // namespace

void pool_run(PoolFn fn, void* ctx) { pool().run(fn, ctx); }

int pool_threads() { return pool().size(); }

void pool_set_threads(int n) {
  std::lock_guard<std::mutex> lk(g_pool_mutex);
  int want = n > 0 ? (n > 256 ? 256 : n) : machine_threads();
  if (g_pool && g_pool->size() == want) return;
  delete g_pool;  // joins idle workers; callers must not resize while kernels run
  g_pool = new Pool(want);
}

float* scratch_alloc(size_t n, bool zero) {
  if (n == 0) n = 1;
  void* p = nullptr;
  if (posix_memalign(&p, 64, n * sizeof(float)) != 0) return nullptr;
  if (zero) std::memset(p, 0, n * sizeof(float));
  return static_cast<float*>(p);
}

void scratch_free(float* p) { std::free(p); }

void advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  if (bytes < (size_t(8) << 20) || p == nullptr) return;
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // advisory: failure is harmless
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace dx

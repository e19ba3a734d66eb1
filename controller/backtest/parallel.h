// A minimal parallel loop for independent backtest runs.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_PARALLEL_H_
#define WARMPOOL_CONTROLLER_BACKTEST_PARALLEL_H_

#include <cstddef>
#include <functional>

namespace warmpool {

// Calls fn(i) once for every i in [0, n), on up to `threads` threads including the caller's (0: one
// per core). Work is handed out one index at a time, so uneven runs balance. fn must not throw and
// must only write what index i owns. Returns the number of threads used (fewer if the system
// refuses to start more). Blocks until every call returned.
int ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

// The default thread count: std::thread::hardware_concurrency(), at least 1.
int DefaultThreads();

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_PARALLEL_H_

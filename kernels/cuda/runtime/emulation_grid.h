// emulation_grid.h -- how the CPU emulation runs a CUDA grid, and the launch stub.
//
// Included by emulation.h; read kernels/cuda/runtime/README.md first.
//
// The grid's blocks are shared out among a few OS threads ("workers"): each takes the
// next block until none is left, and runs it to its end, either in direct mode (a loop
// over the block's threads) or as fibers (run_block, in emulation_block.h) when the
// kernel synchronizes. The calling thread is one of the workers, and every worker is
// joined before the launch returns.
#pragma once

#include "emulation_block.h"

namespace mtcv {

// What the Python side passes for one launch (mirrored by a ctypes.Structure).
struct LaunchConfig {
    unsigned int grid[3];
    unsigned int block[3];
    int workers;     // OS threads to spread the blocks over
    int use_fibers;  // 0: direct mode (the kernel never synchronizes)
};

// ------------------------------------------------------------ the grid
struct Grid {
    LaunchConfig config;
    void (*invoke)(void*);
    void* closure;
    long long num_blocks;
    int num_threads;  // per block
    long long next_block;
    int failed;
    pthread_mutex_t mutex;
    char error[kMessageBytes];
};

inline void report(Grid& grid, const char* message) {
    pthread_mutex_lock(&grid.mutex);
    if (grid.error[0] == '\0') snprintf(grid.error, kMessageBytes, "%s", message);
    __atomic_store_n(&grid.failed, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&grid.mutex);
}

// A worker: takes the next block until none is left (or a block failed).
inline void* work(void* argument) {
    Grid& grid = *static_cast<Grid*>(argument);
    const LaunchConfig& config = grid.config;
    gridDim = dim3(config.grid[0], config.grid[1], config.grid[2]);
    blockDim = dim3(config.block[0], config.block[1], config.block[2]);
    char direct_error[kMessageBytes] = "";
    direct_mode_error = direct_error;

    // Fiber mode: a stack per CUDA thread of the block (emulation_fiber.h).
    Block* block = nullptr;
    StackSet* stacks = nullptr;
    if (config.use_fibers) {
        stacks = acquire_stacks(grid.num_threads);
        block = static_cast<Block*>(calloc(1, sizeof(Block)));
        Fiber* fibers = static_cast<Fiber*>(calloc(grid.num_threads, sizeof(Fiber)));
        if (stacks == nullptr || block == nullptr || fibers == nullptr) {
            report(grid, "could not allocate the fiber stacks of a block");
            if (stacks != nullptr) release_stacks(stacks);
            free(block);
            free(fibers);
            return nullptr;
        }
        block->fibers = fibers;
        block->num_threads = grid.num_threads;
        block->invoke = grid.invoke;
        block->closure = grid.closure;
        for (int t = 0; t < grid.num_threads; ++t) fibers[t].stack = stacks->stack(t);
    }
    while (!__atomic_load_n(&grid.failed, __ATOMIC_SEQ_CST)) {
        long long b = __atomic_fetch_add(&grid.next_block, 1, __ATOMIC_SEQ_CST);
        if (b >= grid.num_blocks) break;
        blockIdx.x = (unsigned)(b % config.grid[0]);
        blockIdx.y = (unsigned)((b / config.grid[0]) % config.grid[1]);
        blockIdx.z = (unsigned)(b / ((long long)config.grid[0] * config.grid[1]));
        if (block != nullptr) {
            current_block = block;
            block->error[0] = '\0';
            bool ok = run_block(*block);
            current_block = nullptr;
            if (!ok) report(grid, block->error);
        } else {
            for (int t = 0; t < grid.num_threads; ++t) {
                set_thread_index(t);
                grid.invoke(grid.closure);
            }
            if (direct_error[0] != '\0') report(grid, direct_error);
        }
    }
    if (block != nullptr) {
        release_stacks(stacks);
        free(block->fibers);
        free(block);
    }
    direct_mode_error = nullptr;
    return nullptr;
}

// Runs the whole grid: the blocks are shared out among `workers` OS threads (the
// calling thread is one of them), all joined before returning. Returns 0, or 1 with
// a message in `error`.
inline int run_grid(const LaunchConfig& config, void (*invoke)(void*), void* closure, char* error,
                    size_t error_size) {
    Grid* grid = static_cast<Grid*>(calloc(1, sizeof(Grid)));
    if (grid == nullptr) {
        snprintf(error, error_size, "out of memory");
        return 1;
    }
    grid->config = config;
    grid->invoke = invoke;
    grid->closure = closure;
    grid->num_blocks = (long long)config.grid[0] * config.grid[1] * config.grid[2];
    grid->num_threads = (int)(config.block[0] * config.block[1] * config.block[2]);
    pthread_mutex_init(&grid->mutex, nullptr);
    long long workers = config.workers < 1 ? 1 : config.workers;
    if (workers > grid->num_blocks) workers = grid->num_blocks;
    pthread_t* threads = static_cast<pthread_t*>(calloc(workers, sizeof(pthread_t)));
    int started = 0;
    for (long long w = 1; w < workers && threads != nullptr; ++w) {
        if (pthread_create(&threads[started], nullptr, work, grid) != 0) break;  // fewer workers will do
        ++started;
    }
    work(grid);
    for (int w = 0; w < started; ++w) pthread_join(threads[w], nullptr);
    free(threads);
    pthread_mutex_destroy(&grid->mutex);
    int status = grid->error[0] != '\0';
    if (status) snprintf(error, error_size, "%s", grid->error);
    free(grid);
    return status;
}

// ------------------------------------------------------------------- one launch
// The kernel's arguments arrive from Python (ctypes) as an array of pointers, one to
// each argument's value; every CUDA thread calls the kernel with them, read as the
// kernel's own parameter types.
template <typename... Params>
struct KernelCall {
    void (*kernel)(Params...);
    void** args;

    template <size_t... I>
    void call(std::index_sequence<I...>) {
        kernel(*static_cast<Params*>(args[I])...);
    }
    static void invoke(void* self) {
        static_cast<KernelCall*>(self)->call(std::index_sequence_for<Params...>{});
    }
};

template <typename... Params>
int launch(void (*kernel)(Params...), const LaunchConfig* config, void** args, char* error, size_t error_size) {
    KernelCall<Params...> call{kernel, args};
    return run_grid(*config, &KernelCall<Params...>::invoke, &call, error, error_size);
}

}  // namespace mtcv

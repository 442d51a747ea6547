// emulation_block.h -- how the CPU emulation runs the threads of one CUDA block.
//
// Included by emulation_grid.h; read kernels/cuda/runtime/README.md first.
//
// A kernel that never synchronizes (no __syncthreads, no warp exchange anywhere in its
// call graph; the Python launcher decides this from the source) runs its threads one
// after the other as plain function calls: "direct mode", as fast as a loop (see
// emulation_grid.h). Any other kernel runs each CUDA thread of the block as a fiber (a
// stack of its own, emulation_fiber.h), all on one OS thread. A fiber runs until it
// reaches a barrier or a warp exchange, then hands control back to the block's
// scheduler (run_block below), which resumes the next fiber. When every thread that
// must meet at a barrier is there, the scheduler releases them all. So all threads of
// a block are alive at once and a barrier really orders their shared-memory accesses,
// as on a GPU.
//
// __shared__ variables are `static thread_local`: every fiber of a block runs on the
// same OS thread, so they see one copy, and blocks on other OS threads see theirs. The
// built-in index variables are thread_local too; the scheduler sets threadIdx before
// it resumes a fiber.
//
// A barrier that not every thread reaches (a thread returned, or waits at another
// barrier) is a deadlock or undefined behaviour on a GPU; here the scheduler sees that
// no thread can move on and reports which threads wait where.
#pragma once

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <type_traits>
#include <utility>

#include "emulation_fiber.h"

// ---------------------------------------------------------------- CUDA vector types
struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};

// The built-in variables: one copy per worker; threadIdx changes at every fiber switch.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

namespace mtcv {

constexpr size_t kMessageBytes = 2048;

// Appends printf-style text to a message buffer of kMessageBytes.
inline void append(char* message, const char* format, ...) __attribute__((format(printf, 2, 3)));
inline void append(char* message, const char* format, ...) {
    size_t used = strlen(message);
    if (used + 1 >= kMessageBytes) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message + used, kMessageBytes - used, format, arguments);
    va_end(arguments);
}

// ------------------------------------------------------------ per-thread bookkeeping
enum class State { ready, at_barrier, at_warp, done, failed };

struct Fiber {
    Context context;  // where it resumes
    char* stack;
    State state;
    int line;          // the .cu line of the barrier or exchange it waits at
    const char* what;  // which intrinsic, for messages
    // A warp shuffle (__shfl_xor_sync): what this lane offers and asks for, and what it gets.
    unsigned int mask;
    unsigned long long value;  // the lane's operand, as raw bits
    int lane_mask;
    int width;
    unsigned long long result;
};

// The block a worker is running in fiber mode (current_block is null in direct mode).
struct Block {
    Fiber* fibers;
    int num_threads;
    int current;  // the fiber now running
    Context scheduler;  // where the scheduler resumes
    void (*invoke)(void*);
    void* closure;
    char error[kMessageBytes];  // the first misuse of an intrinsic
};

inline thread_local Block* current_block = nullptr;
inline thread_local char* direct_mode_error = nullptr;  // where direct mode reports misuse

inline void set_thread_index(int t) {
    if (blockDim.y == 1 && blockDim.z == 1) {  // the common 1-D block: no divisions
        threadIdx.x = t;
        threadIdx.y = threadIdx.z = 0;
        return;
    }
    threadIdx.x = t % blockDim.x;
    threadIdx.y = (t / blockDim.x) % blockDim.y;
    threadIdx.z = t / (blockDim.x * blockDim.y);
}

// "thread (x,y,z) of block (x,y,z)" for the thread with linear index t.
inline void append_thread(char* message, int t) {
    append(message, "thread (%u,%u,%u) of block (%u,%u,%u)", t % blockDim.x, (t / blockDim.x) % blockDim.y,
           t / (blockDim.x * blockDim.y), blockIdx.x, blockIdx.y, blockIdx.z);
}

// A thread misuses an intrinsic: the block stops and the launch fails with `message`.
inline void fail(const char* message) {
    Block* block = current_block;
    if (block == nullptr) {  // direct mode: keep the first message, let the thread go on
        if (direct_mode_error != nullptr && direct_mode_error[0] == '\0')
            snprintf(direct_mode_error, kMessageBytes, "%s", message);
        return;
    }
    if (block->error[0] == '\0') snprintf(block->error, kMessageBytes, "%s", message);
    Fiber& self = block->fibers[block->current];
    self.state = State::failed;
    switch_to(self.context, block->scheduler);  // never resumed
}

// The running thread waits: back to the scheduler until it releases this thread.
inline void wait_here(State state, int line, const char* what) {
    Block* block = current_block;
    Fiber& self = block->fibers[block->current];
    self.state = state;
    self.line = line;
    self.what = what;
    switch_to(self.context, block->scheduler);
}

// A synchronizing intrinsic called in direct mode: fine only in a one-thread block
// (otherwise the launcher's source analysis missed a call, e.g. behind a function pointer).
inline bool direct_mode_sync(const char* what, int line) {
    if (blockDim.x * blockDim.y * blockDim.z == 1) return true;
    char message[kMessageBytes] = "";
    append(message,
           "%s at line %d ran in direct mode: the launcher did not see that this kernel "
           "synchronizes (is the call hidden behind a function pointer?)",
           what, line);
    fail(message);
    return false;
}

// ------------------------------------------------------------ barriers and exchanges
inline void block_barrier(int line, const char* what) {
    if (current_block == nullptr) {
        direct_mode_sync(what, line);
        return;
    }
    wait_here(State::at_barrier, line, what);
}

inline unsigned long long shuffle_xor(unsigned int mask, unsigned long long value, int lane_mask, int width, int line,
                                      const char* what) {
    if (current_block == nullptr) {
        direct_mode_sync(what, line);
        return value;
    }
    Block& block = *current_block;
    int lane = block.current % 32;
    if (!(mask >> lane & 1u)) {
        char message[kMessageBytes] = "";
        append(message, "%s at line %d: ", what, line);
        append_thread(message, block.current);
        append(message, " calls it with mask 0x%08x, which does not name its own lane %d", mask, lane);
        fail(message);
    }
    if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
        char message[kMessageBytes] = "";
        append(message, "%s at line %d: width must be a power of 2 in [1, 32], got %d", what, line, width);
        fail(message);
    }
    Fiber& self = block.fibers[block.current];
    self.mask = mask;
    self.value = value;
    self.lane_mask = lane_mask;
    self.width = width;
    wait_here(State::at_warp, line, what);
    return current_block->fibers[current_block->current].result;
}

// The lane that `lane` reads in __shfl_xor_sync: lane ^ laneMask, or `lane` itself
// when that falls past the end of its segment of `width` lanes (CUDA's rule).
inline int shuffle_source(const Fiber& f, int lane) {
    int segment = (lane / f.width) * f.width;
    return (lane ^ f.lane_mask) >= segment + f.width ? lane : (lane ^ f.lane_mask);
}

// ------------------------------------------------------------ the block scheduler
inline void fiber_main() {
    Block& block = *current_block;
    block.invoke(block.closure);
    Fiber& self = block.fibers[block.current];
    self.state = State::done;
    switch_to(self.context, block.scheduler);  // never resumed: a fiber never returns
}

inline bool all_done(const Block& block) {
    for (int t = 0; t < block.num_threads; ++t)
        if (block.fibers[t].state != State::done) return false;
    return true;
}

// Every thread waits at the same __syncthreads: release them all.
inline bool release_block_barrier(Block& block) {
    const Fiber& first = block.fibers[0];
    for (int t = 0; t < block.num_threads; ++t) {
        const Fiber& f = block.fibers[t];
        if (f.state != State::at_barrier || f.line != first.line || strcmp(f.what, first.what) != 0) return false;
    }
    for (int t = 0; t < block.num_threads; ++t) block.fibers[t].state = State::ready;
    return true;
}

// The lanes [first, last) of one warp; `leader` waits in a shuffle. If every lane of
// its mask waits in the same shuffle, computes all their results and releases them.
inline bool try_release_warp(Block& block, int first, int last, const Fiber& leader) {
    int lanes = last - first;
    unsigned int existing = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
    unsigned int members = leader.mask & existing;
    for (int lane = 0; lane < lanes; ++lane) {
        if (!(members >> lane & 1u)) continue;
        const Fiber& f = block.fibers[first + lane];
        if (f.state == State::done) {
            append(block.error, "%s at line %d uses mask 0x%08x, but ", leader.what, leader.line, leader.mask);
            append_thread(block.error, first + lane);
            append(block.error, ", named in the mask, has returned");
            return false;
        }
        if (f.state != State::at_warp) return false;  // not there yet
        if (f.mask != leader.mask || f.line != leader.line) {
            append(block.error, "warp exchange mismatch: lanes wait in %s at line %d (mask 0x%08x) while ",
                   leader.what, leader.line, leader.mask);
            append_thread(block.error, first + lane);
            append(block.error, " waits in %s at line %d (mask 0x%08x)", f.what, f.line, f.mask);
            return false;
        }
    }
    for (int lane = 0; lane < lanes; ++lane) {
        if (!(members >> lane & 1u)) continue;
        Fiber& f = block.fibers[first + lane];
        int source = shuffle_source(f, lane);
        if (source < 0 || source >= 32 || !(members >> source & 1u)) {
            append(block.error, "%s at line %d: ", f.what, f.line);
            append_thread(block.error, first + lane);
            append(block.error,
                   " reads lane %d, which is not in the mask 0x%08x or does not exist "
                   "(the block has %d threads)",
                   source, f.mask, block.num_threads);
            return false;
        }
        f.result = block.fibers[first + source].value;
    }
    for (int lane = 0; lane < lanes; ++lane)
        if (members >> lane & 1u) block.fibers[first + lane].state = State::ready;
    return true;
}

inline bool release_warps(Block& block) {
    bool released = false;
    for (int first = 0; first < block.num_threads; first += 32) {
        int last = first + 32 < block.num_threads ? first + 32 : block.num_threads;
        for (int t = first; t < last; ++t) {
            if (block.fibers[t].state != State::at_warp) continue;
            if (try_release_warp(block, first, last, block.fibers[t])) released = true;
            if (block.error[0] != '\0') return false;
        }
    }
    return released;
}

inline bool same_wait(const Fiber& a, const Fiber& b) {
    return a.state == b.state && a.line == b.line && strcmp(a.what, b.what) == 0;
}

// No thread can move on: say who waits where (on a GPU: a hang or undefined behaviour).
inline void describe_deadlock(Block& block) {
    char* message = block.error;
    int n = block.num_threads, done = 0;
    for (int t = 0; t < n; ++t) done += block.fibers[t].state == State::done;
    append(message, "barrier divergence: not every thread of the block reaches the same barrier. ");
    if (done) append(message, "%d of %d threads have returned", done, n);
    for (int t = 0; t < n; ++t) {  // one line per group of threads waiting at the same place
        const Fiber& f = block.fibers[t];
        bool first_of_group = f.state != State::done;
        for (int s = 0; s < t && first_of_group; ++s) first_of_group = !same_wait(block.fibers[s], f);
        if (!first_of_group) continue;
        int count = 0;
        for (int u = 0; u < n; ++u) count += same_wait(block.fibers[u], f);
        append(message, "%s%d wait at %s (line %d), e.g. ", message[strlen(message) - 1] == ' ' ? "" : "; ", count,
               f.what, f.line);
        append_thread(message, t);
    }
}

// Runs every thread of the current block to completion as fibers; false on error.
inline bool run_block(Block& block) {
    for (int t = 0; t < block.num_threads; ++t) {
        Fiber& f = block.fibers[t];
        f.state = State::ready;
        prepare(f.context, f.stack, kFiberStackBytes, fiber_main);
    }
    for (;;) {
        for (int t = 0; t < block.num_threads; ++t) {  // run every ready thread until it waits
            if (block.fibers[t].state != State::ready) continue;
            block.current = t;
            set_thread_index(t);
            switch_to(block.scheduler, block.fibers[t].context);
            if (block.error[0] != '\0') return false;
        }
        if (all_done(block)) return true;
        if (release_warps(block)) continue;
        if (block.error[0] != '\0') return false;
        if (release_block_barrier(block)) continue;
        describe_deadlock(block);
        return false;
    }
}

}  // namespace mtcv

// emulation_fiber.h -- fibers: many call stacks taking turns on one OS thread.
//
// Included by emulation_block.h, which runs every CUDA thread of a block as a fiber.
// A fiber is a stack of its own plus the saved registers of the point where it last
// stopped (a Context). switch_to(from, to) saves the running code's registers in
// `from` and resumes `to`; the registers that need saving are the ones the C++ ABI
// says a function call preserves (a switch looks like an ordinary call to the code
// around it, so the compiler has already saved every other register).
//
// Two implementations, one interface:
//   * x86-64 Linux: fifteen instructions of assembly, some 20 ns a switch;
//   * elsewhere (or with -DMTCV_USE_UCONTEXT): POSIX swapcontext, which also saves the
//     signal mask with a system call, about a microsecond a switch.
#pragma once

#if defined(__APPLE__)  // macOS keeps the (deprecated) ucontext functions behind these
#define _XOPEN_SOURCE 700
#define _DARWIN_C_SOURCE
#endif

#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <ucontext.h>

#if defined(__x86_64__) && defined(__linux__) && !defined(MTCV_USE_UCONTEXT)
#define MTCV_FAST_SWITCH 1
#else
#define MTCV_FAST_SWITCH 0
#endif

namespace mtcv {

constexpr size_t kFiberStackBytes = 256 * 1024;  // per CUDA thread; pages are touched lazily
constexpr size_t kGuardBytes = 4096;             // an inaccessible page below each stack

#if MTCV_FAST_SWITCH
// Pushes the callee-saved registers on the running stack, stores the stack pointer in
// *save, loads `load` as the stack pointer, pops the registers saved there, returns
// into the code that switched away from that stack.
extern "C" void mtcv_switch_stacks(void** save, void* load);
asm(R"(
    .text
    .p2align 4
    .globl mtcv_switch_stacks
    .hidden mtcv_switch_stacks
    .type mtcv_switch_stacks, @function
mtcv_switch_stacks:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size mtcv_switch_stacks, .-mtcv_switch_stacks
)");

struct Context {
    void* stack_pointer;
};

// Makes `context` start `entry` on the stack [stack, stack + bytes): the stack is laid
// out as mtcv_switch_stacks leaves it, so that switching to it "returns" into entry.
inline void prepare(Context& context, char* stack, size_t bytes, void (*entry)()) {
    void** top = reinterpret_cast<void**>(reinterpret_cast<size_t>(stack + bytes) & ~size_t(15));
    *--top = nullptr;                           // entry's return address: it never returns
    *--top = reinterpret_cast<void*>(entry);    // where the `ret` of the switch goes
    for (int r = 0; r < 6; ++r) *--top = nullptr;  // rbp rbx r12 r13 r14 r15
    context.stack_pointer = top;
}

inline void switch_to(Context& from, Context& to) { mtcv_switch_stacks(&from.stack_pointer, to.stack_pointer); }

#else
struct Context {
    ucontext_t state;
};

inline void prepare(Context& context, char* stack, size_t bytes, void (*entry)()) {
    getcontext(&context.state);
    context.state.uc_stack.ss_sp = stack;
    context.state.uc_stack.ss_size = bytes;
    context.state.uc_stack.ss_flags = 0;
    context.state.uc_link = nullptr;  // entry never returns
    makecontext(&context.state, entry, 0);
}

inline void switch_to(Context& from, Context& to) { swapcontext(&from.state, &to.state); }
#endif

// ------------------------------------------------------------ stacks
// A set of fiber stacks, each above an inaccessible guard page so that a stack
// overflow faults instead of overwriting the next fiber's stack. Sets are kept for
// reuse by later launches: mapping fresh memory would cost a page fault per stack.
struct StackSet {
    char* memory;
    size_t bytes;
    int count;
    StackSet* next;

    char* stack(int i) const { return memory + i * (kFiberStackBytes + kGuardBytes) + kGuardBytes; }
};

inline pthread_mutex_t stack_pool_mutex = PTHREAD_MUTEX_INITIALIZER;
inline StackSet* stack_pool = nullptr;

// A set of at least `count` stacks (from the pool if one is free), or null.
inline StackSet* acquire_stacks(int count) {
    pthread_mutex_lock(&stack_pool_mutex);
    for (StackSet** link = &stack_pool; *link != nullptr; link = &(*link)->next) {
        if ((*link)->count >= count) {
            StackSet* set = *link;
            *link = set->next;
            pthread_mutex_unlock(&stack_pool_mutex);
            return set;
        }
    }
    pthread_mutex_unlock(&stack_pool_mutex);
    size_t slot = kFiberStackBytes + kGuardBytes;
    void* memory = mmap(nullptr, slot * count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return nullptr;
    StackSet* set = new StackSet{static_cast<char*>(memory), slot * count, count, nullptr};
    for (int i = 0; i < count; ++i) mprotect(set->memory + i * slot, kGuardBytes, PROT_NONE);
    return set;
}

inline void release_stacks(StackSet* set) {
    pthread_mutex_lock(&stack_pool_mutex);
    set->next = stack_pool;
    stack_pool = set;
    pthread_mutex_unlock(&stack_pool_mutex);
}

}  // namespace mtcv

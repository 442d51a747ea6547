// emulation_memcheck.h -- the bounds-checking mode of the CPU emulation (like
// compute-sanitizer's memcheck): every access to global memory checked against its array.
//
// Included by emulation.h in builds made with MINITORCH_CV_EMULATION_MEMCHECK=1; read
// kernels/cuda/runtime/README.md first. In such a build the launcher rewrites every
// pointer declaration of the .cu source (kernel parameters, device-function parameters,
// local pointer variables; not the template types of block_reduce.cuh) from
//     const scalar_t* __restrict__ x        to        mtcv::Checked<const scalar_t> x
// and passes, for each array argument, a Checked that knows the array's name and size.
// A Checked behaves like the pointer it replaces (x[i], *x, x + n, x += n, ++x, x - y,
// comparisons); x[i] and *x compare the element index with the array's bounds first.
// An access outside them is not made: the first one of the launch is reported
// ("kernel k: out-of-bounds access: thread (x,y,z) of block (x,y,z) accesses x[1000],
// outside the array's 8 elements"),
// the access reads zeros from a scratch cell (or writes there), the block stops at its
// next barrier or when its threads end, and the launch fails with CudaLaunchError.
//
// A raw pointer converts to an unchecked Checked (shared memory and local arrays are
// not global memory); a Checked never converts back to a raw pointer except through
// &x[i] after its check, so no unchecked access to an array can slip through.
#pragma once

#include <stddef.h>
#include <string.h>

#include <type_traits>

#include "emulation_block.h"

namespace mtcv {

// What the launcher passes for each array in a memcheck build (a ctypes.Structure in
// emulation.py mirrors it).
struct ArrayBounds {
    const char* name;  // the kernel parameter, for the report
    long long count;   // elements of the array
};

// Reports an access outside an array (the first of the launch is kept).
__attribute__((noinline)) inline void report_out_of_bounds(const ArrayBounds* bounds, long long index) {
    char message[kMessageBytes] = "";
    append(message, "out-of-bounds access: thread (%u,%u,%u) of block (%u,%u,%u) accesses %s[%lld], outside the "
           "array's %lld elements", threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z,
           bounds->name, index, bounds->count);
    record(message);
}

// T, in a position from which template arguments are not deduced: a helper
// `template <typename T> T block_sum(T value, T* partials)` becomes
// `block_sum(T value, Checked<nondeduced<T>> partials)`, so T comes from `value` and a raw
// pointer to shared memory converts to the parameter.
template <typename T>
struct Identity {
    using type = T;
};
template <typename T>
using nondeduced = typename Identity<T>::type;

// Where an access outside the bounds goes instead: zeros to read, a cell to write.
template <typename T>
T& scratch_cell() {
    alignas(16) static thread_local unsigned char cell[sizeof(T) < 16 ? 16 : sizeof(T)];
    memset(cell, 0, sizeof(cell));
    return *reinterpret_cast<T*>(cell);
}

// A pointer into an array that checks every access. Layout (base, offset, bounds) is
// what the launcher builds in memory for an array argument; bounds == nullptr means
// unchecked (memory that is not a launch argument: shared memory, local arrays).
template <typename T>
class Checked {
  public:
    Checked() = default;
    Checked(T* pointer) : base_(pointer), offset_(0), bounds_(nullptr) {}  // NOLINT: implicit on purpose
    Checked(decltype(nullptr)) : base_(nullptr), offset_(0), bounds_(nullptr) {}
    template <typename U, typename = typename std::enable_if<std::is_convertible<U*, T*>::value>::type>
    Checked(const Checked<U>& other) : base_(other.base_), offset_(other.offset_), bounds_(other.bounds_) {}

    T& operator[](long long i) const { return at(offset_ + i); }
    T& operator*() const { return at(offset_); }

    Checked operator+(long long n) const { return Checked(base_, offset_ + n, bounds_); }
    Checked operator-(long long n) const { return Checked(base_, offset_ - n, bounds_); }
    friend Checked operator+(long long n, const Checked& p) { return p + n; }
    long long operator-(const Checked& other) const { return (base_ + offset_) - (other.base_ + other.offset_); }
    Checked& operator+=(long long n) { offset_ += n; return *this; }
    Checked& operator-=(long long n) { offset_ -= n; return *this; }
    Checked& operator++() { ++offset_; return *this; }
    Checked& operator--() { --offset_; return *this; }
    Checked operator++(int) { Checked old = *this; ++offset_; return old; }
    Checked operator--(int) { Checked old = *this; --offset_; return old; }
    bool operator==(const Checked& other) const { return base_ + offset_ == other.base_ + other.offset_; }
    bool operator!=(const Checked& other) const { return !(*this == other); }
    bool operator<(const Checked& other) const { return base_ + offset_ < other.base_ + other.offset_; }
    explicit operator bool() const { return base_ != nullptr; }

  private:
    template <typename U>
    friend class Checked;
    Checked(T* base, long long offset, const ArrayBounds* bounds) : base_(base), offset_(offset), bounds_(bounds) {}

    T& at(long long index) const {
        if (bounds_ != nullptr && (index < 0 || index >= bounds_->count)) {
            report_out_of_bounds(bounds_, index);
            return scratch_cell<typename std::remove_const<T>::type>();
        }
        return base_[index];
    }

    T* base_;
    long long offset_;  // in elements from base_; not a moved pointer, which could leave the array
    const ArrayBounds* bounds_;
};

}  // namespace mtcv

// emulation.h -- the subset of CUDA C that the CPU emulation executor understands.
//
// The launcher compiles a .cu file with the host C++ compiler as
//
//     #define scalar_t float            (or double)
//     #include "emulation.h"
//     #line 1 "kernels/cuda/<family>.cu"
//     ...the .cu source, unchanged...
//     ...one extern "C" launch stub per kernel...
//
// so everything a kernel may use must be defined here: what the project's kernels use
// (barriers, static shared memory, __shfl_xor_sync, atomicAdd) and the math library.
// Anything else fails to compile; kernels/cuda/runtime/README.md lists the supported
// subset and the reason for every limit.
#pragma once

#include "emulation_grid.h"

#define MINITORCH_CV_EMULATION 1

// ------------------------------------------------------------ qualifiers
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Static shared memory: one copy per worker OS thread = per running block (see
// emulation_block.h).
#define __shared__ static thread_local
// __constant__ data initialized in the source is read-only on the device.
#define __constant__ const

// ------------------------------------------------------------ synchronization
// __builtin_LINE() is the caller's line (the .cu line, thanks to #line), so that a
// divergent barrier is reported where it is written.
inline void __syncthreads(int line = __builtin_LINE()) { mtcv::block_barrier(line, "__syncthreads()"); }

// ------------------------------------------------------------ warp shuffle
// The warp exchange the project's kernels use (block_reduce.cuh), emulated faithfully:
// each call is a meeting point of the lanes named in `mask`. A lane waits until every
// lane of the mask has made the same call, then all of them get their results at once
// (as in lockstep execution on the GPU): lane k receives `var` of lane k ^ laneMask.
namespace mtcv {
template <typename T>
unsigned long long to_bits(T value) {
    static_assert(std::is_arithmetic<T>::value && sizeof(T) <= 8, "warp shuffles take a number of at most 8 bytes");
    unsigned long long bits = 0;
    memcpy(&bits, &value, sizeof(T));
    return bits;
}
template <typename T>
T from_bits(unsigned long long bits) {
    T value;
    memcpy(&value, &bits, sizeof(T));
    return value;
}
}  // namespace mtcv

template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize, int line = __builtin_LINE()) {
    unsigned long long bits = mtcv::shuffle_xor(mask, mtcv::to_bits(var), laneMask, width, line, "__shfl_xor_sync");
    return mtcv::from_bits<T>(bits);
}

// ------------------------------------------------------------ atomics
// atomicAdd with CUDA's overloads (there is no atomicAdd(long long*, ...) in CUDA: use
// unsigned long long, whose wrap-around addition is the same two's-complement sum).
// Relaxed ordering, as on the GPU; blocks run in parallel, so these are real atomics.
inline int atomicAdd(int* address, int value) { return __atomic_fetch_add(address, value, __ATOMIC_RELAXED); }
inline unsigned int atomicAdd(unsigned int* address, unsigned int value) {
    return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
}
inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long value) {
    return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
}
// Floating-point atomicAdd: a compare-and-swap loop on the value's bits.
template <typename T>
inline T mtcv_atomic_add_float(T* address, T value) {
    T old;
    __atomic_load(address, &old, __ATOMIC_RELAXED);
    T updated;
    do {
        updated = old + value;
    } while (!__atomic_compare_exchange(address, &old, &updated, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
}
inline float atomicAdd(float* address, float value) { return mtcv_atomic_add_float(address, value); }
inline double atomicAdd(double* address, double value) { return mtcv_atomic_add_float(address, value); }

// ------------------------------------------------------------ math
// The C library's functions, declared here rather than through <math.h> so that no
// more of the host's headers reaches the kernels (NVRTC has none either), with the
// overloads CUDA has: exp(float) is expf(float), exp(double) is exp(double).
#define MTCV_MATH_1(name)                              \
    extern "C" double name(double);                    \
    extern "C" float name##f(float);                   \
    inline float name(float x) { return name##f(x); }
#define MTCV_MATH_2(name)                                           \
    extern "C" double name(double, double);                         \
    extern "C" float name##f(float, float);                         \
    inline float name(float x, float y) { return name##f(x, y); }
MTCV_MATH_1(exp) MTCV_MATH_1(exp2) MTCV_MATH_1(expm1)
MTCV_MATH_1(log) MTCV_MATH_1(log2) MTCV_MATH_1(log10) MTCV_MATH_1(log1p)
MTCV_MATH_1(sqrt) MTCV_MATH_1(cbrt)
MTCV_MATH_1(sin) MTCV_MATH_1(cos) MTCV_MATH_1(tan) MTCV_MATH_1(asin) MTCV_MATH_1(acos) MTCV_MATH_1(atan)
MTCV_MATH_1(sinh) MTCV_MATH_1(cosh) MTCV_MATH_1(tanh) MTCV_MATH_1(asinh) MTCV_MATH_1(acosh) MTCV_MATH_1(atanh)
MTCV_MATH_1(erf) MTCV_MATH_1(erfc) MTCV_MATH_1(lgamma) MTCV_MATH_1(tgamma)
MTCV_MATH_1(floor) MTCV_MATH_1(ceil) MTCV_MATH_1(round) MTCV_MATH_1(trunc) MTCV_MATH_1(rint) MTCV_MATH_1(nearbyint)
MTCV_MATH_1(fabs)
MTCV_MATH_2(pow) MTCV_MATH_2(fmod) MTCV_MATH_2(fmin) MTCV_MATH_2(fmax) MTCV_MATH_2(atan2) MTCV_MATH_2(hypot)
MTCV_MATH_2(copysign) MTCV_MATH_2(remainder) MTCV_MATH_2(fdim)
#undef MTCV_MATH_1
#undef MTCV_MATH_2
extern "C" double fma(double, double, double);
extern "C" float fmaf(float, float, float);
inline float fma(float x, float y, float z) { return fmaf(x, y, z); }
extern "C" double ldexp(double, int);
extern "C" float ldexpf(float, int);
inline float ldexp(float x, int e) { return ldexpf(x, e); }
template <typename T>
inline bool isnan(T x) { return __builtin_isnan(x); }
template <typename T>
inline bool isinf(T x) { return __builtin_isinf(x); }
template <typename T>
inline bool isfinite(T x) { return __builtin_isfinite(x); }
template <typename T>
inline bool signbit(T x) { return __builtin_signbit(x); }
#ifndef INFINITY
#define INFINITY (__builtin_inff())
#endif
#ifndef NAN
#define NAN (__builtin_nanf(""))
#endif

// CUDA's own functions:
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rsqrt(float x) { return rsqrtf(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline double rcbrt(double x) { return 1.0 / cbrt(x); }
inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
inline double normcdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }
inline float saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
// The fast intrinsics: on the GPU approximations, here the accurate functions.
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return saturatef(x); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fmaf_rn(float x, float y, float z) { return fmaf(x, y, z); }
inline double __dadd_rn(double x, double y) { return x + y; }
inline double __dmul_rn(double x, double y) { return x * y; }
inline double __fma_rn(double x, double y, double z) { return fma(x, y, z); }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline int __float2int_rz(float x) { return (int)x; }
inline int __float2int_rd(float x) { return (int)floorf(x); }
inline int __float2int_ru(float x) { return (int)ceilf(x); }
inline int __double2int_rn(double x) { return (int)nearbyint(x); }
inline int __float_as_int(float x) { return mtcv::from_bits<int>(mtcv::to_bits(x)); }
inline unsigned __float_as_uint(float x) { return mtcv::from_bits<unsigned>(mtcv::to_bits(x)); }
inline float __int_as_float(int x) { return mtcv::from_bits<float>(mtcv::to_bits(x)); }
inline float __uint_as_float(unsigned x) { return mtcv::from_bits<float>(mtcv::to_bits(x)); }
inline long long __double_as_longlong(double x) { return mtcv::from_bits<long long>(mtcv::to_bits(x)); }
inline double __longlong_as_double(long long x) { return mtcv::from_bits<double>(mtcv::to_bits(x)); }
// __ldg reads through the read-only cache on the GPU: a plain read here.
template <typename T>
inline T __ldg(const T* address) { return *address; }

// min and max: exactly CUDA's overloads (so that a call ambiguous for nvcc, such as
// max(int, double), is ambiguous here too); mixed pairs compute in the wider type.
#define MTCV_MIN_MAX(A, B, T)                                             \
    inline T max(A a, B b) { return (T)a > (T)b ? (T)a : (T)b; }          \
    inline T min(A a, B b) { return (T)a < (T)b ? (T)a : (T)b; }
MTCV_MIN_MAX(int, int, int)
MTCV_MIN_MAX(unsigned int, unsigned int, unsigned int)
MTCV_MIN_MAX(int, unsigned int, unsigned int)
MTCV_MIN_MAX(unsigned int, int, unsigned int)
MTCV_MIN_MAX(long, long, long)
MTCV_MIN_MAX(unsigned long, unsigned long, unsigned long)
MTCV_MIN_MAX(long, unsigned long, unsigned long)
MTCV_MIN_MAX(unsigned long, long, unsigned long)
MTCV_MIN_MAX(long long, long long, long long)
MTCV_MIN_MAX(unsigned long long, unsigned long long, unsigned long long)
MTCV_MIN_MAX(long long, unsigned long long, unsigned long long)
MTCV_MIN_MAX(unsigned long long, long long, unsigned long long)
MTCV_MIN_MAX(float, float, float)
MTCV_MIN_MAX(double, double, double)
MTCV_MIN_MAX(float, double, double)
MTCV_MIN_MAX(double, float, double)
#undef MTCV_MIN_MAX
inline unsigned int umax(unsigned int a, unsigned int b) { return max(a, b); }
inline unsigned int umin(unsigned int a, unsigned int b) { return min(a, b); }
inline long long llmax(long long a, long long b) { return max(a, b); }
inline long long llmin(long long a, long long b) { return min(a, b); }
inline unsigned long long ullmax(unsigned long long a, unsigned long long b) { return max(a, b); }
inline unsigned long long ullmin(unsigned long long a, unsigned long long b) { return min(a, b); }

// Scatter-add: out[index[i]] += values[i], the atomicAdd kernel.
//
// out has `size` elements and starts at zero (the wrapper allocates it); index holds
// values in [0, size), checked by the wrapper before the launch.
// scalar_t is float or double (the launcher builds this file once for each).

// scatter_add:
//     out[index[i]] += values[i]   for every i in [0, total)
// One thread per value: thread i = blockIdx.x * blockDim.x + threadIdx.x adds values[i].
// Several threads may add to the same out element at once (repeated indices), so the
// read-add-write must be one indivisible atomicAdd; a plain `out[j] += v` would lose
// updates. The order of the additions is not fixed, so float results may differ in
// the last bits from run to run (use a gather where a deterministic result matters).
extern "C" __global__ void scatter_add(const long long* __restrict__ index, const scalar_t* __restrict__ values,
                                       scalar_t* __restrict__ out, long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    atomicAdd(&out[index[i]], values[i]);
}

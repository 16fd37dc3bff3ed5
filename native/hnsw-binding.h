// Node-API face of HnswGraph: the class `HnswGraph`, the one object type that crosses the
// boundary. Everything else in and out is typed arrays and numbers; src/native.ts checks shapes
// first, and these bindings re-check so that a direct call cannot read or write out of bounds.
#pragma once

#include <napi.h>

namespace quiver {

// Adds the HnswGraph class to `exports`.
//   new HnswGraph(space 0 l2 | 1 ip | 2 cosine, dim, kernels, loop
//                 [, lows Float32Array, highs Float32Array [, format 1 | 2]])   (int8: ranges)
//   init(maxElements, m, efConstruction, seed)            resize(maxElements)
//   addBatch(vectors Float32Array, labels Uint32Array, threads)
//   addBatchAsync(...same) → Promise<undefined>           markDelete(label)
//   searchBatch(queries Float32Array, k, ef, threads, allow Uint8Array | Uint32Array | null,
//               labels Uint32Array, distances Float32Array)
//   searchBatchAsync(...same) → Promise<undefined>
//   save(path)   load(path)   loadAsync(path) → Promise<undefined>
//   storedDistances(first Uint32Array, second Uint32Array, out Float32Array)
//   labels() → Uint32Array   currentCount()   maxElements()   dispose()
// The async variants run on libuv's thread pool (and from there on the native pool) and hold
// references to their typed arrays until they settle; the arrays must not be transferred or
// detached meanwhile.
void RegisterHnswGraph(Napi::Env env, Napi::Object exports);

}  // namespace quiver

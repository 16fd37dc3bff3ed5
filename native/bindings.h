// Node-API entry points of the addon: unwrap typed arrays and numbers, re-check shapes so that a
// direct call can never read or write out of bounds, then call the kernels of kernels.h.
#pragma once

#include <napi.h>

namespace quiver {

// distances(metric, queries, base, dim, out)
Napi::Value DistancesBinding(const Napi::CallbackInfo& info);
// exactTopK(metric, queries, base, dim, k, candidates | null, labels, distances, threads)
Napi::Value ExactTopKBinding(const Napi::CallbackInfo& info);
// kmeansAssign(metric, points, centroids, dim, assignments, distances)
Napi::Value KMeansAssignBinding(const Napi::CallbackInfo& info);
// adcTopK(tables, codes, m, k, candidates | null, labels, distances)
Napi::Value AdcTopKBinding(const Napi::CallbackInfo& info);
// crc32(bytes, previous, portable): the CRC-32 of bytes continuing previous; portable true takes the
// table loop alone (the reference of the folded path).
Napi::Value Crc32Binding(const Napi::CallbackInfo& info);
// readVectorSlots(fd, headerBytes, dim, labels, out, ok): the float-vector slots of labels read from
// an open file (vector-slots.h); returns how many were read whole and checked.
Napi::Value ReadVectorSlotsBinding(const Napi::CallbackInfo& info);

}  // namespace quiver

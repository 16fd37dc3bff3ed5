// Registers the quiver_native addon's functions; the code lives in bindings.cc and the kernels.
#include <napi.h>

#include "bindings.h"
#include "hnsw-binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("distances", Napi::Function::New(env, quiver::DistancesBinding, "distances"));
  exports.Set("exactTopK", Napi::Function::New(env, quiver::ExactTopKBinding, "exactTopK"));
  exports.Set("kmeansAssign", Napi::Function::New(env, quiver::KMeansAssignBinding, "kmeansAssign"));
  exports.Set("adcTopK", Napi::Function::New(env, quiver::AdcTopKBinding, "adcTopK"));
  exports.Set("crc32", Napi::Function::New(env, quiver::Crc32Binding, "crc32"));
  exports.Set("readVectorSlots", Napi::Function::New(env, quiver::ReadVectorSlotsBinding, "readVectorSlots"));
  quiver::RegisterHnswGraph(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(quiver_native, Init)

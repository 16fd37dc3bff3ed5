// The HnswGraph Node-API class and its promise workers. No C++ exception crosses into Node-API:
// every call into HnswGraph is wrapped, and failures become JavaScript errors (sync) or rejected
// promises (async). The graph is held by shared_ptr so a pending worker keeps it alive.
#include "hnsw-binding.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hnsw-graph.h"
#include "napi-args.h"
#include "scalar-quantiser.h"

namespace quiver {
namespace {

constexpr double kMaxInteger = 2147483647.0;  // counts, k, ef, threads: int32 range

// Runs `work` on libuv's thread pool and settles a promise with its outcome. `keep` holds the
// JavaScript values (typed arrays, the graph object) whose memory `work` uses until it settles.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::function<void()> work, const std::vector<Napi::Value>& keep)
      : Napi::AsyncWorker(env, "quiverHnsw"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {
    for (const Napi::Value& value : keep) kept_.push_back(Napi::Persistent(value.As<Napi::Object>()));
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      work_();
    } catch (const std::exception& failure) {
      SetError(failure.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::vector<Napi::ObjectReference> kept_;
};

// The unpacked arguments of addBatch / addBatchAsync.
struct AddArguments {
  View<float> vectors;
  View<std::uint32_t> labels;
  std::size_t count = 0;
  std::size_t threads = 1;
};

// The unpacked arguments of searchBatch / searchBatchAsync.
struct SearchArguments {
  View<float> queries;
  std::size_t count = 0;
  std::size_t k = 0;
  std::size_t ef = 0;
  std::size_t threads = 1;
  AllowList allow;
  View<std::uint32_t> labels;
  View<float> distances;
};

class HnswGraphWrap : public Napi::ObjectWrap<HnswGraphWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports) {
    Napi::Function constructor = DefineClass(env, "HnswGraph",
                                             {
                                                 InstanceMethod("init", &HnswGraphWrap::Init),
                                                 InstanceMethod("resize", &HnswGraphWrap::Resize),
                                                 InstanceMethod("addBatch", &HnswGraphWrap::AddBatch),
                                                 InstanceMethod("addBatchAsync", &HnswGraphWrap::AddBatchAsync),
                                                 InstanceMethod("markDelete", &HnswGraphWrap::MarkDelete),
                                                 InstanceMethod("searchBatch", &HnswGraphWrap::SearchBatch),
                                                 InstanceMethod("searchBatchAsync", &HnswGraphWrap::SearchBatchAsync),
                                                 InstanceMethod("save", &HnswGraphWrap::Save),
                                                 InstanceMethod("load", &HnswGraphWrap::Load),
                                                 InstanceMethod("loadAsync", &HnswGraphWrap::LoadAsync),
                                                 InstanceMethod("loadRange", &HnswGraphWrap::LoadRange),
                                                 InstanceMethod("loadRangeAsync", &HnswGraphWrap::LoadRangeAsync),
                                                 InstanceMethod("fillVectors", &HnswGraphWrap::FillVectors),
                                                 InstanceMethod("finishFill", &HnswGraphWrap::FinishFill),
                                                 InstanceMethod("exactAmong", &HnswGraphWrap::ExactAmong),
                                                 InstanceMethod("readVectors", &HnswGraphWrap::ReadVectors),
                                                 InstanceMethod("storedDistances", &HnswGraphWrap::StoredDistances),
                                                 InstanceMethod("labels", &HnswGraphWrap::Labels),
                                                 InstanceMethod("currentCount", &HnswGraphWrap::CurrentCount),
                                                 InstanceMethod("maxElements", &HnswGraphWrap::MaxElements),
                                                 InstanceMethod("dispose", &HnswGraphWrap::Dispose),
                                             });
    exports.Set("HnswGraph", constructor);
  }

  explicit HnswGraphWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HnswGraphWrap>(info) {
    double space = 0;
    double dim = 0;
    double kernels = 0;
    double loop = 0;
    if (!HasArguments(info, 4) || !IntegerArgument(info, 0, "space", 0, 2, &space) ||
        !IntegerArgument(info, 1, "dim", 1, kMaxInteger, &dim) ||
        !IntegerArgument(info, 2, "kernels", 0, 1, &kernels) || !IntegerArgument(info, 3, "loop", 0, 1, &loop)) {
      return;
    }
    const auto space_kind = static_cast<HnswSpace>(static_cast<int>(space));
    const auto kernel_kind = static_cast<HnswKernels>(static_cast<int>(kernels));
    const auto loop_kind = static_cast<HnswSearchLoop>(static_cast<int>(loop));
    if (info.Length() < 6) {
      graph_ = std::make_shared<HnswGraph>(space_kind, static_cast<std::size_t>(dim), kernel_kind, loop_kind);
      return;
    }
    // An int8 graph: the per-dimension ranges, lows then highs (scalar-quantiser.h).
    const View<float> lows = TypedArrayArgument<float>(info, 4, napi_float32_array, "lows", "Float32Array");
    if (!lows.ok) return;
    const View<float> highs = TypedArrayArgument<float>(info, 5, napi_float32_array, "highs", "Float32Array");
    if (!highs.ok) return;
    if (lows.length != static_cast<std::size_t>(dim) || highs.length != lows.length) {
      Fail(info.Env(), "lows and highs must hold dim numbers each", true);
      return;
    }
    // Optionally the ranges block's format version the graph's files were written under (1 or 2).
    double format = 2;
    if (info.Length() > 6 && !IntegerArgument(info, 6, "format", 1, 2, &format)) return;
    try {
      auto quantiser = std::make_unique<const ScalarQuantiser>(lows.length, lows.data, highs.data);
      graph_ = std::make_shared<HnswGraph>(space_kind, lows.length, kernel_kind, loop_kind, std::move(quantiser),
                                           format < 2);
    } catch (const std::exception& failure) {
      Napi::Error::New(info.Env(), failure.what()).ThrowAsJavaScriptException();
    }
  }

 private:
  // Runs a synchronous graph call, turning a C++ exception into a JavaScript Error.
  Napi::Value Guard(const Napi::Env& env, const std::function<Napi::Value()>& call) {
    if (!graph_) {
      Napi::Error::New(env, "the HNSW graph was not constructed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    try {
      return call();
    } catch (const std::exception& failure) {
      Napi::Error::New(env, failure.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  Napi::Value Init(const Napi::CallbackInfo& info) {
    double max_elements = 0, m = 0, ef_construction = 0, seed = 0;
    if (!HasArguments(info, 4) || !IntegerArgument(info, 0, "maxElements", 1, kMaxInteger, &max_elements) ||
        !IntegerArgument(info, 1, "m", 2, 10000, &m) ||
        !IntegerArgument(info, 2, "efConstruction", 1, kMaxInteger, &ef_construction) ||
        !IntegerArgument(info, 3, "seed", 0, 4294967295.0, &seed)) {
      return info.Env().Undefined();
    }
    return Guard(info.Env(), [&] {
      graph_->Init(static_cast<std::size_t>(max_elements), static_cast<std::size_t>(m),
                   static_cast<std::size_t>(ef_construction), static_cast<std::size_t>(seed));
      return info.Env().Undefined();
    });
  }

  Napi::Value Resize(const Napi::CallbackInfo& info) {
    double max_elements = 0;
    if (!HasArguments(info, 1) || !IntegerArgument(info, 0, "maxElements", 1, 4294967295.0, &max_elements)) {
      return info.Env().Undefined();
    }
    return Guard(info.Env(), [&] {
      graph_->Resize(static_cast<std::size_t>(max_elements));
      return info.Env().Undefined();
    });
  }

  bool UnpackAdd(const Napi::CallbackInfo& info, AddArguments* out) {
    const Napi::Env env = info.Env();
    double threads = 0;
    if (!HasArguments(info, 3) || !graph_) return false;
    out->vectors = TypedArrayArgument<float>(info, 0, napi_float32_array, "vectors", "Float32Array");
    if (!out->vectors.ok) return false;
    out->labels = TypedArrayArgument<std::uint32_t>(info, 1, napi_uint32_array, "labels", "Uint32Array");
    if (!out->labels.ok || !IntegerArgument(info, 2, "threads", 1, kMaxInteger, &threads)) return false;
    const std::size_t dim = graph_->dim();
    if (out->vectors.length % dim != 0 || out->vectors.length / dim != out->labels.length) {
      Fail(env, "vectors must hold labels.length rows of dim numbers", true);
      return false;
    }
    for (std::size_t row = 0; row < out->labels.length; row++) {
      if (out->labels.data[row] == kNoLabel) {
        Fail(env, "label 4294967295 is reserved for empty result slots", true);
        return false;
      }
    }
    out->count = out->labels.length;
    out->threads = std::min(static_cast<std::size_t>(threads), kMaxThreads);
    return true;
  }

  Napi::Value AddBatch(const Napi::CallbackInfo& info) {
    AddArguments args;
    if (!UnpackAdd(info, &args)) return info.Env().Undefined();
    return Guard(info.Env(), [&] {
      graph_->AddBatch(args.vectors.data, args.labels.data, args.count, args.threads);
      return info.Env().Undefined();
    });
  }

  Napi::Value AddBatchAsync(const Napi::CallbackInfo& info) {
    AddArguments args;
    if (!UnpackAdd(info, &args)) return info.Env().Undefined();
    std::shared_ptr<HnswGraph> graph = graph_;
    auto* worker = new PromiseWorker(
        info.Env(), [graph, args] { graph->AddBatch(args.vectors.data, args.labels.data, args.count, args.threads); },
        {info[0], info[1], info.This()});
    worker->Queue();
    return worker->Promise();
  }

  Napi::Value MarkDelete(const Napi::CallbackInfo& info) {
    double label = 0;
    if (!HasArguments(info, 1) || !IntegerArgument(info, 0, "label", 0, 4294967294.0, &label)) return info.Env().Undefined();
    return Guard(info.Env(), [&] {
      graph_->MarkDelete(static_cast<std::uint32_t>(label));
      return info.Env().Undefined();
    });
  }

  bool UnpackSearch(const Napi::CallbackInfo& info, SearchArguments* out) {
    const Napi::Env env = info.Env();
    double k = 0, ef = 0, threads = 0;
    if (!HasArguments(info, 7) || !graph_) return false;
    out->queries = TypedArrayArgument<float>(info, 0, napi_float32_array, "queries", "Float32Array");
    if (!out->queries.ok || !IntegerArgument(info, 1, "k", 1, kMaxInteger, &k) ||
        !IntegerArgument(info, 2, "ef", 1, kMaxInteger, &ef) ||
        !IntegerArgument(info, 3, "threads", 1, kMaxInteger, &threads)) {
      return false;
    }
    const Napi::Value allow = info[4];
    if (!allow.IsNull() && !allow.IsUndefined()) {
      const bool bytes = allow.IsTypedArray() && allow.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
      const bool words = allow.IsTypedArray() && allow.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array;
      if (!bytes && !words) {
        Fail(env, "allow must be a Uint8Array, a Uint32Array or null");
        return false;
      }
      Napi::TypedArray array = allow.As<Napi::TypedArray>();
      out->allow.elements = static_cast<std::uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
      out->allow.element_count = array.ElementLength();
      out->allow.bits = bytes ? 8 : 32;
    }
    out->labels = TypedArrayArgument<std::uint32_t>(info, 5, napi_uint32_array, "labels", "Uint32Array");
    if (!out->labels.ok) return false;
    out->distances = TypedArrayArgument<float>(info, 6, napi_float32_array, "distances", "Float32Array");
    if (!out->distances.ok) return false;
    const std::size_t dim = graph_->dim();
    if (out->queries.length % dim != 0) {
      Fail(env, "queries length is not a multiple of dim", true);
      return false;
    }
    out->count = out->queries.length / dim;
    out->k = static_cast<std::size_t>(k);
    out->ef = static_cast<std::size_t>(ef);
    out->threads = std::min(static_cast<std::size_t>(threads), kMaxThreads);
    if (out->labels.length < out->count * out->k || out->distances.length < out->count * out->k) {
      Fail(env, "labels and distances must hold queries x k entries", true);
      return false;
    }
    return true;
  }

  Napi::Value SearchBatch(const Napi::CallbackInfo& info) {
    SearchArguments args;
    if (!UnpackSearch(info, &args)) return info.Env().Undefined();
    return Guard(info.Env(), [&] {
      graph_->SearchBatch(args.queries.data, args.count, args.k, args.ef, args.threads, args.allow, args.labels.data,
                          args.distances.data);
      return info.Env().Undefined();
    });
  }

  Napi::Value SearchBatchAsync(const Napi::CallbackInfo& info) {
    SearchArguments args;
    if (!UnpackSearch(info, &args)) return info.Env().Undefined();
    std::vector<Napi::Value> keep{info[0], info[5], info[6], info.This()};
    if (args.allow.elements != nullptr) keep.push_back(info[4]);
    std::shared_ptr<HnswGraph> graph = graph_;
    auto* worker = new PromiseWorker(
        info.Env(),
        [graph, args] {
          graph->SearchBatch(args.queries.data, args.count, args.k, args.ef, args.threads, args.allow, args.labels.data,
                             args.distances.data);
        },
        keep);
    worker->Queue();
    return worker->Promise();
  }

  bool PathArgument(const Napi::CallbackInfo& info, std::string* path) {
    if (!HasArguments(info, 1)) return false;
    if (!info[0].IsString()) {
      Fail(info.Env(), "path must be a string");
      return false;
    }
    *path = info[0].As<Napi::String>().Utf8Value();
    return true;
  }

  // save(path, withoutVectors?): hnswlib's file, or the graph without its live vectors (hnsw-file.h).
  Napi::Value Save(const Napi::CallbackInfo& info) {
    std::string path;
    if (!PathArgument(info, &path)) return info.Env().Undefined();
    const bool without_vectors = info.Length() > 1 && info[1].ToBoolean().Value();
    return Guard(info.Env(), [&] {
      graph_->Save(path, !without_vectors);
      return info.Env().Undefined();
    });
  }

  Napi::Value Load(const Napi::CallbackInfo& info) {
    std::string path;
    if (!PathArgument(info, &path)) return info.Env().Undefined();
    return Guard(info.Env(), [&] {
      graph_->Load(path);
      return info.Env().Undefined();
    });
  }

  Napi::Value LoadAsync(const Napi::CallbackInfo& info) {
    std::string path;
    if (!PathArgument(info, &path) || !graph_) return info.Env().Undefined();
    std::shared_ptr<HnswGraph> graph = graph_;
    auto* worker = new PromiseWorker(info.Env(), [graph, path] { graph->Load(path); }, {info.This()});
    worker->Queue();
    return worker->Promise();
  }

  // loadRange(path, offset, length, crcSeed, crcExpected, withoutVectors?): the graph in bytes
  // [offset, offset + length) of a snapshot file, checksummed as it is read (hnsw-file.h,
  // ReadGraphRange); with withoutVectors, the graph awaits its live vectors (fillVectors, finishFill).
  bool RangeArguments(const Napi::CallbackInfo& info, std::string* path, GraphRange* range, bool* without_vectors) {
    double offset = 0, length = 0, seed = 0, expected = 0;
    constexpr double kMaxOffset = 9007199254740991.0;  // 2^53 - 1: exact in a JavaScript number
    if (!PathArgument(info, path) || !HasArguments(info, 5) || !IntegerArgument(info, 1, "offset", 0, kMaxOffset, &offset) ||
        !IntegerArgument(info, 2, "length", 0, kMaxOffset, &length) ||
        !IntegerArgument(info, 3, "crcSeed", 0, 4294967295.0, &seed) ||
        !IntegerArgument(info, 4, "crcExpected", 0, 4294967295.0, &expected)) {
      return false;
    }
    range->offset = static_cast<std::uint64_t>(offset);
    range->length = static_cast<std::uint64_t>(length);
    range->crc_seed = static_cast<std::uint32_t>(seed);
    range->crc_expected = static_cast<std::uint32_t>(expected);
    *without_vectors = info.Length() > 5 && info[5].ToBoolean().Value();
    return true;
  }

  Napi::Value LoadRange(const Napi::CallbackInfo& info) {
    std::string path;
    GraphRange range;
    bool without_vectors = false;
    if (!RangeArguments(info, &path, &range, &without_vectors)) return info.Env().Undefined();
    return Guard(info.Env(), [&] {
      graph_->LoadRange(path, range, without_vectors);
      return info.Env().Undefined();
    });
  }

  Napi::Value LoadRangeAsync(const Napi::CallbackInfo& info) {
    std::string path;
    GraphRange range;
    bool without_vectors = false;
    if (!RangeArguments(info, &path, &range, &without_vectors) || !graph_) return info.Env().Undefined();
    std::shared_ptr<HnswGraph> graph = graph_;
    auto* worker = new PromiseWorker(
        info.Env(), [graph, path, range, without_vectors] { graph->LoadRange(path, range, without_vectors); },
        {info.This()});
    worker->Queue();
    return worker->Promise();
  }

  // exactAmong(query: Float32Array, labels: Uint32Array, k, outLabels: Uint32Array,
  // outDistances: Float32Array, threads): shapes are checked in TypeScript and again here.
  Napi::Value ExactAmong(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    double k = 0, threads = 0;
    if (!graph_) return Guard(env, [&] { return env.Undefined(); });  // throws: not constructed
    if (!HasArguments(info, 6)) return env.Undefined();
    const View<float> query = TypedArrayArgument<float>(info, 0, napi_float32_array, "query", "Float32Array");
    if (!query.ok) return env.Undefined();
    const View<std::uint32_t> labels = TypedArrayArgument<std::uint32_t>(info, 1, napi_uint32_array, "labels", "Uint32Array");
    if (!labels.ok || !IntegerArgument(info, 2, "k", 1, kMaxInteger, &k)) return env.Undefined();
    const View<std::uint32_t> out_labels =
        TypedArrayArgument<std::uint32_t>(info, 3, napi_uint32_array, "outLabels", "Uint32Array");
    if (!out_labels.ok) return env.Undefined();
    const View<float> out_distances = TypedArrayArgument<float>(info, 4, napi_float32_array, "outDistances", "Float32Array");
    if (!out_distances.ok || !IntegerArgument(info, 5, "threads", 1, kMaxInteger, &threads)) return env.Undefined();
    const std::size_t wanted = static_cast<std::size_t>(k);
    if (query.length != graph_->dim() || out_labels.length < wanted || out_distances.length < wanted) {
      Fail(env, "exactAmong: query must hold dim numbers and the outputs k each", true);
      return env.Undefined();
    }
    return Guard(env, [&] {
      graph_->ExactAmong(query.data, labels.data, labels.length, wanted,
                         std::min(static_cast<std::size_t>(threads), kMaxThreads), out_labels.data, out_distances.data);
      return env.Undefined();
    });
  }

  // readVectors(labels: Uint32Array, out: Float32Array): shapes are checked in TypeScript and
  // again here, so a direct call cannot write out of bounds.
  Napi::Value ReadVectors(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      if (info.Length() != 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) {
        throw std::invalid_argument("readVectors(labels: Uint32Array, out: Float32Array)");
      }
      Napi::Uint32Array labels = info[0].As<Napi::Uint32Array>();
      Napi::Float32Array out = info[1].As<Napi::Float32Array>();
      if (out.ElementLength() < labels.ElementLength() * graph_->dim()) {
        throw std::invalid_argument("readVectors: out holds fewer than labels.length * dim numbers");
      }
      graph_->ReadVectors(labels.Data(), labels.ElementLength(), out.Data());
      return info.Env().Undefined();
    });
  }

  // storedDistances(first: Uint32Array, second: Uint32Array, out: Float32Array): shapes are
  // checked in TypeScript and again here.
  Napi::Value StoredDistances(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      const auto is = [&](std::size_t index, napi_typedarray_type type) {
        return info[index].IsTypedArray() && info[index].As<Napi::TypedArray>().TypedArrayType() == type;
      };
      if (info.Length() != 3 || !is(0, napi_uint32_array) || !is(1, napi_uint32_array) || !is(2, napi_float32_array)) {
        throw std::invalid_argument("storedDistances(first: Uint32Array, second: Uint32Array, out: Float32Array)");
      }
      Napi::Uint32Array first = info[0].As<Napi::Uint32Array>();
      Napi::Uint32Array second = info[1].As<Napi::Uint32Array>();
      Napi::Float32Array out = info[2].As<Napi::Float32Array>();
      if (second.ElementLength() != first.ElementLength() || out.ElementLength() < first.ElementLength()) {
        throw std::invalid_argument("storedDistances: first and second must be as long, and out at least as long");
      }
      graph_->StoredDistances(first.Data(), second.Data(), first.ElementLength(), out.Data());
      return info.Env().Undefined();
    });
  }

  // fillVectors(labels: Uint32Array, rows: Uint8Array of labels.length × dim float32s): the labels
  // whose rows differ from the snapshot's or that the graph does not await (HnswGraph::FillVectors).
  Napi::Value FillVectors(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      if (info.Length() != 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
          info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
          info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw std::invalid_argument("fillVectors(labels: Uint32Array, rows: Uint8Array)");
      }
      Napi::Uint32Array labels = info[0].As<Napi::Uint32Array>();
      Napi::Uint8Array rows = info[1].As<Napi::Uint8Array>();
      if (rows.ElementLength() != labels.ElementLength() * graph_->dim() * sizeof(float)) {
        throw std::invalid_argument("fillVectors: rows must hold labels.length * dim float32s");
      }
      return Uint32Result(info.Env(), graph_->FillVectors(labels.Data(), labels.ElementLength(), rows.Data()));
    });
  }

  // finishFill(): the live labels that got no row (HnswGraph::FinishFill).
  Napi::Value FinishFill(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] { return Uint32Result(info.Env(), graph_->FinishFill()); });
  }

  static Napi::Value Uint32Result(Napi::Env env, const std::vector<std::uint32_t>& values) {
    Napi::Uint32Array out = Napi::Uint32Array::New(env, values.size());
    std::copy(values.begin(), values.end(), out.Data());
    return out;
  }

  Napi::Value Labels(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      const std::vector<std::uint32_t> labels = graph_->Labels();
      Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), labels.size());
      std::copy(labels.begin(), labels.end(), out.Data());
      return static_cast<Napi::Value>(out);
    });
  }

  Napi::Value CurrentCount(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] { return Napi::Number::New(info.Env(), static_cast<double>(graph_->CurrentCount())); });
  }

  Napi::Value MaxElements(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] { return Napi::Number::New(info.Env(), static_cast<double>(graph_->MaxElements())); });
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      graph_->Dispose();
      return info.Env().Undefined();
    });
  }

  std::shared_ptr<HnswGraph> graph_;
};

}  // namespace

void RegisterHnswGraph(Napi::Env env, Napi::Object exports) { HnswGraphWrap::Register(env, exports); }

}  // namespace quiver

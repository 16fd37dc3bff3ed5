// Argument unpacking for the addon. src/native.ts validates first and reports QuiverErrors; these
// checks are a second line so that the addon stays memory-safe when called any other way. Each
// failure throws a JavaScript TypeError or RangeError and returns undefined (no C++ exceptions).
#include "bindings.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "crc32.h"
#include "kernels.h"
#include "napi-args.h"
#include "vector-slots.h"

namespace quiver {
namespace {

View<float> Float32Argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  return TypedArrayArgument<float>(info, index, napi_float32_array, name, "Float32Array");
}

View<std::int32_t> Int32Argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  return TypedArrayArgument<std::int32_t>(info, index, napi_int32_array, name, "Int32Array");
}

View<std::uint32_t> Uint32Argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  return TypedArrayArgument<std::uint32_t>(info, index, napi_uint32_array, name, "Uint32Array");
}

View<std::uint8_t> Uint8Argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  return TypedArrayArgument<std::uint8_t>(info, index, napi_uint8_array, name, "Uint8Array");
}

// A positive integer argument; 0 means failure (a JavaScript error was thrown).
std::size_t PositiveIntegerArgument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsNumber()) {
    Fail(info.Env(), std::string(name) + " must be a number");
    return 0;
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 1 && number <= 2147483647.0) || number != static_cast<double>(static_cast<std::int64_t>(number))) {
    Fail(info.Env(), std::string(name) + " must be an integer from 1 to 2^31 - 1", true);
    return 0;
  }
  return static_cast<std::size_t>(number);
}

bool MetricArgument(const Napi::CallbackInfo& info, std::size_t index, Metric* metric) {
  const Napi::Value value = info[index];
  if (!value.IsNumber()) return Fail(info.Env(), "metric must be 0 (l2) or 1 (ip)");
  const std::int32_t code = value.As<Napi::Number>().Int32Value();
  if (code != 0 && code != 1) return Fail(info.Env(), "metric must be 0 (l2) or 1 (ip)", true);
  *metric = static_cast<Metric>(code);
  return true;
}

// Row count of a matrix of `width` columns held in `length` elements; false when not whole rows.
bool RowCount(const Napi::Env& env, std::size_t length, std::size_t width, const char* name, std::size_t* rows) {
  if (length % width != 0) return Fail(env, std::string(name) + " length is not a multiple of its row width", true);
  *rows = length / width;
  return true;
}

// Optional candidate row list (null or undefined means every row); every index must be a row.
bool CandidatesArgument(const Napi::CallbackInfo& info, std::size_t index, std::size_t row_count,
                        RowSelection* candidates) {
  const Napi::Value value = info[index];
  if (value.IsNull() || value.IsUndefined()) {
    *candidates = RowSelection{};
    return true;
  }
  const View<std::int32_t> list = Int32Argument(info, index, "candidates");
  if (!list.ok) return false;
  *candidates = RowSelection{true, list.data, list.length};
  for (std::size_t position = 0; position < list.length; ++position) {
    const std::int32_t row = list.data[position];
    if (row < 0 || static_cast<std::size_t>(row) >= row_count) {
      return Fail(info.Env(), "candidates[" + std::to_string(position) + "] is not a row index", true);
    }
  }
  return true;
}


}  // namespace

Napi::Value DistancesBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Metric metric;
  if (!HasArguments(info, 5) || !MetricArgument(info, 0, &metric)) return env.Undefined();
  const View<float> queries = Float32Argument(info, 1, "queries");
  if (!queries.ok) return env.Undefined();
  const View<float> base = Float32Argument(info, 2, "base");
  if (!base.ok) return env.Undefined();
  const std::size_t dim = PositiveIntegerArgument(info, 3, "dim");
  if (dim == 0) return env.Undefined();
  const View<float> out = Float32Argument(info, 4, "out");
  if (!out.ok) return env.Undefined();
  std::size_t query_count = 0;
  std::size_t base_count = 0;
  if (!RowCount(env, queries.length, dim, "queries", &query_count) ||
      !RowCount(env, base.length, dim, "base", &base_count)) {
    return env.Undefined();
  }
  if (out.length < query_count * base_count) {
    Fail(env, "out is shorter than queries x base rows", true);
    return env.Undefined();
  }
  BatchDistances(metric, queries.data, query_count, base.data, base_count, dim, out.data);
  return env.Undefined();
}

Napi::Value ExactTopKBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Metric metric;
  if (!HasArguments(info, 9) || !MetricArgument(info, 0, &metric)) return env.Undefined();
  const View<float> queries = Float32Argument(info, 1, "queries");
  if (!queries.ok) return env.Undefined();
  const View<float> base = Float32Argument(info, 2, "base");
  if (!base.ok) return env.Undefined();
  const std::size_t dim = PositiveIntegerArgument(info, 3, "dim");
  if (dim == 0) return env.Undefined();
  const std::size_t k = PositiveIntegerArgument(info, 4, "k");
  if (k == 0) return env.Undefined();
  const std::size_t threads = PositiveIntegerArgument(info, 8, "threads");
  if (threads == 0) return env.Undefined();
  std::size_t query_count = 0;
  std::size_t base_count = 0;
  if (!RowCount(env, queries.length, dim, "queries", &query_count) ||
      !RowCount(env, base.length, dim, "base", &base_count)) {
    return env.Undefined();
  }
  if (base_count > 2147483647u) {
    Fail(env, "base has more rows than an Int32Array label can name", true);
    return env.Undefined();
  }
  RowSelection candidates;
  if (!CandidatesArgument(info, 5, base_count, &candidates)) return env.Undefined();
  const View<std::int32_t> labels = Int32Argument(info, 6, "labels");
  if (!labels.ok) return env.Undefined();
  const View<float> distances = Float32Argument(info, 7, "distances");
  if (!distances.ok) return env.Undefined();
  if (labels.length < query_count * k || distances.length < query_count * k) {
    Fail(env, "labels and distances must hold queries x k entries", true);
    return env.Undefined();
  }
  ExactTopK(metric, queries.data, query_count, base.data, base_count, dim, k, candidates, std::min(threads, kMaxThreads),
            labels.data, distances.data);
  return env.Undefined();
}

Napi::Value KMeansAssignBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Metric metric;
  if (!HasArguments(info, 6) || !MetricArgument(info, 0, &metric)) return env.Undefined();
  const View<float> points = Float32Argument(info, 1, "points");
  if (!points.ok) return env.Undefined();
  const View<float> centroids = Float32Argument(info, 2, "centroids");
  if (!centroids.ok) return env.Undefined();
  const std::size_t dim = PositiveIntegerArgument(info, 3, "dim");
  if (dim == 0) return env.Undefined();
  const View<std::int32_t> assignments = Int32Argument(info, 4, "assignments");
  if (!assignments.ok) return env.Undefined();
  const View<float> distances = Float32Argument(info, 5, "distances");
  if (!distances.ok) return env.Undefined();
  std::size_t point_count = 0;
  std::size_t centroid_count = 0;
  if (!RowCount(env, points.length, dim, "points", &point_count) ||
      !RowCount(env, centroids.length, dim, "centroids", &centroid_count)) {
    return env.Undefined();
  }
  if (centroid_count == 0 || centroid_count > 2147483647u) {
    Fail(env, "centroids must hold from 1 to 2^31 - 1 rows", true);
    return env.Undefined();
  }
  if (assignments.length < point_count || distances.length < point_count) {
    Fail(env, "assignments and distances must hold one entry per point", true);
    return env.Undefined();
  }
  KMeansAssign(metric, points.data, point_count, centroids.data, centroid_count, dim, assignments.data,
               distances.data);
  return env.Undefined();
}

Napi::Value AdcTopKBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!HasArguments(info, 7)) return env.Undefined();
  const View<float> tables = Float32Argument(info, 0, "tables");
  if (!tables.ok) return env.Undefined();
  const View<std::uint8_t> codes = Uint8Argument(info, 1, "codes");
  if (!codes.ok) return env.Undefined();
  const std::size_t m = PositiveIntegerArgument(info, 2, "m");
  if (m == 0) return env.Undefined();
  const std::size_t k = PositiveIntegerArgument(info, 3, "k");
  if (k == 0) return env.Undefined();
  std::size_t query_count = 0;
  std::size_t code_count = 0;
  if (!RowCount(env, tables.length, m * kAdcTableWidth, "tables", &query_count) ||
      !RowCount(env, codes.length, m, "codes", &code_count)) {
    return env.Undefined();
  }
  if (code_count > 2147483647u) {
    Fail(env, "codes has more rows than an Int32Array label can name", true);
    return env.Undefined();
  }
  RowSelection candidates;
  if (!CandidatesArgument(info, 4, code_count, &candidates)) return env.Undefined();
  const View<std::int32_t> labels = Int32Argument(info, 5, "labels");
  if (!labels.ok) return env.Undefined();
  const View<float> distances = Float32Argument(info, 6, "distances");
  if (!distances.ok) return env.Undefined();
  if (labels.length < query_count * k || distances.length < query_count * k) {
    Fail(env, "labels and distances must hold queries x k entries", true);
    return env.Undefined();
  }
  AdcTopK(tables.data, query_count, codes.data, code_count, m, k, candidates, labels.data, distances.data);
  return env.Undefined();
}

Napi::Value Crc32Binding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!HasArguments(info, 3)) return env.Undefined();
  const View<std::uint8_t> bytes = Uint8Argument(info, 0, "bytes");
  if (!bytes.ok) return env.Undefined();
  double previous = 0;
  if (!IntegerArgument(info, 1, "previous", 0, 4294967295.0, &previous)) return env.Undefined();
  const auto seed = static_cast<std::uint32_t>(previous);
  const std::uint32_t crc = info[2].ToBoolean().Value() ? Crc32Portable(bytes.data, bytes.length, seed)
                                                        : Crc32(bytes.data, bytes.length, seed);
  return Napi::Number::New(env, static_cast<double>(crc));
}

Napi::Value ReadVectorSlotsBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!HasArguments(info, 6)) return env.Undefined();
  double fd = 0;
  double header_bytes = 0;
  if (!IntegerArgument(info, 0, "fd", 0, 2147483647.0, &fd)) return env.Undefined();
  if (!IntegerArgument(info, 1, "headerBytes", 0, 9007199254740991.0, &header_bytes)) return env.Undefined();
  const std::size_t dim = PositiveIntegerArgument(info, 2, "dim");
  if (dim == 0) return env.Undefined();
  const View<std::uint32_t> labels = Uint32Argument(info, 3, "labels");
  if (!labels.ok) return env.Undefined();
  const View<float> out = Float32Argument(info, 4, "out");
  if (!out.ok) return env.Undefined();
  const View<std::uint8_t> ok = Uint8Argument(info, 5, "ok");
  if (!ok.ok) return env.Undefined();
  if (out.length / dim < labels.length || ok.length < labels.length) {
    Fail(env, "out must hold labels x dim floats and ok one byte per label", true);
    return env.Undefined();
  }
  const std::size_t read = ReadVectorSlots(static_cast<int>(fd), static_cast<std::uint64_t>(header_bytes), dim,
                                           labels.data, labels.length, out.data, ok.data);
  return Napi::Number::New(env, static_cast<double>(read));
}

}  // namespace quiver

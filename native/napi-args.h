// Node-API argument unpacking shared by the addon's bindings (bindings.cc, hnsw-binding.cc): typed
// array views, integers in a range, the argument count. Each failure throws a JavaScript TypeError
// or RangeError and reports false (or a view with ok false); no C++ exception is thrown.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace quiver {

// Most threads one call uses (src/native.ts MAX_THREADS).
constexpr std::size_t kMaxThreads = 256;

// A typed array's element pointer and length; ok is false after a JavaScript error was thrown.
template <typename T>
struct View {
  T* data = nullptr;
  std::size_t length = 0;
  bool ok = false;
};

// Throws a TypeError (or with `range` a RangeError) with `message`; returns false.
inline bool Fail(const Napi::Env& env, const std::string& message, bool range = false) {
  if (range) {
    Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  } else {
    Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  }
  return false;
}

// Argument `index` as a typed array of `type` (named `type_name` in the error), viewed in place.
template <typename T>
View<T> TypedArrayArgument(const Napi::CallbackInfo& info, std::size_t index, napi_typedarray_type type,
                           const char* name, const char* type_name) {
  View<T> view;
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    Fail(info.Env(), std::string(name) + " must be a " + type_name);
    return view;
  }
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  view.data = reinterpret_cast<T*>(static_cast<std::uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
  view.length = array.ElementLength();
  view.ok = true;
  return view;
}

// Argument `index` as an integer in [minimum, maximum] into *out.
inline bool IntegerArgument(const Napi::CallbackInfo& info, std::size_t index, const char* name, double minimum,
                            double maximum, double* out) {
  const Napi::Value value = info[index];
  if (!value.IsNumber()) return Fail(info.Env(), std::string(name) + " must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= minimum && number <= maximum) || number != static_cast<double>(static_cast<std::int64_t>(number))) {
    return Fail(info.Env(),
                std::string(name) + " must be an integer from " + std::to_string(static_cast<std::int64_t>(minimum)) +
                    " to " + std::to_string(static_cast<std::int64_t>(maximum)),
                true);
  }
  *out = number;
  return true;
}

// At least `count` arguments.
inline bool HasArguments(const Napi::CallbackInfo& info, std::size_t count) {
  if (info.Length() >= count) return true;
  return Fail(info.Env(), "expected " + std::to_string(count) + " arguments");
}

}  // namespace quiver

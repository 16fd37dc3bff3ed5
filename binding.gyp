# The quiver_native Node-API addon (native/), QuiverDB's own sources only. Portable flags only: -O3
# lets the compiler vectorise the plain loops for the baseline instruction set; no -march / -mavx,
# so the binary built by `npm install` runs on any CPU of its architecture. The HNSW graph
# (native/hnsw-*) reports errors by C++ exceptions, caught at the Node-API boundary, so exceptions
# are on for this target (Node-API itself stays exception-free: NAPI_DISABLE_CPP_EXCEPTIONS).
{
  "targets": [
    {
      "target_name": "quiver_native",
      "sources": [
        "native/addon.cc",
        "native/bindings.cc",
        "native/exact-scan.cc",
        "native/exact-scan-avx2.cc",
        "native/kmeans-assign.cc",
        "native/adc-scan.cc",
        "native/crc32.cc",
        "native/vector-slots.cc",
        "native/thread-pool.cc",
        "native/hnsw-space.cc",
        "native/scalar-quantiser.cc",
        "native/hnsw-store.cc",
        "native/hnsw-search.cc",
        "native/hnsw-insert.cc",
        "native/hnsw-file.cc",
        "native/hnsw-graph.cc",
        "native/hnsw-binding.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags": ["-O3"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      },
      "msvs_settings": {
        "VCCLCompilerTool": {
          "Optimization": 2,
          "ExceptionHandling": 1,
          "AdditionalOptions": ["/std:c++17"]
        }
      }
    }
  ]
}

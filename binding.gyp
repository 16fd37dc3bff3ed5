# The quiver_native Node-API addon (native/). Portable flags only: -O3 lets the compiler vectorise
# the plain loops for the baseline instruction set; no -march / -mavx, so the binary built by
# `npm install` runs on any CPU of its architecture.
{
  "targets": [
    {
      "target_name": "quiver_native",
      "sources": [
        "native/addon.cc",
        "native/bindings.cc",
        "native/exact-scan.cc",
        "native/kmeans-assign.cc",
        "native/adc-scan.cc"
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
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      },
      "msvs_settings": {
        "VCCLCompilerTool": {
          "Optimization": 2,
          "AdditionalOptions": ["/std:c++17"]
        }
      }
    }
  ]
}

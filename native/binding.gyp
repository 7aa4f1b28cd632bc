# The deformux kernel addon. The optimised kernels are compiled three times (AVX-512, AVX2+FMA, baseline)
# into static libraries and chosen at run time (src/cpu_features.cc); never -march=native.
# The CUDA library (cuda/*.cu) is built by scripts/build-native.mjs with nvcc, outside gyp.
{
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O3", "-fPIC", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wno-maybe-uninitialized", "-Wno-unused-function"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags!": ["-fno-exceptions"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno"]
    },
    "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"] } }
  },
  "targets": [
    {
      "target_name": "dx_kernels_avx512",
      "type": "static_library",
      "sources": ["src/isa_avx512.cc"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512"] } }
        }, {
          "defines": ["DX_NO_X86=1"]
        }]
      ]
    },
    {
      "target_name": "dx_kernels_avx2",
      "type": "static_library",
      "sources": ["src/isa_avx2.cc"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2"] } }
        }, {
          "defines": ["DX_NO_X86=1"]
        }]
      ]
    },
    {
      "target_name": "dx_fused_avx512",
      "type": "static_library",
      "sources": ["src/fused_ops_avx512.cc"],
      "cflags_cc": ["-ffp-contract=off"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-ffp-contract=off"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512"] } }
        }, {
          "defines": ["DX_NO_X86=1"]
        }]
      ]
    },
    {
      "target_name": "dx_fused_avx2",
      "type": "static_library",
      "sources": ["src/fused_ops_avx2.cc"],
      "cflags_cc": ["-ffp-contract=off"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-ffp-contract=off"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2"] } }
        }, {
          "defines": ["DX_NO_X86=1"]
        }]
      ]
    },
    {
      "target_name": "deformux_native",
      "dependencies": ["dx_kernels_avx512", "dx_kernels_avx2", "dx_fused_avx512", "dx_fused_avx2"],
      "sources": [
        "src/binding.cc",
        "src/threadpool.cc",
        "src/cpu_features.cc",
        "src/reference.cc",
        "src/isa_generic.cc",
        "src/cuda_loader.cc",
        "src/fused_ops.cc",
        "src/fused_ops_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}

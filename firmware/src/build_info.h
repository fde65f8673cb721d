/* What the firmware says it is (IDENTIFY, and the MLPerf protocol's profile and tinyhil-info). */
#ifndef TH_BUILD_INFO_H
#define TH_BUILD_INFO_H

#define TH_FIRMWARE_VERSION "tinyhil-fw 0.1.0"
#ifdef TH_KERNELS_REFERENCE
#define TH_KERNELS_NAME "reference"
#else
#define TH_KERNELS_NAME "optimized"
#endif
#ifdef TH_ENGINE_TFLM
#define TH_ENGINE_NAME "tflm"
#else
#define TH_ENGINE_NAME "builtin"
#endif

#endif

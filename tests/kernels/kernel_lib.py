"""Build the engine's reference and optimized kernels into a host shared library (ctypes).

On the host the optimized kernels compile against th_dsp.h's plain-C equivalents of the DSP
intrinsics, so this checks the schemes (im2col order, tails, clipping) bit for bit; the
Cortex-M4 build with the real intrinsics is checked in QEMU by benchmarks/kernels.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np

ENGINE = Path(__file__).resolve().parents[2] / "firmware" / "engine"
SOURCES = ("ref_conv.c", "ref_dwconv.c", "ref_fc.c", "opt_conv.c", "conv_im2col.c",
           "conv_gemm_asm.c", "conv_packed.c", "opt_dwconv.c", "dwconv3x3.c", "dwconv3x3_asm.c", "dwconv_ring3.c",
           "opt_fc.c", "scratch.c", "fc_pack.c", "conv_pack.c", "conv_winograd.c")

_p8 = ctypes.POINTER(ctypes.c_int8)
_p16 = ctypes.POINTER(ctypes.c_int16)
_p32 = ctypes.POINTER(ctypes.c_int32)
_pu32 = ctypes.POINTER(ctypes.c_uint32)


class ConvParams(ctypes.Structure):
    _fields_ = [
        ("input", _p8), ("in_h", ctypes.c_int32), ("in_w", ctypes.c_int32), ("in_c", ctypes.c_int32),
        ("input_offset", ctypes.c_int32), ("filter", _p8), ("k_h", ctypes.c_int32), ("k_w", ctypes.c_int32),
        ("bias", _p32), ("output", _p8), ("out_h", ctypes.c_int32), ("out_w", ctypes.c_int32),
        ("out_c", ctypes.c_int32), ("output_offset", ctypes.c_int32),
        ("stride_h", ctypes.c_int32), ("stride_w", ctypes.c_int32),
        ("dilation_h", ctypes.c_int32), ("dilation_w", ctypes.c_int32),
        ("pad_top", ctypes.c_int32), ("pad_left", ctypes.c_int32),
        ("out_multiplier", _p32), ("out_shift", _p32),
        ("act_min", ctypes.c_int32), ("act_max", ctypes.c_int32), ("scratch", _p16), ("packed", _pu32),
        ("packed8", _pu32), ("wino", _pu32),
    ]


class DwParams(ctypes.Structure):
    _fields_ = [("conv", ConvParams), ("depth_multiplier", ctypes.c_int32)]


class FcParams(ctypes.Structure):
    _fields_ = [
        ("input", _p8), ("batches", ctypes.c_int32), ("in_n", ctypes.c_int32), ("out_n", ctypes.c_int32),
        ("input_offset", ctypes.c_int32), ("weights", _p8), ("weights_offset", ctypes.c_int32),
        ("bias", _p32), ("output", _p8), ("output_offset", ctypes.c_int32),
        ("out_multiplier", _p32), ("out_shift", _p32), ("per_channel", ctypes.c_int32),
        ("act_min", ctypes.c_int32), ("act_max", ctypes.c_int32), ("packed", _p16), ("packed8", _p8),
    ]


def build_kernel_lib(out_dir: Path) -> ctypes.CDLL:
    """Compile the kernels with host gcc and load them; raises FileNotFoundError without gcc."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise FileNotFoundError("gcc")
    lib_path = out_dir / "libthkernels.so"
    cmd = [gcc, "-O2", "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
           "-fsanitize=undefined", "-fno-sanitize-recover=all", "-I", str(ENGINE),
           *(str(ENGINE / s) for s in SOURCES), "-o", str(lib_path)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    lib = ctypes.CDLL(str(lib_path))
    for name, struct in (("conv2d", ConvParams), ("dwconv", DwParams), ("fc", FcParams)):
        for kind in ("ref", "opt"):
            fn = getattr(lib, f"th_{kind}_{name}_s8")
            fn.argtypes = [ctypes.POINTER(struct)]
            fn.restype = None
    for name, struct in (("conv2d", ConvParams), ("dwconv", DwParams)):
        fn = getattr(lib, f"th_{name}_s8_scratch_bytes")
        fn.argtypes = [ctypes.POINTER(struct)]
        fn.restype = ctypes.c_int32
    lib.th_conv_packed_words.argtypes = [ctypes.POINTER(ConvParams)]
    lib.th_conv_packed_words.restype = ctypes.c_int32
    lib.th_conv_pack.argtypes = [ctypes.POINTER(ConvParams), _pu32]
    lib.th_conv_pack.restype = None
    lib.th_conv_packed8_words.argtypes = [ctypes.POINTER(ConvParams)]
    lib.th_conv_packed8_words.restype = ctypes.c_int32
    lib.th_conv_pack8.argtypes = [ctypes.POINTER(ConvParams), _pu32]
    lib.th_conv_pack8.restype = None
    lib.th_opt_conv2d_s8_winograd.argtypes = [ctypes.POINTER(ConvParams)]
    lib.th_opt_conv2d_s8_winograd.restype = None
    lib.th_conv_wino_words.argtypes = [ctypes.POINTER(ConvParams)]
    lib.th_conv_wino_words.restype = ctypes.c_int32
    lib.th_conv_wino_pack.argtypes = [ctypes.POINTER(ConvParams), _pu32]
    lib.th_conv_wino_pack.restype = None
    lib.th_dw3_applies.argtypes = [ctypes.POINTER(DwParams)]
    lib.th_dw3_applies.restype = ctypes.c_int
    lib.th_fc_pack_s8.argtypes = [_p8, ctypes.c_int32, ctypes.c_int32, _p8]
    lib.th_fc_pack_s8.restype = None
    return lib


def ptr(array: np.ndarray | None, ctype):
    """A ctypes pointer into a numpy array (NULL for None); the caller keeps the array alive."""
    if array is None:
        return ctypes.POINTER(ctype)()
    return array.ctypes.data_as(ctypes.POINTER(ctype))

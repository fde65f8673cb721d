"""tinyhil: hardware-in-the-loop benchmarking for TinyML on Cortex-M4."""

__version__ = "0.1.0"

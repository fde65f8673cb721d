"""Cycle estimates for Cortex-M4 boards from a QEMU run: a TCG plugin (C) counts timing events, a
model built from the Cortex-M4 TRM and each board's reference manual turns them into cycles, ms, µJ."""

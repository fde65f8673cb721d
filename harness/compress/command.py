"""The `tinyhil compress` entry: one method on a model, or a whole recipe, into a directory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .methods import METHODS, RECIPES, Settings, method_table
from .params import InvalidParameterError
from .run import compress, recipe_steps

METHOD_NAMES = sorted(METHODS)
RECIPE_NAMES = sorted(RECIPES)
PARAMETERS = Settings  # its fields are the accepted keys of `params`, one CLI flag each


def compress_command(model: str | None, method: str | None, recipe: str | None, data: str, out: Path,
                     seed: int, params: dict) -> pd.DataFrame:
    """Run `method` (or every step of `recipe`) and write `out/variants.csv` plus per-variant files.

    model: a .keras/.h5 file, or None for the built-in CNN trained on `data`.
    data: 'digits' or a path to an .npz with x_train, y_train, x_test, y_test.
    params: Settings fields (sparsity, rank, clusters, alpha, temperature, epochs, io, ...);
    None values mean "default". Returns the variant table (also written as CSV).
    """
    if (method is None) == (recipe is None):
        raise InvalidParameterError("give exactly one of --method or --recipe")
    if method is not None:
        if method not in METHODS:
            raise InvalidParameterError(f"unknown method {method!r}; known: {', '.join(METHOD_NAMES)}")
        steps, keep_going = [(method, {})], False
    else:
        steps, keep_going = recipe_steps(recipe), True
    return compress(model, steps, data, Path(out), seed, dict(params), keep_going)


__all__ = ["METHOD_NAMES", "PARAMETERS", "RECIPE_NAMES", "compress_command", "method_table"]

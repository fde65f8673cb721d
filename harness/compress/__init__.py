"""Compression suite: Keras model → compressed .tflite variants with JSON sidecars and variants.csv.

Every technique is a function returning a `Candidate` (a tf_keras model + how to convert it);
`materialize` converts, evaluates and writes it. `compress_command` runs a method or a recipe.
tfmot needs tf_keras (Keras 2) models: user Keras 3 models are rebuilt in tf_keras first.
"""

from ._runtime import stdout_to_stderr
from .command import METHOD_NAMES, RECIPE_NAMES, compress_command
from .data import Dataset, load_dataset, load_digits_dataset, load_npz_dataset
from .methods import METHODS, RECIPES, Settings, method_table
from .params import InvalidParameterError, UnsupportedModelError
from .variant import COLUMNS, Candidate, VariantRecord, materialize

__all__ = [
    "COLUMNS", "METHODS", "METHOD_NAMES", "RECIPES", "RECIPE_NAMES", "Candidate", "Dataset",
    "InvalidParameterError", "Settings", "UnsupportedModelError", "VariantRecord", "compress_command",
    "load_dataset", "load_digits_dataset", "load_npz_dataset", "materialize", "method_table",
    "stdout_to_stderr",
]

"""Experiments from one TOML file: what to run (models, or a compression recipe to run first),
where (boards, targets), how (engines, kernels, data, samples), parsed once into a frozen
`Experiment` and expanded into bench configurations. A bad entry is refused naming the TOML line.

```toml
[experiment]
name = "kws-and-ic"
models = ["models/kws.tflite", "variants/"]   # files or folders of .tflite, relative to this file
boards = ["mps2_an386", "netduinoplus2"]
targets = ["qemu"]
engines = ["builtin"]
kernels = ["optimized", "reference"]
samples = 10
# data = "test.npz"; per_layer = false; protocol = "tinyhil"; timeout = 300; results = "results"; seed = 0
# place = "lab-board-3"; coordinator = "lab.example.org:20408"   # for targets = ["labgrid"]

[compress]            # optional: run a compression recipe first and add its variants to the models
recipe = "all"
data = "digits"
out = "variants"
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from harness.build.platformio import PROTOCOLS
from harness.errors import DataError, TinyhilError

EXPERIMENT_KEYS = {"name", "models", "boards", "targets", "engines", "kernels", "samples", "data", "per_layer",
                   "protocol", "timeout", "results", "seed", "place", "coordinator"}
COMPRESS_KEYS = {"recipe", "method", "model", "data", "out", "seed"}
LIST_KEYS = ("models", "boards", "targets", "engines", "kernels")


@dataclass(frozen=True)
class Compression:
    recipe: str | None
    method: str | None
    model: str | None
    data: str
    out: Path
    seed: int


@dataclass(frozen=True)
class Experiment:
    path: Path
    name: str
    models: tuple[Path, ...]
    boards: tuple[str, ...]
    targets: tuple[str, ...]
    engines: tuple[str, ...]
    kernels: tuple[str, ...]
    samples: int | None
    data: Path | None
    per_layer: bool
    protocol: str
    place: str | None  # labgrid (else LG_PLACE / LG_COORDINATOR)
    coordinator: str | None
    timeout_s: float
    results: Path
    seed: int
    compress: Compression | None


class ExperimentError(DataError):
    """A bad entry in an experiment file; the message names the file, the line and the entry."""


def _line_of(text: str, key: str, value: object = None) -> int:
    """The 1-based line where `key = ...` (holding `value`, when given) is written."""
    candidates = [i for i, line in enumerate(text.splitlines(), 1) if line.split("=", 1)[0].strip() == key]
    if value is not None:
        with_value = [i for i in candidates if repr(value).strip("'") in text.splitlines()[i - 1]]
        candidates = with_value or candidates
    if not candidates:  # a multi-line array: find the value itself
        candidates = [i for i, line in enumerate(text.splitlines(), 1) if value is not None and str(value) in line]
    return candidates[0] if candidates else 1


def load_experiment(path: Path, boards_search=None) -> Experiment:
    """The experiment in `path`, every entry checked (`boards_search`: the user's board folders,
    `Settings.boards_dirs`; default the ones the edge installed)."""
    path = Path(path)
    try:
        text = path.read_text()
        raw = tomllib.loads(text)
    except OSError as e:
        raise ExperimentError(f"cannot read experiment file {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ExperimentError(f"{path}: not valid TOML: {e}") from e

    def fail(key: str, message: str, value: object = None) -> ExperimentError:
        return ExperimentError(f"{path}:{_line_of(text, key, value)}: {key}: {message}")

    unknown_tables = set(raw) - {"experiment", "compress"}
    if unknown_tables:
        table = sorted(unknown_tables)[0]
        raise ExperimentError(f"{path}:{_line_of(text, '[' + table + ']')}: unknown table [{table}] "
                              "(expected [experiment] and optionally [compress])")
    if "experiment" not in raw:
        raise ExperimentError(f"{path}:1: no [experiment] table")
    exp = raw["experiment"]
    for key in exp:
        if key not in EXPERIMENT_KEYS:
            raise fail(key, f"unknown entry (known: {', '.join(sorted(EXPERIMENT_KEYS))})")
    base = path.parent
    compress = _compression(raw.get("compress"), base, fail)
    lists = {key: _string_list(exp, key, fail) for key in LIST_KEYS}
    if not lists["models"] and compress is None:
        raise fail("models", "no models: give .tflite files or folders, or a [compress] table")
    models = tuple(_model_path(base / m, fail, m) for m in lists["models"])
    _check_choices(lists, fail, boards_search)
    samples = exp.get("samples")
    if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
        raise fail("samples", f"must be a whole number >= 1, got {samples!r}", samples)
    timeout = exp.get("timeout", 300.0)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise fail("timeout", f"must be a number of seconds > 0, got {timeout!r}", timeout)
    data = exp.get("data")
    if data is not None and not (base / data).is_file():
        raise fail("data", f"no such file: {base / data}", data)
    per_layer = exp.get("per_layer", False)
    if not isinstance(per_layer, bool):
        raise fail("per_layer", f"must be true or false, got {per_layer!r}", per_layer)
    protocol = exp.get("protocol", "tinyhil")
    if protocol not in PROTOCOLS:
        raise fail("protocol", f"must be one of {', '.join(PROTOCOLS)}, got {protocol!r}", protocol)
    labgrid = {key: exp.get(key) for key in ("place", "coordinator")}
    for key, value in labgrid.items():
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise fail(key, f"must be a non-empty string, got {value!r}", value)
    return Experiment(
        path=path, name=str(exp.get("name", path.stem)), models=models, boards=tuple(lists["boards"] or ["mps2_an386"]),
        targets=tuple(lists["targets"] or ["qemu"]), engines=tuple(lists["engines"] or ["builtin"]),
        kernels=tuple(lists["kernels"] or ["optimized"]), samples=samples,
        data=base / data if data else None, per_layer=per_layer, protocol=protocol, **labgrid, timeout_s=float(timeout),
        results=base / exp.get("results", "results"), seed=int(exp.get("seed", 0)), compress=compress,
    )  # fmt: skip


def _string_list(table: dict, key: str, fail) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, f"must be a list of strings, got {value!r}")
    return value


def _model_path(path: Path, fail, written: str) -> Path:
    if not path.exists():
        raise fail("models", f"no such model file or folder: {path}", written)
    return path


def _check_choices(lists: dict, fail, boards_search=None) -> None:
    from harness.boards import load_board
    from harness.plugins import ENGINES, TARGETS

    kernels = {k for engine in ENGINES for k in (*engine.kernel_sets, *engine.kernel_aliases)}  # some engine's
    for key, allowed in (("targets", TARGETS.names()), ("engines", ENGINES.names()), ("kernels", sorted(kernels))):
        for value in lists[key]:
            if value not in allowed:
                raise fail(key, f"unknown {key[:-1]} {value!r}; choose from {', '.join(allowed)}", value)
    for board in lists["boards"]:
        try:
            load_board(board, search=boards_search)
        except TinyhilError as e:
            raise fail("boards", str(e), board) from e


def _compression(table: dict | None, base: Path, fail) -> Compression | None:
    if table is None:
        return None
    for key in table:
        if key not in COMPRESS_KEYS:
            raise fail(key, f"unknown entry in [compress] (known: {', '.join(sorted(COMPRESS_KEYS))})")
    if bool(table.get("recipe")) == bool(table.get("method")):
        raise fail("recipe", "[compress] needs exactly one of recipe or method")
    model = table.get("model")
    if model is not None and not (base / model).is_file():
        raise fail("model", f"no such Keras model: {base / model}", model)
    data = str(table.get("data", "digits"))
    if data != "digits" and not (base / data).is_file():
        raise fail("data", f"'digits' or an .npz file, got {data!r}", data)
    return Compression(recipe=table.get("recipe"), method=table.get("method"),
                       model=str(base / model) if model else None,
                       data=data if data == "digits" else str(base / data), out=base / table.get("out", "variants"),
                       seed=int(table.get("seed", 0)))


def run_compression(c: Compression) -> Path:
    """Run the experiment's compression step (skipped when its variants table already exists)."""
    from harness.compress.command import compress_command

    if not (c.out / "variants.csv").is_file():
        compress_command(c.model, c.method, c.recipe, c.data, c.out, c.seed, {})
    return c.out


def configurations(exp: Experiment, template) -> list:
    """Every bench configuration of the experiment, in a stable order (shards depend on it)."""
    from harness.pipeline.sweep import expand_models

    models = list(exp.models)
    if exp.compress is not None:
        models.append(exp.compress.out)
    base = replace(template, samples=exp.samples, data=exp.data, per_layer=exp.per_layer, protocol=exp.protocol,
                   place=exp.place or template.place, coordinator=exp.coordinator or template.coordinator,
                   timeout_s=exp.timeout_s, results_dir=exp.results, seed=exp.seed)
    data_for = {}
    if exp.compress is not None and exp.data is None and (exp.compress.out / "test_data.npz").is_file():
        data_for[exp.compress.out.resolve()] = exp.compress.out / "test_data.npz"  # variants' own test set
    configs = []
    for model in expand_models(models):
        data = data_for.get(model.parent.resolve(), base.data)
        for board in exp.boards:
            for target in exp.targets:
                for engine in exp.engines:
                    for kernels in exp.kernels:
                        configs.append(replace(base, model=model, board=board, target=target, engine=engine,
                                               kernels=kernels, data=data))
    return configs

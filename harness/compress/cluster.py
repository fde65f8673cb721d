"""Weight clustering (tfmot): every conv/dense kernel shares k centroid values.

Like pruning, the .tflite keeps its size (each weight is still stored); the gzip size shows the
gain. After int8 conversion a kernel holds at most k distinct values per channel.
"""

from __future__ import annotations

import numpy as np

from .convert import ConvertOptions, Quantization
from .data import Dataset
from .metrics import keras_kernels
from .models import clone, fit
from .params import ClusterParams, FineTune
from .variant import Candidate


def cluster(base, data: Dataset, params: ClusterParams, tune: FineTune, name: str | None = None) -> Candidate:
    import tensorflow_model_optimization as tfmot

    clustering = tfmot.clustering.keras
    model = clustering.cluster_weights(
        clone(base),
        number_of_clusters=params.clusters,
        cluster_centroids_init=clustering.CentroidInitialization.KMEANS_PLUS_PLUS,
    )
    fit(model, data, tune.epochs, tune.batch_size, tune.learning_rate)
    stripped = clustering.strip_clustering(model)
    distinct = max(len(np.unique(kernel)) for kernel in keras_kernels(stripped))
    return Candidate(
        name or f"clustered_k{params.clusters}", "cluster",
        {"clusters": params.clusters, "init": "kmeans++", "epochs": tune.epochs},
        stripped, ConvertOptions(Quantization.INT8), notes={"max_distinct_weights_per_kernel": distinct},
    )

"""Sparse training for any ``nn.Module``: magnitude masks, sparsity schedules, DCIL / DPF / GMP / one-shot
pruning, sparse checkpoints and sparse inference.

=====================  ==========================================================================
module                 job
=====================  ==========================================================================
``schedule``           how sparse the model should be at a step (Zhu & Gupta cubic ramp, constant)
``masks``              ``MaskedWeights``: masks on chosen weights, shared path mode, re-ranking
``distill``            temperature-scaled (mutual) distillation between two paths' logits
``pruner``             ``Pruner``: paths per step, loss combination, mask updates, ``finalize``
``compress``           sparse checkpoints (indices + values), loadable with ``weights_only=True``
``weight_sharing``     kept values shared among at most 256 k-means centroids (a byte each on disk)
``inference``          CSR linear layers, swapped in only where they measure faster
=====================  ==========================================================================

See ``docs/dcil.md`` for the method and the choices made.
"""

from ddi.sparse.compress import (
    SaveReport,
    is_sparse_state,
    load_sparse_state,
    save_sparse_state,
    unpack_sparse_state,
)
from ddi.sparse.distill import distillation_loss, mutual_distillation, one_way_distillation
from ddi.sparse.inference import LinearTiming, SparseLinear, benchmark_linear, sparse_linear_inference
from ddi.sparse.masks import PATH_MODES, POLICIES, MaskedWeights, default_policy
from ddi.sparse.pruner import DISTILL_DIRECTIONS, METHODS, Pruner
from ddi.sparse.schedule import ConstantSchedule, CubicSchedule
from ddi.sparse.weight_sharing import SHARED_LEVELS, share_model_weights, share_values

__all__ = [
    "DISTILL_DIRECTIONS",
    "METHODS",
    "PATH_MODES",
    "POLICIES",
    "SHARED_LEVELS",
    "ConstantSchedule",
    "CubicSchedule",
    "LinearTiming",
    "MaskedWeights",
    "Pruner",
    "SaveReport",
    "SparseLinear",
    "benchmark_linear",
    "default_policy",
    "distillation_loss",
    "is_sparse_state",
    "load_sparse_state",
    "mutual_distillation",
    "one_way_distillation",
    "save_sparse_state",
    "share_model_weights",
    "share_values",
    "sparse_linear_inference",
    "unpack_sparse_state",
]

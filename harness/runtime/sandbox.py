"""The function's files as Lambda lays them out: a read-only code copy, layers merged as /opt, a /tmp each.

Known deviations from AWS:
- Paths are local directories, not ``/var/task``, ``/opt`` and ``/tmp``; ``LAMBDA_TASK_ROOT`` and the search
  paths point at them, and ``TMPDIR`` points at the environment's tmp dir (AWS sets no ``TMPDIR``), so code
  that writes to the literal path ``/tmp`` writes to the host's ``/tmp``.
- Read-only is enforced by file modes (which root ignores), in Python runtimes by an audit hook that refuses
  writes under the code and layer directories with ``EROFS`` as AWS's read-only mount does, and in Node.js
  by node's permission model (writes only to /tmp; ``ERR_ACCESS_DENIED``). A ``provided`` function running
  as root can still write to its (copied) code directory.
- ``EphemeralStorage`` is enforced per file (``RLIMIT_FSIZE``: a write past it fails with ``EFBIG``, and a
  runtime that does not ignore ``SIGXFSZ`` dies), not as a total over ``/tmp`` (AWS: ``ENOSPC``).
- Layers are merged in order, later layers overwriting earlier files as AWS extracts them; the 5-layer and
  250 MB unzipped limits are checked, not the layer's compatible runtimes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

MAX_LAYERS = 5
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024


class LayerError(ValueError):
    """A layer is missing, not a directory or zip file, or the layers break Lambda's limits."""


def check_layers(layers: Sequence[Path]) -> None:
    """Raise `LayerError` unless every layer is a directory or a readable zip file, at most five of them."""
    if len(layers) > MAX_LAYERS:
        raise LayerError(f"a function can use at most {MAX_LAYERS} layers, got {len(layers)}")
    for layer in layers:
        if layer.is_dir():
            continue
        if not layer.is_file():
            raise LayerError(f"layer {layer} does not exist")
        if not zipfile.is_zipfile(layer):
            raise LayerError(f"layer {layer} is neither a directory nor a zip file")


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _set_writable(root: Path, writable: bool) -> None:
    """Add or drop write permission on everything under `root` (not following symlinks)."""
    bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for dirpath, dirnames, filenames in os.walk(root, topdown=not writable):
        for name in (*dirnames, *filenames, ""):
            path = os.path.join(dirpath, name) if name else dirpath
            if os.path.islink(path):
                continue
            with contextlib.suppress(OSError):
                mode = os.stat(path).st_mode
                os.chmod(path, (mode | stat.S_IWUSR) if writable else (mode & ~bits))


class FunctionFiles:
    """One function's directories: ``task`` (code copy), ``opt`` (layers), a ``tmp-<n>`` per environment."""

    def __init__(self, name: str, code_dir: Path, layers: Sequence[Path] = ()) -> None:
        check_layers(layers)
        self.root = Path(tempfile.mkdtemp(prefix=f"msk-lambda-{name}-"))
        self.task_root = self.root / "task"
        self.opt = self.root / "opt"
        try:
            shutil.copytree(code_dir, self.task_root, symlinks=True)
            self.opt.mkdir()
            for layer in layers:
                if layer.is_dir():
                    shutil.copytree(layer, self.opt, symlinks=True, dirs_exist_ok=True)
                else:
                    with zipfile.ZipFile(layer) as archive:
                        archive.extractall(self.opt)
            total = _size(self.task_root) + _size(self.opt)
            if total > MAX_UNZIPPED_BYTES:
                raise LayerError(
                    f"unzipped size of the function and its layers is {total} bytes; Lambda allows "
                    f"{MAX_UNZIPPED_BYTES} bytes"
                )
            _set_writable(self.task_root, False)
            _set_writable(self.opt, False)
        except BaseException:
            self.close()
            raise

    def link_node_modules(self, node_modules: Path) -> None:
        """Put the runtime's SDK where ES module resolution from the code finds it, after its own."""
        link = self.root / "node_modules"
        if not link.exists():
            link.symlink_to(node_modules, target_is_directory=True)

    def tmp_dir(self, env_id: int) -> Path:
        """A fresh writable /tmp for environment `env_id`."""
        path = self.root / f"tmp-{env_id}"
        path.mkdir(exist_ok=True)
        return path

    def drop_tmp(self, env_id: int) -> None:
        """Delete an environment's /tmp (the environment is gone)."""
        shutil.rmtree(self.root / f"tmp-{env_id}", ignore_errors=True)

    def close(self) -> None:
        """Delete everything (code copy, layers, tmp dirs)."""
        if self.root.exists():
            _set_writable(self.root, True)
            shutil.rmtree(self.root, ignore_errors=True)

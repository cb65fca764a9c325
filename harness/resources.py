"""Files the harness ships as package data, found with importlib.resources (wheel or checkout alike)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["REFERENCE_ARCHIVER_DIR", "shipped_path"]


def shipped_path(package: str, *parts: str) -> Path:
    """A file or directory shipped inside `package`, as a filesystem path (wheels install unzipped)."""
    return Path(str(files(package).joinpath(*parts)))


# The production archiver (handler.py, archive_format.py, firehose_writer.py): a Lambda code root loaded by
# path by the function runtime and the verifier, never imported as a package. It is the default code_dir.
REFERENCE_ARCHIVER_DIR = shipped_path("harness", "reference_archiver")

"""Keep a run's archive: copy every object of the bucket (archive and error output) to a local directory.

Objects keep their S3 key as their path under the directory and their bytes as stored (gzip stays gzip), so
`zcat DIR/data/year=*/**/*.gz` or the replay tool read them as they would read S3.

Example::

    count = keep_archive(s3, "archive", Path("kept/smoke"))    # kept/smoke/data/year=2026/.../archive-1-...gz
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["UnsafeKeyError", "keep_archive", "local_path"]


class UnsafeKeyError(ValueError):
    """An object key that would land outside the target directory (`..` segments, absolute keys)."""


def local_path(directory: Path, key: str) -> Path:
    """Where the object `key` goes under `directory`; refuses keys that would escape it."""
    parts = [p for p in key.split("/") if p]
    if key.startswith("/") or any(p in (".", "..") for p in parts) or not parts:
        raise UnsafeKeyError(f"object key {key!r} cannot be kept as a file under {directory}")
    # A key ending in "/" (a folder marker) keeps its name as a file; S3 has no directories.
    return directory.joinpath(*parts)


def keep_archive(s3: Any, bucket: str, directory: Path) -> int:
    """Download every object of `bucket` to `directory`/<key>; returns how many were written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            target = local_path(directory, entry["Key"])
            target.parent.mkdir(parents=True, exist_ok=True)
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            target.write_bytes(body)
            written += 1
    return written

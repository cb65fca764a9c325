"""S3 contents as local files: a bucket's objects under DIR/<key> (keep a run's archive), every bucket under
DIR/<bucket>/<key> (save and restore the embedded S3 across `up` restarts).

Objects keep their S3 key as their path and their bytes as stored (gzip stays gzip), so
`zcat DIR/data/year=*/**/*.gz` reads them as it would read S3.

Known deviations from AWS (a restored bucket): only keys and bytes survive. Content type, user metadata, tags,
versions, ACLs and bucket configuration are not saved; objects get new ETag-independent LastModified times.

Example::

    count = download_bucket(s3, "archive", Path("kept/smoke"))   # kept/smoke/data/year=2026/.../archive-...gz
    save_buckets(s3, Path("data")); restore_buckets(s3, Path("data"))
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

__all__ = ["UnsafeKeyError", "download_bucket", "local_path", "restore_buckets", "save_buckets"]


class UnsafeKeyError(ValueError):
    """An object key that would land outside the target directory (`..` segments, absolute keys)."""


def local_path(directory: Path, key: str) -> Path:
    """Where the object `key` goes under `directory`; refuses keys that would escape it."""
    parts = [p for p in key.split("/") if p]
    if key.startswith("/") or any(p in (".", "..") for p in parts) or not parts:
        raise UnsafeKeyError(f"object key {key!r} cannot be kept as a file under {directory}")
    # A key ending in "/" (a folder marker) keeps its name as a file; S3 has no directories.
    return directory.joinpath(*parts)


def download_bucket(s3: Any, bucket: str, directory: Path) -> int:
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


def save_buckets(s3: Any, directory: Path) -> int:
    """Every bucket's objects to `directory`/<bucket>/<key> (replacing what was saved); returns the count."""
    directory.mkdir(parents=True, exist_ok=True)
    total = 0
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        target = directory / name
        staging = directory / f".{name}.saving"
        shutil.rmtree(staging, ignore_errors=True)
        total += download_bucket(s3, name, staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # a crash mid-save leaves the previous copy intact
    return total


def restore_buckets(s3: Any, directory: Path) -> int:
    """Create each saved bucket and upload its files back under their keys; returns the object count."""
    if not directory.is_dir():
        return 0
    total = 0
    for bucket_dir in sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")):
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket_dir.name)
        for path in sorted(p for p in bucket_dir.rglob("*") if p.is_file()):
            key = path.relative_to(bucket_dir).as_posix()
            s3.put_object(Bucket=bucket_dir.name, Key=key, Body=path.read_bytes())
            total += 1
    return total

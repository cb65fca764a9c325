"""List the archive objects that can hold selected records, walking the key space level by level.

With a time range, each level is listed with `Delimiter="/"` and prefixes whose hour interval cannot hold a
selected record (harness/replay/keyspace.py) are never listed further, so their objects are never fetched.
Without one, everything under the prefix is listed in one flat pass. Objects under the error output prefix
hold Firehose error records, not archive lines, and are skipped (counted).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from harness.replay.keyspace import KeyWindow, TimePath, path_of_prefix
from harness.verify.archive import list_objects


class ListingError(Exception):
    """The bucket could not be listed at all (missing bucket, no access, endpoint down)."""


@dataclass
class Listing:
    """What the walk found: objects to read, and what it skipped and why."""

    entries: list[dict[str, Any]] = field(default_factory=list)  # Key, Size, LastModified; key order
    pruned_prefixes: list[str] = field(default_factory=list)  # prefixes never listed (outside the window)
    error_objects: int = 0  # under the error output prefix, not read
    unpatterned_objects: int = 0  # read without any time layout in their key (cannot be pruned)
    layouts: set[str] = field(default_factory=set)  # "hive", "default" seen
    pruning: bool = False  # a time window was applied to the keys


def list_archive(
    s3_client: Any,
    bucket: str,
    prefix: str,
    window: KeyWindow | None,
    *,
    error_prefixes: tuple[str, ...] = (),
    page_size: int = 1000,
) -> Listing:
    """The objects under s3://bucket/prefix that may hold selected records (all of them without `window`)."""
    try:
        if window is None:
            return _flat(s3_client, bucket, prefix, error_prefixes, page_size)
        return _walk(s3_client, bucket, prefix, window, error_prefixes=error_prefixes, page_size=page_size)
    except Exception as exc:  # botocore ClientError / EndpointConnectionError / NoCredentialsError ...
        raise ListingError(f"cannot list s3://{bucket}/{prefix}: {type(exc).__name__}: {exc}") from exc


def _is_error(key: str, error_prefixes: tuple[str, ...]) -> bool:
    return bool(error_prefixes) and key.startswith(error_prefixes)


def _flat(
    s3_client: Any, bucket: str, prefix: str, error_prefixes: tuple[str, ...], page_size: int
) -> Listing:
    listing = Listing()
    for entry in list_objects(s3_client, bucket, prefix, page_size=page_size):
        if _is_error(str(entry["Key"]), error_prefixes):
            listing.error_objects += 1
            continue
        listing.entries.append(entry)
    return listing


def _walk(
    s3_client: Any,
    bucket: str,
    prefix: str,
    window: KeyWindow,
    *,
    error_prefixes: tuple[str, ...],
    page_size: int,
) -> Listing:
    listing = Listing(pruning=True)
    paginator = s3_client.get_paginator("list_objects_v2")
    pending: deque[tuple[str, TimePath]] = deque([(prefix, path_of_prefix(prefix))])
    while pending:
        level, path = pending.popleft()
        if not window.may_hold(path):
            listing.pruned_prefixes.append(level)
            continue
        pages = paginator.paginate(
            Bucket=bucket, Prefix=level, Delimiter="/", PaginationConfig={"PageSize": page_size}
        )
        for page in pages:
            for entry in page.get("Contents", ()):
                if _is_error(str(entry["Key"]), error_prefixes):
                    listing.error_objects += 1
                    continue
                if path.layout is None:
                    listing.unpatterned_objects += 1
                else:
                    listing.layouts.add(path.layout)
                listing.entries.append(entry)
            for common in page.get("CommonPrefixes", ()):
                child = str(common["Prefix"])
                if _is_error(child, error_prefixes):
                    continue  # error objects are never read; no need to list them
                segment = child[len(level) :].rstrip("/").rsplit("/", 1)[-1]
                pending.append((child, path.advance(segment)))
    listing.entries.sort(key=lambda entry: str(entry["Key"]))
    listing.pruned_prefixes.sort()
    return listing

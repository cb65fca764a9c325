"""AWS host names: which ones the interception takes over, and which service, region and bucket a host names.

Pure functions, shared by the HTTPS front (routing) and the function bootstraps (they receive
`INTERCEPTED_SUFFIXES` through the environment, so the list has one home).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INTERCEPTED_SUFFIXES: tuple[str, ...] = (".amazonaws.com", ".api.aws", ".amazonaws.com.cn")
"""Every host ending in one of these resolves to the front inside a function environment."""

_REGION = r"(?:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)"
# S3's many host forms; the bucket (virtual-hosted style) is everything before the S3 label and may hold dots.
_S3_LABEL = r"s3(?:-fips)?(?:-accelerate)?(?:\.dualstack)?(?:[.-](?P<s3region>" + _REGION + r"|external-1))?"
_S3_HOST = re.compile(r"^(?:(?P<bucket>.+)\.)?" + _S3_LABEL + r"\.(?:amazonaws\.com(?:\.cn)?|api\.aws)$")
_SQS_LEGACY = re.compile(r"^(?:(?P<region>" + _REGION + r")\.)?queue\.amazonaws\.com$")
_SUFFIX = re.compile(r"\.(?:amazonaws\.com(?:\.cn)?|api\.aws)$")
_REGION_LABEL = re.compile(_REGION)


@dataclass(frozen=True)
class AwsHost:
    """What an AWS host name says: the service's endpoint prefix, its region and (S3) bucket."""

    host: str
    service: str
    region: str | None = None
    bucket: str | None = None


def is_intercepted(host: str) -> bool:
    """True if `host` is an AWS service host the interception takes over."""
    name = host.rstrip(".").lower()
    return any(name.endswith(suffix) for suffix in INTERCEPTED_SUFFIXES)


def parse_host(host: str) -> AwsHost | None:
    """The service, region and bucket an AWS host names (None for hosts outside AWS's domains)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.rstrip(".").lower()
    if not is_intercepted(name):
        return None
    s3 = _S3_HOST.match(name)
    if s3 is not None:
        region = s3.group("s3region")
        if region == "external-1":
            region = "us-east-1"
        return AwsHost(name, "s3", region, s3.group("bucket"))
    sqs = _SQS_LEGACY.match(name)
    if sqs is not None:
        return AwsHost(name, "sqs", sqs.group("region") or "us-east-1")
    # [prefix labels.]service[-fips][.dualstack][.region].amazonaws.com; leading labels (account ids,
    # "runtime.", "streams.") are not part of the service's endpoint prefix.
    labels = _SUFFIX.sub("", name).split(".")
    region = labels.pop() if len(labels) > 1 and _REGION_LABEL.fullmatch(labels[-1]) else None
    if len(labels) > 1 and labels[-1] == "dualstack":
        labels.pop()
    service = labels[-1].removesuffix("-fips")
    return AwsHost(name, service, region)


_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(
    r"X-Amz-Credential=[^&]*?(?:/|%2F)\d{8}(?:/|%2F)[^/%&]+(?:/|%2F)(?P<service>[^/%&]+)"
)


def signing_service(authorization: str | None, query: str = "") -> str | None:
    """The service of a SigV4 credential scope, from the Authorization header or a presigned URL's query."""
    if authorization:
        match = _SCOPE.search(authorization)
        if match is not None:
            return match.group("service")
    match = _QUERY_SCOPE.search(query)
    return None if match is None else match.group("service")

"""A scenario's `verify:` section made usable: its problems for validation, the `FormatChoice` to read with.

Example::

    choice = format_choice(scenario.verify, scenario.path.parent, ledger.records)
    snapshot = read_archive(s3, bucket, reading=choice)
    report = verify(ledger.records(), snapshot, scenario.expect, identity=choice.identity)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from harness.load import ProducedRecord
from harness.scenario.model import VerifySpec
from harness.verify.archive import FormatChoice
from harness.verify.content import IdentityError, IdentityExpression, KnownValues
from harness.verify.formats import AUTO, USER_PREFIX, VALUE_CONCATENATED, FormatError, check_format_name
from harness.verify.formats import load_user_decoder as _load_user_decoder


def verify_problems(spec: VerifySpec, base_dir: Path) -> list[tuple[str, str]]:
    """(field, message) for everything wrong in `spec`; a user decoder is imported to prove it loads."""
    problems: list[tuple[str, str]] = []
    wrong = check_format_name(spec.archive_format)
    if wrong is not None:
        problems.append(("archive_format", wrong))
    elif spec.archive_format.startswith(USER_PREFIX):
        try:
            _load_user_decoder(spec.archive_format, base_dir)
        except FormatError as exc:
            problems.append(("archive_format", str(exc)))
    if spec.identity is not None:
        try:
            IdentityExpression.compile(spec.identity)
        except IdentityError as exc:
            problems.append(("identity", f"{spec.identity!r}: {exc}"))
    return problems


def format_choice(
    spec: VerifySpec, base_dir: Path, produced: Callable[[], Sequence[ProducedRecord]]
) -> FormatChoice:
    """How to read the archive for `spec` (raises FormatError/IdentityError if it was never validated)."""
    decoder = None
    if spec.archive_format.startswith(USER_PREFIX):
        decoder = _load_user_decoder(spec.archive_format, base_dir)
    identity = None if spec.identity is None else IdentityExpression.compile(spec.identity)
    known = KnownValues(produced) if spec.archive_format in {AUTO, VALUE_CONCATENATED} else None
    return FormatChoice(spec.archive_format, decoder, identity, known)

"""Archive formats: each reader, auto-detection, user decoders, unreadable lines, content matching."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from archive_format import ArchivedRecord, encode_lines

from harness.load import PayloadGenerator, PayloadSpec, ProducedRecord, SizeDistribution
from harness.report.format import formats_line
from harness.scenario import validate_text
from harness.scenario.model import Expectations, VerifySpec
from harness.verify import VerificationReport, verify
from harness.verify.archive import FetchedObject, FormatChoice, decode_archive
from harness.verify.content import IdentityError, IdentityExpression, KnownValues, seq_key, value_key
from harness.verify.formats import check_format_name
from harness.verify.result import ArchiveSnapshot
from harness.verify.scenario import format_choice, verify_problems

T0 = datetime(2026, 7, 13, 14, 5, tzinfo=UTC)
KEY = (
    "data/year=2026/month=07/day=13/hour=14/"
    "archive-1-2026-07-13-14-05-09-959487e4-754a-46e0-9b2d-f8cf1ce8a200.gz"
)


class Produced:
    """A ledger of generated records with their values kept (tests only: the harness keeps digests)."""

    def __init__(self, count: int = 30, *, binary: bool = False, partitions: int = 3) -> None:
        spec = PayloadSpec(
            json_share=0.0 if binary else 1.0,
            binary_share=1.0 if binary else 0.0,
            size=SizeDistribution(distribution="uniform", minimum=20, maximum=60),
        )
        generator = PayloadGenerator(spec, random.Random(7))
        self.values: list[bytes] = []
        self.records: list[ProducedRecord] = []
        for seq in range(count):
            payload = generator.next()
            assert payload.value is not None
            self.values.append(payload.value)
            self.records.append(
                ProducedRecord(
                    seq=seq,
                    topic="orders",
                    partition=seq % partitions,
                    offset=seq // partitions,
                    key=payload.key,
                    value_sha256=hashlib.sha256(payload.value).hexdigest(),
                    value_size=len(payload.value),
                    headers=payload.headers,
                    produced_at=T0,
                )
            )

    def event_record(self, i: int) -> dict[str, object]:
        r = self.records[i]
        return {
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
            "timestamp": 1_750_000_000_000,
            "timestampType": "CREATE_TIME",
            "key": None if r.key is None else base64.b64encode(r.key).decode(),
            "value": base64.b64encode(self.values[i]).decode(),
            "headers": [{name: list(value)} for name, value in r.headers],
        }

    def v1_lines(self, indexes: Sequence[int]) -> bytes:
        out = b""
        for i in indexes:
            r = self.records[i]
            rec = ArchivedRecord(
                r.topic, r.partition, r.offset, 0, "CREATE_TIME", r.key, self.values[i], tuple(r.headers)
            )
            out += b"".join(line + b"\n" for line in encode_lines(rec))
        return out


def read(
    bodies: dict[str, bytes], produced: Produced, name: str = "auto", **choice: object
) -> ArchiveSnapshot:
    known = KnownValues(lambda: produced.records)
    fetched = [FetchedObject(k, len(b), T0, None, gzip.compress(b)) for k, b in sorted(bodies.items())]
    return decode_archive(fetched, bucket="archive", reading=FormatChoice(name, known=known, **choice))  # type: ignore[arg-type]


def check(report: VerificationReport, name: str) -> tuple[bool, str, tuple[str, ...]]:
    found = next(c for c in report.checks if c.name == name)
    return found.passed, found.actual, found.details


ALL = range(30)
DROPPED = [i for i in ALL if i not in (4, 17)]  # two records the archiver lost


def bodies_for(fmt: str, produced: Produced, indexes: Sequence[int]) -> bytes:
    if fmt == "harness-v1":
        return produced.v1_lines(indexes)
    if fmt == "kafka-record-json":
        return b"".join(json.dumps(produced.event_record(i)).encode() + b"\n" for i in indexes)
    if fmt == "value-lines":
        return b"".join(produced.values[i] + b"\n" for i in indexes)
    return b"".join(produced.values[i] for i in indexes)  # value-concatenated


FORMATS = ["harness-v1", "kafka-record-json", "value-lines", "value-concatenated"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("declared", [True, False])
def test_every_format_clean_and_with_loss_names_the_lost_records(fmt: str, declared: bool) -> None:
    produced = Produced()
    name = fmt if declared else "auto"
    clean = read({KEY: bodies_for(fmt, produced, ALL)}, produced, name)
    assert clean.objects[0].archive_format == fmt
    assert clean.unreadable == ()
    report = verify(produced.records, clean, Expectations())
    assert report.passed, report.failed_checks
    assert report.archive_formats == (f"{KEY.rpartition('/')[0]}/: {fmt} (1 object)",)

    lossy = read({KEY: bodies_for(fmt, produced, DROPPED)}, produced, name)
    report = verify(produced.records, lossy, Expectations())
    passed, actual, details = check(report, "no_loss")
    assert not passed
    assert actual == "2 lost of 30 produced"
    assert [d.split(" (")[0] for d in details] == ["lost orders-1@1", "lost orders-2@5"]  # seq 4 and 17


def test_kafka_record_json_without_newlines_between_records() -> None:
    produced = Produced()
    body = b"".join(json.dumps(produced.event_record(i)).encode() for i in ALL)
    snapshot = read({KEY: body}, produced)
    assert snapshot.objects[0].archive_format == "kafka-record-json"
    assert verify(produced.records, snapshot, Expectations()).passed


def test_binary_values_concatenated_are_split_by_known_values() -> None:
    produced = Produced(binary=True)
    body = b"".join(produced.values[i] for i in DROPPED)
    snapshot = read({KEY: body}, produced, "value-concatenated")
    assert snapshot.unreadable == ()
    report = verify(produced.records, snapshot, Expectations())
    assert [r.offset for r in report.lost] == [1, 5]


def test_binary_values_concatenated_are_detected_by_auto() -> None:
    produced = Produced(binary=True)
    snapshot = read({KEY: b"".join(produced.values)}, produced)
    assert snapshot.objects[0].archive_format == "value-concatenated"
    assert verify(produced.records, snapshot, Expectations()).passed


def test_unreadable_lines_are_named_and_not_counted_as_lost() -> None:
    produced = Produced()
    lines = [json.dumps(produced.event_record(i)).encode() for i in ALL]
    lines[6] = b'{"topic": "orders", "partition": 0, "offset": 2, "value": "not base64!"}'
    lines[9] = b"{truncated"
    snapshot = read({KEY: b"\n".join(lines)}, produced, "kafka-record-json")
    assert [u.split(": ")[0] for u in snapshot.unreadable] == [f"{KEY} line 7", f"{KEY} line 10"]
    report = verify(produced.records, snapshot, Expectations())
    passed, actual, _ = check(report, "no_loss")
    assert not passed  # the two unreadable lines held records 6 and 9: lost from what was read ...
    assert actual.startswith("2 lost of 30 produced (of what was readable; 2 unreadable")
    readable, _, details = check(report, "archive_readable")
    assert not readable  # ... and the unreadable lines are named with their reasons
    assert details[0].startswith(f"unreadable {KEY} line 7: not a Kafka record:")
    assert "not JSON" in details[1]


def test_value_concatenated_stops_at_bytes_that_match_nothing() -> None:
    produced = Produced()
    body = produced.values[0] + b"\x00garbage" + produced.values[1]
    snapshot = read({KEY: body}, produced, "value-concatenated")
    assert len(snapshot.unreadable) == 1
    assert "match no JSON value and no produced value" in snapshot.unreadable[0]
    assert snapshot.objects[0].content_count == 1


def test_duplicates_and_unexpected_content_are_counted_as_a_multiset() -> None:
    produced = Produced()
    values = [*produced.values, produced.values[3], produced.values[3], b'{"seq":999}']
    snapshot = read({KEY: b"\n".join(values)}, produced, "value-lines")
    report = verify(produced.records, snapshot, Expectations())
    assert (report.archived_records, report.duplicates, report.lost) == (33, 2, ())
    assert [u.describe().split(" (")[0] for u in report.unexpected] == [f"{KEY} line 33"]


def test_content_copy_of_a_record_archived_with_coordinates_is_a_duplicate() -> None:
    produced = Produced()
    other = KEY.replace("a200.gz", "a201.gz")
    snapshot = read({KEY: produced.v1_lines(ALL), other: produced.values[5] + b"\n"}, produced)
    assert [o.archive_format for o in snapshot.objects] == ["harness-v1", "value-lines"]
    report = verify(produced.records, snapshot, Expectations(max_duplicates_percent=100))
    assert (report.lost, report.duplicates, report.unexpected) == ((), 1, ())


def test_identity_expression_matches_transformed_values() -> None:
    produced = Produced()
    wrapped = [
        json.dumps({"data": json.loads(v), "ingested": "2026-07-13"}).encode() for v in produced.values
    ]
    identity = IdentityExpression.compile("data.seq")
    snapshot = read({KEY: b"\n".join(wrapped[i] for i in DROPPED)}, produced, identity=identity)
    report = verify(produced.records, snapshot, Expectations(), identity=identity)
    assert [(r.partition, r.offset) for r in report.lost] == [(1, 1), (2, 5)]
    assert report.unexpected == ()
    # Without the identity the same archive is all unexpected content and all lost.
    plain = read({KEY: b"\n".join(wrapped)}, produced)
    assert len(verify(produced.records, plain, Expectations()).lost) == 30


def test_identity_that_names_no_sequence_number_is_unreadable() -> None:
    produced = Produced(count=3)
    identity = IdentityExpression.compile("data.seq")
    body = b'{"data":{"seq":0}}\n{"data":{}}\nplain text\n{"data":{"seq":"2"}}\n'
    snapshot = read({KEY: body}, produced, "value-lines", identity=identity)
    assert [u.split(": ", 1)[0] for u in snapshot.unreadable] == [f"{KEY} line 2", f"{KEY} line 3"]
    assert "gave None, not a sequence number" in snapshot.unreadable[0]
    assert snapshot.objects[0].content_keys == seq_key(0) + seq_key(2)


def test_identity_expression_errors() -> None:
    with pytest.raises(IdentityError, match="not a valid JMESPath"):
        IdentityExpression.compile("data.[")
    assert IdentityExpression.compile("seq").key_of(b'{"seq": 12}') == seq_key(12)
    assert value_key(b"x") != seq_key(0)


def test_user_decoder_records_with_and_without_coordinates(tmp_path: Path) -> None:
    (tmp_path / "my_decoder.py").write_text(
        textwrap.dedent(
            """
            import json

            def decode(body):
                for line in body.splitlines():
                    doc = json.loads(line)
                    if "where" in doc:
                        t, p, o = doc["where"]
                        yield {"topic": t, "partition": p, "offset": o, "value": doc["v"].encode(),
                               "key": doc["k"].encode(), "headers": [tuple(h) for h in doc["h"]]}
                    elif doc.get("boom"):
                        raise RuntimeError("cannot read this object")
                    else:
                        yield doc["v"].encode()
            """
        )
    )
    produced = Produced()
    lines = []
    for i in DROPPED:
        r, v = produced.records[i], produced.values[i].decode()
        if i % 2:
            headers = [[n, h.decode()] for n, h in r.headers]
            k = (r.key or b"").decode()
            lines.append(
                json.dumps({"where": [r.topic, r.partition, r.offset], "v": v, "k": k, "h": headers})
            )
        else:
            lines.append(json.dumps({"v": v}))
    spec = VerifySpec("python:my_decoder:decode")
    choice = format_choice(spec, tmp_path, lambda: produced.records)
    bad = KEY.replace("a200.gz", "a201.gz")
    snapshot = read(
        {KEY: "\n".join(lines).encode(), bad: b'{"boom": true}'},
        produced,
        choice.name,
        user_decoder=choice.user_decoder,
    )
    raised = "decoder python:my_decoder:decode raised RuntimeError: cannot read this object"
    assert snapshot.unreadable == (f"{bad}: {raised}",)
    report = verify(produced.records, snapshot, Expectations())
    assert [(r.partition, r.offset) for r in report.lost] == [(1, 1), (2, 5)]
    assert report.corrupted == ()
    assert report.unexpected == ()


def test_user_decoder_problems_name_the_module(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import not_a_module_anywhere\n")
    (tmp_path / "empty.py").write_text("x = 1\n")
    assert verify_problems(VerifySpec("python:broken:decode"), tmp_path) == [
        (
            "archive_format",
            "decoder module 'broken' does not import: ModuleNotFoundError: "
            "No module named 'not_a_module_anywhere'",
        )
    ]
    assert verify_problems(VerifySpec("python:empty:decode"), tmp_path) == [
        ("archive_format", "decoder module 'empty' has no function 'decode'")
    ]
    assert "no file" in verify_problems(VerifySpec("python:missing:decode"), tmp_path)[0][1]


def test_format_names() -> None:
    assert check_format_name("auto") is None
    assert check_format_name("python:mod:fn") is None
    assert "python:MODULE:FUNCTION" in str(check_format_name("python:mod"))
    assert "unknown archive format 'csv'" in str(check_format_name("csv"))


SCENARIO = """\
name: formats
pipeline:
  topic: {name: orders}
load:
  profile: {kind: constant, rate: 10}
  duration: 5
verify:
  archive_format: %s
  identity: %s
"""


def test_scenario_problems_have_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    _, problems = validate_text(SCENARIO % ("csv", "'data.['"), path)
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (8, "verify.archive_format"),
        (9, "verify.identity"),
    ]
    (tmp_path / "dec.py").write_text("raise ImportError('needs pyarrow')\n")
    _, problems = validate_text(SCENARIO % ("python:dec:decode", "seq"), path)
    assert [(p.line, p.message) for p in problems] == [
        (8, "verify.archive_format: decoder module 'dec' does not import: ImportError: needs pyarrow")
    ]
    scenario, problems = validate_text(SCENARIO % ("value-lines", "seq"), path)
    assert problems == []
    assert scenario is not None
    assert scenario.verify == VerifySpec("value-lines", "seq")


def test_load_generator_values_are_unique_so_content_identifies_a_record() -> None:
    spec = PayloadSpec(json_share=0.7, binary_share=0.3, size=SizeDistribution(distribution="fixed", size=32))
    generator = PayloadGenerator(spec, random.Random(11))
    values = [generator.next().value for _ in range(20_000)]
    assert len(set(values)) == len(values)  # JSON values carry their seq, binary values are random bytes


def test_terminal_row_says_which_format_the_archive_was_read_as() -> None:
    produced = Produced()
    other = KEY.replace("hour=14", "hour=15")
    bodies = {KEY: bodies_for("value-lines", produced, ALL), other: produced.v1_lines(ALL)}
    report = verify(produced.records, read(bodies, produced), Expectations(max_duplicates_percent=100))
    assert len(report.archive_formats) == 2
    assert formats_line(report) == "harness-v1 (1 object), value-lines (1 object)"

"""Files modules find beside themselves exist where they look (a package move must carry them along)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harness.backends.kafka.dist import POM_PATH
from harness.runtime.world import BOOTSTRAP_DIR
from harness.scenario.loader import SCHEMA_PATH
from harness.verify.archive import ARCHIVE_FORMAT_PATH

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", [POM_PATH, SCHEMA_PATH, ARCHIVE_FORMAT_PATH, BOOTSTRAP_DIR], ids=str)
def test_a_file_a_module_looks_for_is_there(path: Path) -> None:
    assert path.exists(), f"{path} is missing"


def test_every_package_data_entry_names_a_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for package, patterns in config["tool"]["setuptools"]["package-data"].items():
        for pattern in patterns:
            assert list((ROOT / package).glob(pattern)), f"package-data {package}: {pattern} matches nothing"

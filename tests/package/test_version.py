"""`dpnb.__version__` is written once, in `dpnb/__init__.py`; the package's metadata takes it from
there (pyproject.toml declares the version dynamic), and `import dpnb` does not read the metadata."""
import re
from importlib.metadata import version
from pathlib import Path

import dpnb

ROOT = Path(__file__).parents[2]


def test_version_matches_the_package_metadata():
    assert dpnb.__version__ == version("dpnb")


def test_pyproject_reads_the_version_from_the_package():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^dynamic = \[.*"version".*\]', text, re.M)
    assert re.search(r'^version = \{\s*attr\s*=\s*"dpnb.__version__"\s*\}', text, re.M)
    assert not re.search(r'^version = "', text, re.M)


def test_the_version_is_a_literal_in_the_source():
    text = (ROOT / "dpnb" / "__init__.py").read_text()
    assert re.search(r'^__version__ = "([^"]+)"$', text, re.M).group(1) == dpnb.__version__

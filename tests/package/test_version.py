"""`dpnb.__version__` is the version the installed package's metadata records."""
import re
from importlib.metadata import version
from pathlib import Path

import dpnb


def test_version_matches_the_package_metadata():
    assert dpnb.__version__ == version("dpnb")


def test_version_matches_pyproject():
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', text, re.M).group(1) == dpnb.__version__

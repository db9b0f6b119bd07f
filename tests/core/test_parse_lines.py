"""dpnb reads a plain UTF-8 source file itself (`parse._lines`), as linecache would: the same lines,
the same linecache entry, for every file of the standard library and of dpnb, and for files written
to try the edges (other newlines, no last newline, a byte order mark, a coding declaration, bytes
that are not UTF-8, form feeds). A file it cannot read so goes to linecache."""
import linecache
import os
import pathlib
import sysconfig

import pytest

import dpnb
from dpnb.core import parse


def _both(path):
    path = str(path)
    linecache.cache.pop(path, None)
    ours = parse._lines(path, None)
    our_entry = linecache.cache.pop(path, None)
    theirs = linecache.getlines(path)
    their_entry = linecache.cache.pop(path, None)
    return ours, our_entry, theirs, their_entry


def _files():
    roots = [pathlib.Path(sysconfig.get_paths()["stdlib"]), pathlib.Path(dpnb.__file__).parent]
    out = []
    for root in roots:
        out += sorted(root.glob("*.py")) + sorted(root.glob("*/*.py"))
    return out


def test_every_file_of_the_standard_library_and_of_dpnb_reads_as_linecache_reads_it():
    files = _files()
    assert len(files) > 300
    differ = [str(f) for f in files if (lambda r: r[0] != r[2] or r[1] != r[3])(_both(f))]
    assert not differ, differ[:5]


EDGES = {
    "crlf": b"def f(x):\r\n    return x\r\n",
    "cr": b"def f(x):\r    return x\r",
    "mixed": b"a = 1\r\nb = 2\rc = 3\n",
    "no_last_newline": b"def f(x):\n    return x",
    "empty": b"",
    "only_newline": b"\n",
    "bom": b"\xef\xbb\xbfdef f(x):\n    return x\n",
    "latin1": "# -*- coding: latin-1 -*-\ns = 'é'\n".encode("latin-1"),
    "cookie_second_line": "#!/usr/bin/env python\n# coding: latin-1\ns = 'Ã©'\n".encode("latin-1"),
    "not_utf8": b"s = '\xe9'\n",
    "form_feed": b"a = 1\n\x0c\nb = 2\x0c\n# \xe2\x80\xa8 a line separator in a comment\n",
    "utf8": "s = 'é → ∂'\n".encode("utf-8"),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edge_files_read_as_linecache_reads_them(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_bytes(EDGES[name])
    ours, our_entry, theirs, their_entry = _both(path)
    assert ours == theirs
    assert our_entry == their_entry


def test_a_missing_file_and_a_cached_one(tmp_path):
    missing = str(tmp_path / "gone.py")
    assert parse._lines(missing, None) == linecache.getlines(missing) == []
    path = tmp_path / "kept.py"
    path.write_text("x = 1\n")
    linecache.cache[str(path)] = (6, os.stat(path).st_mtime, ["y = 2\n"], str(path))
    try:
        assert parse._lines(str(path), None) == ["y = 2\n"]  # what linecache holds, as linecache gives it
    finally:
        linecache.cache.pop(str(path), None)

"""The README, the notebooks and the Binder set-up agree with one another.

- every ```python and ```ipython block of the README is, line for line (trailing
  whitespace aside), the source of one notebook code cell or of consecutive code
  cells (blank lines may separate the cells in the README); nbval's marker
  comments are test metadata and are left out of the comparison;
- every notebook is stored executed, and every code cell with output says whether
  nbval compares it: `# NBVAL_IGNORE_OUTPUT` marks the cells whose output changes
  from run to run (pictures, widgets, timings), every other one carries
  `# NBVAL_CHECK_OUTPUT`;
- the index links every notebook, every link between notebooks and from the
  README leads to a file, and the README's pictures exist.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
COURSE = sorted(p for p in (ROOT / "notebooks").glob("0[1-9]-*.ipynb"))
CHECK, IGNORE = "# NBVAL_CHECK_OUTPUT", "# NBVAL_IGNORE_OUTPUT"
MARKERS = {CHECK, IGNORE, "# NBVAL_SKIP", "# NBVAL_RAISES_EXCEPTION"}
#: calls whose output is a picture or a widget: never the same bytes twice
DRAWINGS = re.compile(r"\b(pullback_graph|explore|plot_gradient|plt\.|ax\.|fig\b|--graph)")
#: the README's sections, in the order the course tells them
ARC = [
    "Quick start", "Taking gradients", "Control flow and recursion", "Data structures and mutation",
    "Structs and types", "Through libraries never written for AD", "Custom rules",
    "Explicit and implicit parameters", "Second order and forward mode", "Notebooks", "How it works", "Limits",
]
BINDER = "https://mybinder.org/v2/gh/{owner}/dpnb/HEAD?labpath=notebooks%2F00-index.ipynb"


def _read(path):
    return json.loads(path.read_text())


def _source(cell):
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _code_cells(path):
    return [c for c in _read(path)["cells"] if c["cell_type"] == "code"]


def _lines(text):
    """Lines without trailing whitespace and without nbval's marker comments."""
    return [line.rstrip() for line in text.strip("\n").split("\n") if line.strip() not in MARKERS]


def readme_blocks():
    return [m.group(2) for m in re.finditer(r"^```(python|ipython)\n(.*?)^```", README, re.M | re.S)]


def _matches_from(cells, start, block):
    """Does `block` (a list of lines) equal cells[start], cells[start+1], ... with blank lines between?"""
    pos, i = 0, start
    while pos < len(block):
        if i >= len(cells):
            return False
        lines = cells[i]
        if block[pos : pos + len(lines)] != lines:
            return False
        pos += len(lines)
        i += 1
        while pos < len(block) and block[pos] == "":
            pos += 1
    return True


def _where(block):
    lines = _lines(block)
    for path in NOTEBOOKS:
        cells = [_lines(_source(c)) for c in _read(path)["cells"] if c["cell_type"] == "code"]
        # consecutive in the notebook: a markdown cell between two code cells breaks a run
        runs, run = [], []
        for c in _read(path)["cells"]:
            if c["cell_type"] == "code":
                run.append(_lines(_source(c)))
            elif run:
                runs.append(run)
                run = []
        if run:
            runs.append(run)
        del cells
        for run in runs:
            for start in range(len(run)):
                if _matches_from(run, start, lines):
                    return path
    return None


def test_the_readme_has_code_examples():
    assert len(readme_blocks()) >= 15


@pytest.mark.parametrize("block", readme_blocks(), ids=lambda b: _lines(b)[0][:40])
def test_each_readme_example_is_a_notebook_cell_or_a_run_of_cells(block):
    assert _where(block) is not None, (
        "this README example is not the source of one notebook cell or of consecutive cells "
        "(write it into a notebook of notebooks/guide/ or make the README say what the notebook says):\n" + block
    )


def test_a_changed_example_is_caught():
    block = readme_blocks()[0]
    assert _where(block) is not None
    assert _where(block.replace("5*x + 3", "5*x + 4")) is None


def test_the_readme_follows_the_arc():
    headings = re.findall(r"^## (.+)$", README, re.M)
    positions = [headings.index(h) for h in ARC]
    assert positions == sorted(positions), headings


def test_the_binder_badge_opens_the_course_index():
    m = re.search(r"https://mybinder\.org/v2/gh/([\w.-]+)/dpnb/HEAD\?labpath=[^)\s]+", README)
    assert m, "no Binder badge"
    assert m.group(0) == BINDER.format(owner=m.group(1))
    assert (ROOT / "notebooks" / "00-index.ipynb").exists()


def test_the_readme_pictures_exist():
    pictures = [p for p in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README) if "://" not in p]
    assert {Path(p).stem for p in pictures} >= {"grad-magic", "explain", "pullback-graph", "explore"}
    for p in pictures:
        path = ROOT / p
        assert path.exists() and path.stat().st_size > 1000, p
        head = path.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") or b"<svg" in head or b"<?xml" in head, p


def test_the_readme_links_lead_to_files():
    for target in re.findall(r"\]\(((?:notebooks|docs)/[^)#]+)\)", README):
        assert (ROOT / target).exists(), target


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_every_cell_with_output_says_whether_nbval_compares_it(path):
    for cell in _code_cells(path):
        src = _source(cell)
        marked = [m for m in (CHECK, IGNORE) if m in src.split("\n")]
        if cell["outputs"]:
            assert len(marked) == 1, f"{path.name}: a cell with output needs exactly one of {CHECK}, {IGNORE}:\n{src}"
        if DRAWINGS.search(src) and cell["outputs"]:
            assert marked == [IGNORE], f"{path.name}: a picture or a widget changes from run to run:\n{src}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_every_notebook_is_stored_executed_in_order(path):
    counts = [c["execution_count"] for c in _code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: run `make notebooks`"
    for cell in _code_cells(path):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"{path.name}: a stored error:\n{_source(cell)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_no_trailing_semicolons_hide_output(path):
    for cell in _code_cells(path):
        last = [line for line in _source(cell).rstrip().split("\n") if line.strip()][-1:]
        assert not (last and last[0].rstrip().endswith(";")), f"{path.name}: write `_ = ...` instead:\n{_source(cell)}"


def test_the_index_links_every_notebook():
    index = ROOT / "notebooks" / "00-index.ipynb"
    text = "".join(_source(c) for c in _read(index)["cells"])
    linked = {(index.parent / t).resolve() for t in re.findall(r"\]\(([^)#]+\.ipynb)\)", text)}
    missing = [p.name for p in NOTEBOOKS if p != index and p.resolve() not in linked]
    assert not missing, f"00-index.ipynb does not link {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_links_between_notebooks_lead_to_files(path):
    text = "".join(_source(c) for c in _read(path)["cells"] if c["cell_type"] == "markdown")
    for target in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (path.parent / target).exists(), f"{path.name}: {target}"


def test_the_course_has_six_chapters_using_every_notebook_tool():
    assert len(COURSE) >= 6
    for path in COURSE:
        text = "\n".join(_source(c) for c in _code_cells(path))
        for tool in ("%%grad", "%adjoint_source", "explain(", "explore(", "pullback_graph("):
            assert tool in text, f"{path.name} never uses {tool}"


def test_the_last_chapter_trains_on_seeded_synthetic_data_and_draws_the_loss():
    text = "\n".join(_source(c) for c in _code_cells(COURSE[-1]))
    assert re.search(r"np\.random\.default_rng\(\d+\)", text)
    assert "losses" in text and re.search(r"_ = ax\.(plot|semilogy)\(losses\)", text)
    outputs = [o for c in _code_cells(COURSE[-1]) for o in c["outputs"]]
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_the_nbval_sanitizers_hide_addresses_and_versions():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "notebooks" / "nbval.cfg")

    def sanitize(text):
        for section in cfg.sections():
            text = re.sub(cfg[section]["regex"], cfg[section]["replace"], text)
        return text

    assert sanitize("<Graph at 0x7f3a2c1b9d50>") == sanitize("<Graph at 0x7f00ab11cc20>")
    assert sanitize("dpnb 0.1.0, graphviz version 2.43.0, numpy 2.4.6") == sanitize(
        "dpnb 0.2.0, graphviz version 9.0.0, numpy 1.26.4"
    )
    assert sanitize("(array([14., 22., 26.]),)") == "(array([14., 22., 26.]),)"

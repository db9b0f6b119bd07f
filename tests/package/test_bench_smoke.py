"""The benchmark runs: each workload's gradient agrees with the hand-written one before it is
timed (the benchmark exits otherwise). No timing is asserted here; the figures come from
`python -m dpnb.bench` itself."""
import pytest

from dpnb.bench import __main__ as bench


@pytest.mark.parametrize("text", ["polynomial", "math functions", "args", "hessian"])
def test_benchmark_section_runs(text, capsys):
    bench.main(["--quick", "--filter", text])
    out = capsys.readouterr().out
    assert "×" in out


def test_benchmark_times_the_import(capsys):
    bench.main(["--quick", "--filter", "import"])
    assert "import dpnb beyond import numpy:" in capsys.readouterr().out


def test_benchmark_compares_the_whole_first_gradient_with_the_first_primal_and_hand_written_one(capsys):
    bench.main(["--quick", "--filter", "W@x"])
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("sum(W@x+b)") and "primal + hand-written" in ln)
    assert "goal ≤" in line and line.rstrip()[-1] in "✓✗"

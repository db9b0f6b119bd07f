"""The program fuzzer, from the command line (`make fuzz`).

    python tests/fuzz/run.py --n 10000 --seed 0 [--out DIR] [--kinds scalar,numpy]
                             [--timeout 60] [--jobs 2] [--hessian-every 2] [--jvp-every 1]
                             [--size normal] [--shrink 20] [--shrink-budget 90]

Generates `--n` random programs (see `_fuzz_gen.py`), checks each one with
`gradient` against finite differences, `jvp` against `pullback`, and (on every
`--hessian-every`-th) `hessian` against differences of the gradient (see
`_fuzz_check.py`), and prints

- how many were tried, ok, wrong, crashed, refused and skipped;
- the refusals, grouped by the first line of their message;
- the families of wrong and crashed results.

Every wrong or crashed program is written to `--out` (`<status>-<index>.py`: the
source with the report as a comment header). Then up to `--shrink` of them (one per
family first) are shrunk (`_fuzz_shrink.py`) and written to `--out/min/`.

`--timeout` bounds the checks of one program (seconds); a program that runs out of
time counts as crashed.
"""
import argparse
import collections
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [ROOT, HERE]   # this checkout's dpnb, and the fuzzer's modules

from _fuzz_check import ORDER, run_checks, run_many  # noqa: E402
from _fuzz_gen import program_for  # noqa: E402


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="how many programs")
    p.add_argument("--seed", type=int, default=0, help="base seed: program i of seed s is always the same")
    p.add_argument("--start", type=int, default=0, help="index of the first program")
    p.add_argument("--out", default=os.path.join(HERE, "out"), help="where wrong and crashed programs go")
    p.add_argument("--kinds", default="scalar,numpy", help="comma-separated: scalar, numpy")
    p.add_argument("--size", default="normal", choices=["small", "normal"])
    p.add_argument("--timeout", type=float, default=60.0, help="seconds for the checks of one program")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    p.add_argument("--hessian-every", type=int, default=2, help="check the Hessian on every n-th program (0: never)")
    p.add_argument("--jvp-every", type=int, default=1, help="check jvp against pullback on every n-th program (0: never)")
    p.add_argument("--shrink", type=int, default=20, help="shrink at most this many failing programs")
    p.add_argument("--shrink-budget", type=float, default=90.0, help="seconds for shrinking one program")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--replay", nargs="+", metavar="FILE",
                   help="check these saved programs again (files written by a run, or tests/fuzz/found/*.py)")
    return p.parse_args(argv)


def replay(paths, timeout):
    """Check saved programs again; their header says the arguments. Exit status 1 if one still fails."""
    import numpy as np  # noqa: F401  (the headers use np.array)
    from _fuzz_gen import Program

    failed = 0
    work = tempfile.mkdtemp(prefix="dpnb-fuzz-")
    for path in paths:
        text = open(path).read()
        head = dict(re.findall(r"^# (args|hess_target arg|kind) = ?(.*)$", text, re.M))
        kind = re.search(r"kind=(\w+)", text)
        args = eval(head["args"], {"np": np})
        hess = eval(head["hess_target arg"], {"np": np}) if "hess_target arg" in head else None
        source = "\n".join(line for line in text.splitlines() if not line.startswith("# ")).lstrip() + "\n"
        r = run_checks(Program(source, tuple(args), kind.group(1) if kind else "scalar", 0, hess), work,
                       timeout=timeout)
        failed += r.status in ("wrong", "crashed")
        print(f"{path}: {r.status}")
        for o in r.outcomes:
            print(f"    {o.check}: {o.status}" + (f" [{o.key}]" if o.key else ""))
    return 1 if failed else 0


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "x"


def main(argv=None):
    a = parse(argv)
    if a.replay:
        return replay(a.replay, a.timeout)
    kinds = tuple(k.strip() for k in a.kinds.split(",") if k.strip())
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="dpnb-fuzz-")
    say = (lambda *m: None) if a.quiet else (lambda *m: print(*m, file=sys.stderr, flush=True))

    counts = collections.Counter()
    per_check = collections.Counter()
    refusals = collections.Counter()       # key -> programs
    refusal_example = {}
    skipped = collections.Counter()
    families = collections.defaultdict(list)  # (check, status, key) -> indices
    failures = {}                              # index -> Result
    t0 = time.time()
    try:
        _loop(a, kinds, work, t0, say, counts, per_check, refusals, refusal_example, skipped, families, failures)
    except KeyboardInterrupt:   # Ctrl-C: keep what was found so far
        say("interrupted: summarising the programs checked so far")

    minimal = shrink_failures(a, families, failures, work, say)
    text = summary(a, counts, per_check, refusals, refusal_example, skipped, families, minimal, time.time() - t0)
    print(text)
    with open(os.path.join(a.out, "summary.txt"), "w") as fh:
        fh.write(text + "\n")
    return 1 if counts["wrong"] or counts["crashed"] else 0


def _loop(a, kinds, work, t0, say, counts, per_check, refusals, refusal_example, skipped, families, failures):
    for done, (i, r) in enumerate(run_many(a.n, a.seed, kinds, a.size, a.hessian_every, a.jvp_every,
                                           a.timeout, work, a.jobs, a.start), 1):
        counts[r.status] += 1
        seen_refusals = set()
        for o in r.outcomes:
            per_check[o.check, o.status] += 1
            if o.status == "refused" and o.key not in seen_refusals:
                seen_refusals.add(o.key)
                refusals[o.key] += 1
                refusal_example.setdefault(o.key, i)
            if o.status == "skipped" and r.status == "skipped":
                skipped[o.key] += 1
            if o.status in ("wrong", "crashed"):
                families[o.check, o.status, o.key].append(i)
        if r.status in ("wrong", "crashed"):
            failures[i] = r
            with open(os.path.join(a.out, f"{r.status}-{i:05d}.py"), "w") as fh:
                fh.write(r.report() + "\n\n" + r.program.source)
        if done % 100 == 0:
            say(f"[{done}/{a.n}] {time.time() - t0:.0f}s  " + "  ".join(f"{s}={counts[s]}" for s in ORDER))


def shrink_failures(a, families, failures, work, say):
    """Shrink one program per family, then more from the biggest families, up to --shrink."""
    from _fuzz_shrink import shrink

    if not a.shrink or not failures:
        return []
    order = []
    ranked = sorted(families.items(), key=lambda kv: -len(kv[1]))
    depth = 0
    while len(order) < a.shrink and any(len(ix) > depth for _, ix in ranked):
        for fam, ix in ranked:
            if len(ix) > depth and len(order) < a.shrink:
                order.append((fam, ix[depth]))
        depth += 1
    os.makedirs(os.path.join(a.out, "min"), exist_ok=True)
    out = []
    for fam, i in order:
        r = failures[i]
        outcome = next(o for o in r.outcomes if (o.check, o.status, o.key) == fam)
        say(f"shrinking program {i} ({fam[0]} {fam[1]}: {fam[2]}) ...")
        try:
            small = shrink(r.program, work, outcome, budget=a.shrink_budget, timeout=min(a.timeout, 30), log=say)
        except Exception as e:   # a bug in the shrinker must not lose the run's figures
            say(f"  shrinking failed: {type(e).__name__}: {e}")
            continue
        again = run_checks(small, work, (fam[0],), a.timeout)
        name = os.path.join(a.out, "min", f"{slug(fam[0] + '-' + fam[1] + '-' + fam[2])}-{i:05d}.py")
        with open(name, "w") as fh:
            fh.write(again.report() + "\n\n" + small.source)
        out.append((fam, i, name, len(small.source.splitlines())))
    return out


def summary(a, counts, per_check, refusals, refusal_example, skipped, families, minimal, seconds):
    tried = sum(counts.values())
    lines = [f"dpnb program fuzzer: seed {a.seed}, {tried} programs ({a.kinds}, size {a.size}) in {seconds:.0f} s",
             "tried {}  ok {}  wrong {}  crashed {}  refused {}  skipped {}".format(
                 tried, counts["ok"], counts["wrong"], counts["crashed"], counts["refused"], counts["skipped"]),
             "", "per check:"]
    for check in ("gradient", "gradient1", "jvp", "hessian"):
        row = "  ".join(f"{s} {per_check[check, s]}" for s in ORDER if per_check[check, s])
        if row:
            lines.append(f"  {check:9s} {row}")
    if refusals:
        lines += ["", "refusals (programs, message, first program):"]
        for key, n in refusals.most_common():
            lines.append(f"  {n:6d}  {key}   [#{refusal_example[key]}]")
    if families:
        lines += ["", "wrong and crashed (programs, check, status, family, first programs):"]
        for (check, status, key), ix in sorted(families.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"  {len(ix):6d}  {check} {status}: {key}   {ix[:6]}")
    if skipped:
        lines += ["", "skipped programs (reason):"]
        for key, n in skipped.most_common():
            lines.append(f"  {n:6d}  {key}")
    if minimal:
        lines += ["", "shrunk programs:"]
        for (check, status, key), i, name, nlines in minimal:
            lines.append(f"  #{i} {check} {status} ({nlines} lines): {os.path.relpath(name)}")
    lines.append(f"\nprograms that failed are in {a.out}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

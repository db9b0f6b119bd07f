"""Checking one generated program four ways, and classifying what happened.

A program (see `_fuzz_gen.Program`) is written to a real `.py` file and imported,
so dpnb finds its source like any user module. Then:

- ``gradient``: `dpnb.gradient(f, *args)` against central differences of `f`.
  Points near a kink or a jump (where the forward and backward one-sided
  differences disagree) are skipped, never reported; a disagreement is confirmed
  with two more step sizes before it counts.
- ``gradient1``: for a function of one float, `dpnb.gradient(f, x)` (forward mode,
  where it applies) against central differences and against `withgradient`'s
  gradient (the reverse way): two modes compared.
- ``jvp``: `dpnb.jvp` against `dpnb.pullback`: u·(J·t) must equal ⟨Jᵀu, t⟩ for a
  random output cotangent u and random input tangents t. When they differ,
  central differences along t tell which side is off.
- ``hessian``: `dpnb.hessian(hess_target, x)` against central differences of
  `dpnb.gradient(hess_target, ·)`.

Each check ends as one of

- ``ok``: every compared number agrees;
- ``wrong``: a number (or the kind/shape of a result) disagrees;
- ``crashed``: dpnb raised something that is not a `DifferentiationError`
  (an internal error), or the per-program time limit ran out;
- ``refused``: dpnb raised a `DifferentiationError`; its `key` is the first line
  of the message with numbers, paths and generated names normalised;
- ``skipped``: nothing to compare (kink, overflow, the plain program raised).

A program's status is the worst of its checks: crashed > wrong > refused > ok > skipped.

The finite differences here are written out on purpose instead of using
`dpnb.testing`: the checker must not share code with what it checks.
"""
import importlib.util
import itertools
import math
import numbers
import os
import re
import signal
import sys
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

import dpnb
from dpnb.errors import DifferentiationError

CHECKS = ("gradient", "jvp", "hessian")
ORDER = ("crashed", "wrong", "refused", "ok", "skipped")


@dataclass
class Outcome:
    check: str
    status: str
    key: str = ""          # the family: a refusal's or crash's normalised message, or what disagreed
    detail: str = ""       # numbers, traceback: for the report


@dataclass
class Result:
    program: object
    outcomes: list = field(default_factory=list)

    @property
    def status(self):
        if not self.outcomes:
            return "skipped"
        return min((o.status for o in self.outcomes), key=ORDER.index)

    def worst(self):
        """The first outcome with the program's status."""
        for o in self.outcomes:
            if o.status == self.status:
                return o
        return None

    def report(self):
        p = self.program
        lines = [f"# kind={p.kind} seed={p.seed} status={self.status}", f"# args = {p.args_repr()}"]
        if p.hess_arg is not None:
            lines.append(f"# hess_target arg = {_repr(p.hess_arg)}")
        for o in self.outcomes:
            lines.append(f"# {o.check}: {o.status}" + (f" [{o.key}]" if o.key else ""))
            for d in o.detail.splitlines():
                lines.append(f"#     {d}")
        return "\n".join(lines)


def _repr(v):
    if isinstance(v, np.ndarray):
        return f"np.array({v.tolist()!r})"
    return repr(v)


# -- loading a program from a real file ---------------------------------------------------

_counter = itertools.count()


def load(source, directory):
    """Write `source` to a fresh module file in `directory` and import it."""
    name = f"fz_{os.getpid()}_{next(_counter)}"
    path = os.path.join(directory, name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return mod


def unload(mod):
    sys.modules.pop(mod.__name__, None)


# -- time limits ------------------------------------------------------------------------------


class Timeout(BaseException):
    """Raised by the alarm; a BaseException so `except Exception` inside dpnb does not eat it."""


@contextmanager
def time_limit(seconds):
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise Timeout(f"more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# -- normalising messages into families ---------------------------------------------------------

_GENERATED = re.compile(r"\b(fz_\d+_\d+|(?:v|u|l|d|t|o|m|row|acc|h|i|e|k|c|z|a|s|n)\d+)\b")


def normalise(msg):
    first = str(msg).strip().splitlines()[0] if str(msg).strip() else ""
    first = first.split("; ")[0]
    first = re.sub(r"(/[\w.\-]+)+\.py", "FILE", first)
    first = re.sub(r"<[\w.\-]+ object at 0x[0-9a-f]+>", "<object>", first)
    first = _GENERATED.sub(lambda m: re.sub(r"\d+", "N", m.group(0)), first)
    first = re.sub(r"0x[0-9a-f]+", "0xN", first)
    first = re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "N", first)
    return first[:200]


def classify_exception(check, exc):
    if isinstance(exc, Timeout):
        return Outcome(check, "crashed", "Timeout", str(exc))
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-12:])
    if isinstance(exc, DifferentiationError):
        return Outcome(check, "refused", f"{type(exc).__name__}: {normalise(exc)}", tb)
    return Outcome(check, "crashed", f"{type(exc).__name__}: {normalise(exc)}", tb)


# -- the arguments as one real vector ------------------------------------------------------------


def _fresh(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _flatten(args):
    return np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in args]) if args else np.zeros(0)


def _unflatten(v, like):
    out, pos = [], 0
    for a in like:
        if isinstance(a, np.ndarray):
            n = a.size
            out.append(np.array(v[pos:pos + n], dtype=float).reshape(a.shape))
            pos += n
        else:
            out.append(float(v[pos]))
            pos += 1
    return tuple(out)


def _as_real(y):
    """A real scalar as a float, or None when `y` is not one."""
    if isinstance(y, (bool, np.bool_)):
        return None
    if isinstance(y, numbers.Real):
        return float(y)
    if isinstance(y, np.ndarray) and y.size == 1 and y.dtype.kind in "iuf":
        return float(y.reshape(()))
    return None


def _cotangent_vector(bars, args, what):
    """dpnb's per-argument results as one vector shaped like `_flatten(args)`; raises _Kind if a kind is wrong."""
    if not isinstance(bars, tuple) or len(bars) != len(args):
        raise _Kind(f"{what} returned {type(bars).__name__} of length {_len(bars)}, expected a tuple of {len(args)}")
    parts = []
    for i, (b, a) in enumerate(zip(bars, args)):
        if isinstance(a, np.ndarray):
            if b is None:
                parts.append(np.zeros(a.size))
            elif isinstance(b, np.ndarray) and b.shape == a.shape and b.dtype.kind == "f":
                parts.append(b.astype(float).ravel())
            else:
                raise _Kind(f"{what}[{i}] is {_describe(b)} for an ndarray argument of shape {a.shape}")
        else:
            if b is None:
                parts.append(np.zeros(1))
            elif isinstance(b, numbers.Real) and not isinstance(b, (bool, np.bool_)):
                parts.append(np.array([float(b)]))
            else:
                raise _Kind(f"{what}[{i}] is {_describe(b)} for a float argument")
    return np.concatenate(parts) if parts else np.zeros(0)


def _len(x):
    try:
        return len(x)
    except TypeError:
        return "-"


def _describe(b):
    if isinstance(b, np.ndarray):
        return f"ndarray of shape {b.shape} dtype {b.dtype}"
    return f"{type(b).__name__} {b!r:.60}"


class _Kind(Exception):
    pass


# -- finite differences ----------------------------------------------------------------------------

KINK = 1e-2      # one-sided differences disagreeing by more than this (relatively): a kink or a jump
RTOL = 2e-5      # agreement of dpnb with central differences


def _central(F, v, d, h, y0):
    """Central, forward and backward differences of F at v along d, with step h."""
    fp = F(v + h * d)
    fm = F(v - h * d)
    return (fp - fm) / (2 * h), (fp - y0) / h, (y0 - fm) / h


def _agree(a, b, scale):
    return np.all(np.abs(np.asarray(a) - np.asarray(b)) <= RTOL * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b))) + scale)


def _compare_directional(F, v, d, y0, got, noise):
    """'ok', 'skip' or 'wrong' for `got` as the derivative of F at v along d (F may return vectors)."""
    try:
        c1, fw, bw = _central(F, v, d, 1e-6, y0)
    except Exception:
        return "skip", None
    if not (np.all(np.isfinite(c1)) and np.all(np.isfinite(fw)) and np.all(np.isfinite(bw))):
        return "skip", c1
    if np.any(np.abs(fw - bw) > KINK * np.maximum(1.0, np.abs(c1))):
        return "skip", c1
    if not np.all(np.isfinite(got)):
        return "wrong", c1
    if _agree(got, c1, noise):
        return "ok", c1
    # confirm with two more steps before calling it wrong
    try:
        c2, fw2, bw2 = _central(F, v, d, 1e-4, y0)
        c3, _, _ = _central(F, v, d, 1e-5, y0)
    except Exception:
        return "skip", c1
    if _agree(got, c2, noise) or _agree(got, c3, noise):
        return "ok", c1
    if np.any(np.abs(fw2 - bw2) > KINK * np.maximum(1.0, np.abs(c2))):
        return "skip", c1
    if not (_agree(c1, c3, noise) and _agree(c2, c3, 10 * noise + 1e-4)):
        return "skip", c1   # the differences do not settle: not smooth enough here to judge
    return "wrong", c1


# -- the three checks -------------------------------------------------------------------------------


def _primal(f, args):
    return f(*_fresh(args))


def check_gradient(f, args, y0, grad=None):
    """`grad` (default: `dpnb.withgradient`, whose value must be the plain call's) of `f`
    at `args` against central differences."""
    y = y0
    try:
        if grad is None:
            y, bars = dpnb.withgradient(f, *_fresh(args))
        else:
            bars = grad(f, *_fresh(args))
    except (Exception, Timeout) as e:
        return classify_exception("gradient", e)
    yy = _as_real(y)
    if yy is None or not (yy == y0 or abs(yy - y0) <= 1e-9 * max(1.0, abs(y0))):
        return Outcome("gradient", "wrong", "gradient primal value",
                       f"withgradient gives f = {y!r}, the plain call {y0!r}")
    try:
        g = _cotangent_vector(bars, args, "gradient")
    except _Kind as e:
        return Outcome("gradient", "wrong", "gradient kind", str(e))
    v = _flatten(args)
    F = lambda w: _as_real(f(*_unflatten(w, args)))
    noise = 1e-7 * max(1.0, abs(y0))
    compared, bad = 0, []
    for j in range(v.size):
        d = np.zeros(v.size)
        d[j] = 1.0
        verdict, fd = _compare_directional(F, v, d, y0, g[j], noise)
        if verdict == "skip":
            continue
        compared += 1
        if verdict == "wrong":
            bad.append(f"entry {j} ({_entry_name(args, j)}): dpnb {g[j]!r}, central differences {fd!r}")
    if bad:
        return Outcome("gradient", "wrong", "gradient value", "\n".join(bad))
    if not compared:
        return Outcome("gradient", "skipped", "kink")
    return Outcome("gradient", "ok")


def _entry_name(args, j):
    pos = 0
    for i, a in enumerate(args):
        n = a.size if isinstance(a, np.ndarray) else 1
        if j < pos + n:
            if isinstance(a, np.ndarray):
                return f"argument {i}{list(np.unravel_index(j - pos, a.shape))}"
            return f"argument {i}"
        pos += n
    return "?"


def check_jvp(f, args, y0, seed):
    rng = np.random.default_rng(seed)
    t = tuple(rng.normal(size=a.shape) if isinstance(a, np.ndarray) else float(rng.normal()) for a in args)
    u = float(rng.uniform(0.5, 1.5))
    try:
        y1, back = dpnb.pullback(f, *_fresh(args))
        bars = back(u)
    except (Exception, Timeout) as e:
        o = classify_exception("jvp", e)
        o.key = "pullback: " + o.key
        return o
    try:
        y2, ydot = dpnb.jvp(f, _fresh(args), t)
    except (Exception, Timeout) as e:
        return classify_exception("jvp", e)
    for name, y in (("pullback", y1), ("jvp", y2)):
        yy = _as_real(y)
        if yy is None or not (yy == y0 or abs(yy - y0) <= 1e-9 * max(1.0, abs(y0))):
            return Outcome("jvp", "wrong", f"{name} primal value", f"{name} gives f = {y!r}, the plain call {y0!r}")
    ydot_r = _as_real(ydot)
    if ydot_r is None:
        return Outcome("jvp", "wrong", "jvp kind", f"jvp tangent is {_describe(ydot)} for a scalar output")
    try:
        gbar = _cotangent_vector(bars, args, "pullback")
    except _Kind as e:
        return Outcome("jvp", "wrong", "pullback kind", str(e))
    tv = _flatten(t)
    lhs = u * ydot_r
    rhs = float(gbar @ tv)
    if abs(lhs - rhs) <= 1e-7 * max(1.0, abs(lhs), abs(rhs), float(np.abs(gbar).sum())):
        return Outcome("jvp", "ok")
    v = _flatten(args)
    F = lambda w: _as_real(f(*_unflatten(w, args)))
    noise = 1e-7 * max(1.0, abs(y0))
    vj, fd = _compare_directional(F, v, tv, y0, ydot_r, noise)
    vp, _ = _compare_directional(F, v, tv, y0, rhs / u, noise)
    detail = (f"u = {u!r}, t = {_repr_t(t)}\n"
              f"jvp: J·t = {ydot_r!r}; pullback: <J^T u, t>/u = {rhs / u!r}; central differences along t: {fd!r}")
    if vj == "skip":
        return Outcome("jvp", "skipped", "kink", detail)
    if vj == "ok" and vp == "wrong":
        return Outcome("jvp", "wrong", "pullback disagrees with jvp and differences", detail)
    if vj == "wrong" and vp == "ok":
        return Outcome("jvp", "wrong", "jvp disagrees with pullback and differences", detail)
    return Outcome("jvp", "wrong", "jvp and pullback disagree", detail)


def check_one_float(f, x, y0):
    """`dpnb.gradient(f, x)` of one float (forward mode, where it applies) against central
    differences, and against the reverse way's gradient (`withgradient`): two modes compared."""
    o = check_gradient(f, (x,), y0, dpnb.gradient)
    o.check = "gradient1"
    if o.status != "ok":
        return o
    try:
        (g,) = dpnb.gradient(f, x)
        _, (r,) = dpnb.withgradient(f, x)
    except (Exception, Timeout) as e:
        return classify_exception("gradient1", e)
    g, r = (0.0 if v is None else v for v in (g, r))
    if type(g) is not float:
        return Outcome("gradient1", "wrong", "gradient1 kind", f"gradient of a float is {type(g).__name__}")
    if not (g == r or abs(g - r) <= 1e-9 * max(1.0, abs(g), abs(r)) or (math.isnan(g) and math.isnan(r))):
        return Outcome("gradient1", "wrong", "gradient1 and withgradient disagree", f"gradient {g!r}, withgradient {r!r}")
    return o


def _repr_t(t):
    return "(" + ", ".join(np.array2string(np.asarray(x), precision=4) for x in t) + ")"


def check_hessian(h, x0):
    """`dpnb.hessian(h, x0)` against central differences of `dpnb.gradient(h, ·)`."""
    scalar = not isinstance(x0, np.ndarray)
    try:
        H = dpnb.hessian(h, x0.copy() if not scalar else x0)
    except (Exception, Timeout) as e:
        return classify_exception("hessian", e)
    n = 1 if scalar else x0.size
    if scalar:
        if _as_real(H) is None or isinstance(H, np.ndarray) and H.ndim != 0:
            return Outcome("hessian", "wrong", "hessian kind", f"hessian is {_describe(H)} for a float argument")
        Hm = np.array([[float(H)]])
    else:
        if not isinstance(H, np.ndarray) or H.shape != x0.shape * 2:
            return Outcome("hessian", "wrong", "hessian kind",
                           f"hessian is {_describe(H)} for an argument of shape {x0.shape}")
        Hm = np.asarray(H, dtype=float).reshape(n, n)

    def G(w):
        x = float(w[0]) if scalar else w.reshape(x0.shape)
        (g,) = dpnb.gradient(h, x)
        if g is None:
            return np.zeros(n)
        return np.ravel(np.asarray(g, dtype=float))

    v = np.array([float(x0)]) if scalar else x0.astype(float).ravel()
    try:
        g0 = G(v)
    except Exception:
        return Outcome("hessian", "skipped", "gradient unavailable")
    if g0.shape != (n,):
        return Outcome("hessian", "skipped", "gradient unavailable")
    noise = 1e-7 * max(1.0, float(np.abs(g0).max(initial=0.0)))
    compared, bad = 0, []
    for j in range(n):
        d = np.zeros(n)
        d[j] = 1.0
        verdict, fd = _compare_directional(G, v, d, g0, Hm[:, j], noise)
        if verdict == "skip":
            continue
        compared += 1
        if verdict == "wrong":
            bad.append(f"column {j}: dpnb {np.array2string(Hm[:, j], precision=6)}, "
                       f"differences of the gradient {np.array2string(np.asarray(fd), precision=6)}")
    if bad:
        return Outcome("hessian", "wrong", "hessian value", "\n".join(bad[:4]))
    if not compared:
        return Outcome("hessian", "skipped", "kink")
    return Outcome("hessian", "ok")


# -- one program ------------------------------------------------------------------------------------


def run_checks(program, directory, checks=CHECKS, timeout=None, grad=None):
    """Load `program` from a file in `directory` and run `checks` on it: a `Result`."""
    result = Result(program)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            with time_limit(timeout):
                _run(program, directory, checks, result, grad)
        except Timeout as e:
            done = {o.check for o in result.outcomes}
            todo = [c for c in checks if c not in done] or [checks[-1]]
            result.outcomes.append(Outcome(todo[0], "crashed", "Timeout", str(e)))
    return result


def _run(program, directory, checks, result, grad):
    try:
        mod = load(program.source, directory)
    except Exception as e:
        result.outcomes.append(Outcome("load", "skipped", f"does not load: {type(e).__name__}", str(e)))
        return
    try:
        f = mod.f
        args = program.args
        try:
            y0 = _as_real(_primal(f, args))
        except Exception as e:
            result.outcomes.append(Outcome("primal", "skipped", f"primal raised {type(e).__name__}", str(e)))
            return
        if y0 is None or not math.isfinite(y0) or abs(y0) > 1e6:
            result.outcomes.append(Outcome("primal", "skipped", "overflow or not a real scalar", repr(y0)))
            return
        if "gradient" in checks:
            result.outcomes.append(check_gradient(f, args, y0, grad))
            if grad is None and len(args) == 1 and type(args[0]) is float:
                result.outcomes.append(check_one_float(f, args[0], y0))
        if "jvp" in checks:
            result.outcomes.append(check_jvp(f, args, y0, program.seed))
        if "hessian" in checks and program.hess_arg is not None and hasattr(mod, "hess_target"):
            result.outcomes.append(check_hessian(mod.hess_target, program.hess_arg))
    finally:
        unload(mod)
        _maybe_refresh()


def with_source(program, source):
    return replace(program, source=source)


_loaded = itertools.count(1)


def _maybe_refresh(every=100):
    """Empty dpnb's caches now and then: each program is new code, but dpnb's own
    helpers (which higher-order modes transform) are worth keeping between programs."""
    if next(_loaded) % every == 0:
        dpnb.refresh()


# -- many programs, in worker processes ---------------------------------------------------------------


def checks_for(index, hessian_every=2, jvp_every=1):
    """Which checks the `index`-th program of a run gets: the gradient always, jvp and the
    Hessian on every n-th program (0: never)."""
    out = ["gradient"]
    if jvp_every and index % jvp_every == 0:
        out.append("jvp")
    if hessian_every and index % hessian_every == 0:
        out.append("hessian")
    return tuple(out)


def _work(job):
    from _fuzz_gen import program_for

    index, seed, kinds, size, hessian_every, jvp_every, timeout, directory = job
    program = program_for(index, seed, kinds, size)
    result = run_checks(program, directory, checks_for(index, hessian_every, jvp_every), timeout)
    for o in result.outcomes:   # tracebacks hold frames; keep only their text
        o.detail = str(o.detail)
    return index, result


def run_many(n, seed=0, kinds=("scalar", "numpy"), size="normal", hessian_every=2, jvp_every=1, timeout=60,
             directory=None, jobs=2, start=0):
    """Yield `(index, Result)` for programs `start .. start+n-1`, in order, checked by `jobs` processes."""
    import multiprocessing
    import tempfile

    directory = directory or tempfile.mkdtemp(prefix="dpnb-fuzz-")
    todo = [(i, seed, tuple(kinds), size, hessian_every, jvp_every, timeout, directory)
            for i in range(start, start + n)]
    if jobs <= 1:
        for job in todo:
            yield _work(job)
        return
    ctx = multiprocessing.get_context("fork")
    # each worker keeps its dpnb caches warm; a worker is replaced every 100 programs
    # (the higher-order checks grow dpnb's caches by several MB a program)
    with ctx.Pool(jobs, maxtasksperchild=100) as pool:
        yield from pool.imap(_work, todo, chunksize=4)

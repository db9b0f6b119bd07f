"""Every NumPy rule with Dask operands, and with NumPy operands mixed with Dask data.

Every NumPy callable with a rule in the registry has rows in the rule tables
(`tests/rules/test_numpy_*.py`); those rows, and the array rows of the `operator` table
(written as Python's operators), are run through
`gradient(lambda *xs: sum(f(*xs) * weight))` with a Dask weight (so that the result
always depends on Dask data) in four ways: (a) every float array operand a Dask array,
(b) the first one a NumPy array and the others Dask arrays, (c) the first one a Dask
array and the others NumPy arrays, (d) every one a NumPy array (the cotangent alone is
Dask's). A scheduler that refuses to run stands in while the gradient is built. Each way
either gives lazy Dask gradients (NumPy and Dask make Dask, and so do their cotangents)
equal to the all-NumPy gradient, or raises a NoRuleError (or DifferentiationError)
naming the function: never a computation while differentiating, never a NumPy gradient
for a value that depends on Dask data, never a wrong value. What Dask itself cannot run
lazily (the call alone fails or computes) is skipped, saying so.
"""
import copy
import functools
import importlib
import operator
import pathlib
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dpnb import DifferentiationError, gradient  # noqa: E402
from dpnb.rules.registry import RULES  # noqa: E402

_RULES_DIR = str(pathlib.Path(__file__).resolve().parent.parent / "rules")
if _RULES_DIR not in sys.path:
    sys.path.insert(0, _RULES_DIR)

try:
    from .test_dask import _Refuse
except ImportError:  # tests/ is not a package
    from test_dask import _Refuse


# --- the rows ---------------------------------------------------------------------------------


def _add(a, b):
    return a + b


def _sub(a, b):
    return a - b


def _mul(a, b):
    return a * b


def _truediv(a, b):
    return a / b


def _floordiv(a, b):
    return a // b


def _mod(a, b):
    return a % b


def _pow(a, b):
    return a**b


def _matmul(a, b):
    return a @ b


def _neg(a):
    return -a


def _pos(a):
    return +a


def _abs(a):
    return abs(a)


def _getitem(a, i):
    return a[i]


def _iadd(a, b):
    a += b
    return a


def _isub(a, b):
    a -= b
    return a


def _imul(a, b):
    a *= b
    return a


def _itruediv(a, b):
    a /= b
    return a


def _imatmul(a, b):
    a @= b
    return a


#: `operator` functions as the operators a program writes (the generated code's own fast paths)
SYNTAX = {
    operator.add: _add, operator.sub: _sub, operator.mul: _mul, operator.truediv: _truediv,
    operator.floordiv: _floordiv, operator.mod: _mod, operator.pow: _pow, operator.matmul: _matmul,
    operator.neg: _neg, operator.pos: _pos, operator.abs: _abs, operator.getitem: _getitem,
    operator.iadd: _iadd, operator.isub: _isub, operator.imul: _imul, operator.itruediv: _itruediv,
    operator.imatmul: _imatmul,
}


# ndarray methods as a program calls them: `x.sum(...)` (on a Dask array, Dask's own method)


def _m___neg__(x):
    return x.__neg__()


def _m___pos__(x):
    return x.__pos__()


def _m___abs__(x):
    return x.__abs__()


def _m_astype(x, *args, **kwargs):
    return x.astype(*args, **kwargs)


def _m_clip(x, *args, **kwargs):
    return x.clip(*args, **kwargs)


def _m_conj(x, *args, **kwargs):
    return x.conj(*args, **kwargs)


def _m_conjugate(x, *args, **kwargs):
    return x.conjugate(*args, **kwargs)


def _m_copy(x, *args, **kwargs):
    return x.copy(*args, **kwargs)


def _m_cumprod(x, *args, **kwargs):
    return x.cumprod(*args, **kwargs)


def _m_cumsum(x, *args, **kwargs):
    return x.cumsum(*args, **kwargs)


def _m_diagonal(x, *args, **kwargs):
    return x.diagonal(*args, **kwargs)


def _m_dot(x, *args, **kwargs):
    return x.dot(*args, **kwargs)


def _m_flatten(x, *args, **kwargs):
    return x.flatten(*args, **kwargs)


def _m_item(x, *args, **kwargs):
    return x.item(*args, **kwargs)


def _m_max(x, *args, **kwargs):
    return x.max(*args, **kwargs)


def _m_mean(x, *args, **kwargs):
    return x.mean(*args, **kwargs)


def _m_min(x, *args, **kwargs):
    return x.min(*args, **kwargs)


def _m_prod(x, *args, **kwargs):
    return x.prod(*args, **kwargs)


def _m_ravel(x, *args, **kwargs):
    return x.ravel(*args, **kwargs)


def _m_repeat(x, *args, **kwargs):
    return x.repeat(*args, **kwargs)


def _m_reshape(x, *args, **kwargs):
    return x.reshape(*args, **kwargs)


def _m_round(x, *args, **kwargs):
    return x.round(*args, **kwargs)


def _m_squeeze(x, *args, **kwargs):
    return x.squeeze(*args, **kwargs)


def _m_std(x, *args, **kwargs):
    return x.std(*args, **kwargs)


def _m_sum(x, *args, **kwargs):
    return x.sum(*args, **kwargs)


def _m_swapaxes(x, *args, **kwargs):
    return x.swapaxes(*args, **kwargs)


def _m_take(x, *args, **kwargs):
    return x.take(*args, **kwargs)


def _m_tolist(x, *args, **kwargs):
    return x.tolist(*args, **kwargs)


def _m_trace(x, *args, **kwargs):
    return x.trace(*args, **kwargs)


def _m_transpose(x, *args, **kwargs):
    return x.transpose(*args, **kwargs)


def _m_var(x, *args, **kwargs):
    return x.var(*args, **kwargs)


def _m___getitem__(x, index):
    return x[index]


METHODS = {n[3:]: f for n, f in list(globals().items()) if n.startswith("_m_")}


def _is_numpy(f):
    owner = getattr(f, "__objclass__", None) or getattr(f, "__self__", None)
    if owner is not None and not isinstance(owner, type):
        owner = type(owner)
    module = getattr(owner, "__module__", None) if owner is not None else getattr(f, "__module__", None)
    return (module or "").partition(".")[0] == "numpy"


def _is_method(f):
    return isinstance(getattr(f, "__objclass__", None), type) and issubclass(f.__objclass__, np.ndarray)


def _rows():
    rows = []
    for p in sorted(pathlib.Path(_RULES_DIR).glob("test_numpy_*.py")):
        table = importlib.import_module(p.stem)
        for case in getattr(table, "CASES", ()):
            if _is_numpy(case.f) and case.f in RULES and not case.lazy:
                rows.append((p.stem[len("test_numpy_"):], case))
    import test_python_operator

    for case in test_python_operator.CASES:
        if case.f in SYNTAX and any(_has_array(a) for a in case.args):
            rows.append(("operator", case))
    return rows


def _has_array(spec):
    from _tables import A, Seq

    if isinstance(spec, Seq):
        return any(_has_array(s) for s in spec.items)
    return isinstance(spec, (A, np.ndarray))


ROWS = _rows()


def test_every_numpy_rule_is_swept():
    from dpnb.rules.namespaces import FOREIGN_MODULES

    swept = {case.f for _, case in ROWS}
    missing = [
        getattr(f, "__qualname__", repr(f))
        for f, rule in list(RULES.items())
        if _is_numpy(f) and (getattr(rule, "__module__", None) or "").startswith("dpnb.rules")
        and not hasattr(rule, "__wrapped__") and f not in swept
        and (getattr(f, "__module__", None) or "").partition(".")[0] not in FOREIGN_MODULES
    ]
    assert not missing, f"NumPy rules with no row to sweep: {missing}"


def _examples(case):
    """Drawn examples of the row's arguments, hypothesis's simplest (first) one last."""
    seen = []

    @settings(
        max_examples=3, derandomize=True, database=None, phases=[Phase.generate], deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def draw(data):
        seen.append(data.draw(case.strategy()))

    draw()
    return seen[::-1]


# --- the loss ---------------------------------------------------------------------------------


def _float_array(v):
    return type(v) is np.ndarray and v.dtype.kind in "fc"


def _leaf(v):
    return _float_array(v) or type(v) in (float, complex)


def _layout(args, kwargs):
    """The call's arguments with the values that can carry a gradient taken out, as leaves:
    (layout of the positional arguments, of the keywords, the leaves)."""
    leaves = []

    def take(v):
        if _leaf(v):
            leaves.append(v)
            return ("leaf", len(leaves) - 1)
        if type(v) in (list, tuple) and any(_leaf(e) for e in v):
            return ("seq", type(v), [take(e) for e in v])
        return ("const", v)

    pos = [take(a) for a in args]
    kw = {k: take(v) for k, v in kwargs.items()}
    return pos, kw, leaves


def _rebuild(layout, leaves):
    if layout[0] == "leaf":
        return leaves[layout[1]]
    if layout[0] == "seq":
        return layout[1]([_rebuild(e, leaves) for e in layout[2]])
    return layout[1]


def _call(f, args, kwargs):
    if f in SYNTAX:
        return SYNTAX[f](*args)
    if _is_method(f):
        return METHODS[f.__name__](*args, **kwargs)
    return f(*args, **kwargs)


def _total(y, w):
    if isinstance(y, (tuple, list)):
        t = 0.0
        for yi, wi in zip(y, w):
            if wi is not None:
                t = t + _total(yi, wi)
        return t
    if w.dtype.kind == "c":
        return np.sum(np.real(y * w))
    return np.sum(y * w)


def _loss(f, pos, kw, weights):
    def loss(*leaves):
        args = [_rebuild(a, leaves) for a in pos]
        kwargs = {k: _rebuild(v, leaves) for k, v in kw.items()}
        return _total(_call(f, args, kwargs), weights)

    return loss


def _weights(y, rng):
    """A NumPy weight for each float or complex part of the output `y` (None for the others)."""
    if isinstance(y, (tuple, list)):
        return [_weights(e, rng) for e in y]
    dtype = np.asarray(y).dtype
    if dtype.kind not in "fc":
        return None
    w = rng.uniform(0.5, 1.5, np.shape(y))
    if dtype.kind == "c":
        w = w + 1j * rng.uniform(-1.0, 1.0, np.shape(y))
    return w.astype(dtype)


def _chunks(shape):
    """Two chunks along the first axis longer than 1 (one chunk when there is none)."""
    for i, n in enumerate(shape):
        if n > 1:
            return shape[:i] + ((n + 1) // 2,) + shape[i + 1:]
    return shape


def _dask(x):
    return da.from_array(x, chunks=_chunks(x.shape))


def _map(weights, to):
    if isinstance(weights, list):
        return [_map(w, to) for w in weights]
    return None if weights is None else to(weights)


def _copied(v):
    """A fresh copy of the call's arguments (the in-place operators and the draws change them)."""
    return copy.deepcopy(v)


#: which of the float array operands (the k-th of n) are Dask arrays; the weight is one always
MODES = {
    "dask": lambda k, n: True,
    "numpy-first": lambda k, n: k > 0,
    "dask-first": lambda k, n: k == 0,
    "numpy": lambda k, n: False,  # NumPy operands alone: the cotangent is Dask's
}


def _params():
    return [
        pytest.param(i, mode, id=f"{table}:{case.id}:{mode}")
        for i, (table, case) in enumerate(ROWS)
        for mode in MODES
    ]


def _run(f, pos, kw, leaves, weights):
    """The gradient, on fresh copies of the call's arguments (a generator among them draws the
    same numbers each time)."""
    np.random.seed(7)
    pos, kw = _copied((pos, kw))
    return gradient(_loss(f, pos, kw, weights), *_copied(leaves))


@functools.lru_cache(maxsize=None)
def _prepare(index):
    """The row's call taken apart into leaves, the weights of its outputs and the all-NumPy
    gradient, for the first drawn example on which NumPy's call and gradient work (None when
    its result is made of integers); the same for the four ways."""
    _, case = ROWS[index]
    failed = None
    for args in _examples(case):
        pos, kw, leaves = _layout(list(args), dict(case.kwargs))
        try:
            np.random.seed(7)
            call = ([_rebuild(a, leaves) for a in pos], {k: _rebuild(v, leaves) for k, v in kw.items()})
            y = _call(case.f, *_copied(call))
            weights = _weights(y, np.random.default_rng(index))
            if not any(w is not None for w in _flat(weights)):
                return None  # an integer result: no gradient
            expected = _run(case.f, pos, kw, leaves, weights)
        except Exception as e:  # a draw outside the function's domain (uniform's low above high)
            failed = e
            continue
        return pos, kw, leaves, weights, expected
    raise failed


def _flat(weights):
    return [e for w in weights for e in _flat(w)] if isinstance(weights, list) else [weights]


def _names(f, error):
    if f in SYNTAX:
        return True  # the operators' messages name the operator's rule
    return f.__name__.strip("_") in str(error)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::RuntimeWarning", "ignore::FutureWarning")
@pytest.mark.parametrize("index,mode", _params())
def test_mixed(index, mode):
    table, case = ROWS[index]
    prepared = _prepare(index)
    if prepared is None:
        pytest.skip("an integer result")
    pos, kw, leaves, weights, expected = prepared
    arrays = [i for i, v in enumerate(leaves) if _float_array(v)]
    if not arrays:
        pytest.skip("no float array operand")
    flags = [MODES[mode](k, len(arrays)) for k in range(len(arrays))]
    earlier = list(MODES)[: list(MODES).index(mode)]
    if any([MODES[m](k, len(arrays)) for k in range(len(arrays))] == flags for m in earlier):
        pytest.skip("the same as another way")
    mixed = list(leaves)
    for k, i in enumerate(arrays):
        if flags[k]:
            mixed[i] = _dask(leaves[i])
    dweights = _map(weights, _dask)

    # the program itself, run on these arrays: what Dask cannot do lazily is no rule's fault
    refuse = _Refuse()
    with dask.config.set(scheduler=refuse):
        try:
            np.random.seed(7)
            _loss(case.f, *_copied((pos, kw)), dweights)(*_copied(mixed))
            plain = None
        except Exception as e:
            plain = e

    refuse = _Refuse()
    with dask.config.set(scheduler=refuse):
        try:
            got = _run(case.f, pos, kw, mixed, dweights)
        except DifferentiationError as e:  # NoRuleError is one
            assert refuse.calls == 0, f"computed before refusing: {e}"
            assert _names(case.f, e), f"the error does not name {case.f.__name__}: {e}"
            return
        except Exception as e:
            if plain is not None and type(e) is type(plain):
                pytest.skip(f"Dask cannot run the call lazily: {type(plain).__name__}: {str(plain)[:120]}")
            raise
    assert refuse.calls == 0
    low = any(np.asarray(v).dtype in (np.float32, np.complex64) for v in leaves)
    for i, (g, e, x) in enumerate(zip(got, expected, leaves)):
        assert g is None or isinstance(g, da.Array), (
            f"leaf {i} ({'dask' if mixed[i] is not x else type(x).__name__}) got a {type(g).__name__} gradient"
        )
        with dask.config.set(scheduler="sync"):
            g = np.zeros(np.shape(x)) if g is None else g.compute()
        e = np.zeros(np.shape(x)) if e is None else np.asarray(e)
        assert np.shape(g) == np.shape(e), f"leaf {i}: shape {np.shape(g)}, NumPy's {np.shape(e)}"
        np.testing.assert_allclose(g, e, rtol=1e-4 if low else 1e-9, atol=1e-5 if low else 1e-11,
                                   err_msg=f"leaf {i}")

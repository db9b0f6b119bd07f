"""Rules for `scipy.ndimage`'s linear filters: `correlate`, `convolve`, `correlate1d`, `convolve1d`,
`gaussian_filter`, `gaussian_filter1d`, `uniform_filter` and `uniform_filter1d`.

Each is a correlation of the input extended past its edges: along an axis of length n, a kernel
of K weights placed at `origin` reads `before = K // 2 + origin` entries before the first and
`K - 1 - before` after the last, which the mode makes up from the input's own entries
('reflect' d c b a | a b c d | d c b a, 'mirror' d c b | a b c d | c b a, 'nearest', 'wrap') or
sets to `cval` ('constant'; the 'grid-' names are the same modes for these filters). So with
`xp = extend(x)` (`_extend`), `y = correlate_valid(xp, w)`, and the pullback is
`xp_bar = convolve_full(y_bar, w)` folded back onto x (`_fold`: each made-up entry's cotangent
goes to the entry it copies, or to `cval`), `w_bar = correlate_valid(xp, y_bar)`. `convolve` is
`correlate` with the kernel flipped and the origin mirrored (`-origin`, one less for an even K),
as SciPy defines it. The Gaussian and uniform filters are such correlations along each axis in
turn, with SciPy's own kernels (read off by filtering a unit impulse); `sigma`, `truncate` and
`size` get no derivative (a `NotImplementedTangent` for `sigma`). The pullbacks call rules only
(`_extend` and `_fold` are each other's adjoints), so jvp and second derivatives go through them.

Refused: an `output` array (write `out[...] = f(...)` instead; a dtype is fine), `axes=` of
`correlate`/`convolve`, and an integer result (its truncation has no gradient: zero, as for
`astype(int)`).
"""
import numpy as np
import scipy.ndimage as ndi
import scipy.signal as ssig

from ...errors import DifferentiationError
from ...tangents import NotImplementedTangent
from .. import registry
from .._common import to_like

_MODES = {"reflect": "reflect", "grid-mirror": "reflect", "mirror": "mirror", "nearest": "nearest",
          "wrap": "wrap", "grid-wrap": "wrap", "constant": "constant", "grid-constant": "constant"}


def _index(n, before, after, mode):
    """`(idx, inside)`: for each entry of an axis of length n extended by `before` and `after`
    entries, the entry of the axis it copies, and whether it is one (not `cval`)."""
    j = np.arange(-before, n + after)
    if mode == "reflect":
        m = j % (2 * n)
        idx = np.where(m < n, m, 2 * n - 1 - m)
    elif mode == "mirror":
        if n == 1:
            idx = np.zeros_like(j)
        else:
            m = j % (2 * n - 2)
            idx = np.where(m < n, m, 2 * n - 2 - m)
    elif mode == "nearest":
        idx = np.clip(j, 0, n - 1)
    elif mode == "wrap":
        idx = j % n
    else:  # constant
        idx = np.clip(j, 0, n - 1)
    inside = (j >= 0) & (j < n) if mode == "constant" else np.ones(j.shape, bool)
    return idx, inside


def _extend(x, axis, before, after, mode, cval):
    """`x` extended along `axis` as the filters extend it."""
    idx, inside = _index(x.shape[axis], before, after, mode)
    shape = [1] * x.ndim
    shape[axis] = idx.size
    xp = np.take(x, idx, axis=axis)
    if mode == "constant":
        xp = np.where(np.reshape(inside, shape), xp, cval)
    return xp


def _fold(g, axis, n, before, after, mode):
    """The adjoint of `_extend` in its array: the cotangent of each made-up entry added to the
    entry it copies."""
    idx, inside = _index(n, before, after, mode)
    shape = [1] * g.ndim
    shape[axis] = idx.size
    g = np.moveaxis(g * np.reshape(inside, shape), axis, 0)
    out = np.zeros((n,) + g.shape[1:], g.dtype)
    np.add.at(out, idx, g)
    return np.moveaxis(out, 0, axis)


def _extend_rrule(x, axis, before, after, mode, cval):
    y = _extend(x, axis, before, after, mode, cval)

    def _extend_pullback(y_bar):
        x_bar = _fold(y_bar, axis, np.shape(x)[axis], before, after, mode)
        cval_bar = None
        if mode == "constant":
            _, inside = _index(np.shape(x)[axis], before, after, mode)
            shape = [1] * np.ndim(y_bar)
            shape[axis] = inside.size
            cval_bar = np.sum(y_bar * np.reshape(~inside, shape))
        return None, x_bar, None, None, None, None, cval_bar

    return y, _extend_pullback


def _fold_rrule(g, axis, n, before, after, mode):
    y = _fold(g, axis, n, before, after, mode)

    def _fold_pullback(y_bar):
        return None, _extend(y_bar, axis, before, after, mode, 0.0), None, None, None, None, None

    return y, _fold_pullback


registry.register(_extend, _extend_rrule)
registry.register(_fold, _fold_rrule)


def _plan(axes, sizes, origins, modes):
    """[(axis, before, after, mode)] for kernels of `sizes` placed at `origins` along `axes`."""
    out = []
    for axis, K, origin, mode in zip(axes, sizes, origins, modes):
        if mode not in _MODES:
            raise DifferentiationError(f"scipy.ndimage mode={mode!r} has no differentiation rule")
        before = K // 2 + int(origin)
        out.append((axis, before, K - 1 - before, _MODES[mode]))
    return out


def _pass_bars(x, W, plan, cval, g, weights=True):
    """`(x_bar, W_bar, cval_bar)` of `y = correlate_valid(xp, W)`, `xp` being `x` extended along
    the axes of `plan` in turn (`W` has x's number of axes), for the cotangent `g`; `W_bar`
    None unless `weights`."""
    W_bar = None
    if weights:
        xp = x
        for axis, before, after, mode in plan:
            xp = _extend(xp, axis, before, after, mode, cval)
        W_bar = ssig.convolve(xp, np.flip(g), mode="valid")
    xp_bar = ssig.convolve(g, W, mode="full")
    cval_bar = 0.0
    shape = list(np.shape(xp_bar))
    for axis, before, after, mode in plan[::-1]:
        n = shape[axis] - before - after
        if mode == "constant":
            _, inside = _index(n, before, after, mode)
            cval_bar = cval_bar + np.sum(xp_bar * np.reshape(~inside, [-1 if d == axis else 1 for d in range(len(shape))]))
        xp_bar = _fold(xp_bar, axis, n, before, after, mode)
        shape[axis] = n
    return xp_bar, W_bar, cval_bar


def _along(w, axis, ndim):
    """The 1-d kernel `w` as an array of `ndim` axes, along `axis`."""
    return np.reshape(w, [-1 if d == axis else 1 for d in range(ndim)])


def _seq(v, n):
    """A per-axis option as a list of n (a string or a number is every axis's)."""
    if isinstance(v, str) or np.ndim(v) == 0:
        return [v] * n
    v = list(v)
    if len(v) != n:
        raise ValueError("sequence argument must have length equal to input rank")
    return v


def _axes(axes, ndim):
    if axes is None:
        return tuple(range(ndim))
    axes = (axes,) if np.ndim(axes) == 0 else tuple(axes)
    return tuple(int(a) % ndim for a in axes)


def _cotangents(f, npos, kwargs, bars):
    """The pullback's result for a call with `npos` positional arguments: `bars` ({parameter:
    cotangent}) in the order of the call."""
    import inspect

    names = list(inspect.signature(f).parameters)[:npos]
    out = (None,) + tuple(bars.get(n) for n in names)
    kw = {k: bars[k] for k in kwargs if bars.get(k) is not None}
    return out + (kw,) if kw else out


def _float_input(input, output, y, name):
    """`input` as a float array, or None when the result is an integer one (truncated: no gradient)."""
    if isinstance(output, np.ndarray):
        raise DifferentiationError(
            f"scipy.ndimage.{name} with an output array has no differentiation rule: use its result "
            "(`out[...] = f(...)`)"
        )
    if np.asarray(y).dtype.kind not in "fc":
        return None
    x = np.asarray(input)
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


# --- correlate, convolve and their 1-d forms -------------------------------------------------------


def _nd_sig(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    return output, mode, cval, origin, axes


def _kernel_rule(f, name, one_d, flipped):
    """The rule of `correlate` (`flipped` False) or `convolve`, n-d or along one axis (`one_d`)."""

    def rule(input, weights, *args, **kwargs):
        y = f(input, weights, *args, **kwargs)
        if one_d:
            axis, output, mode, cval, origin = _1d_sig(input, weights, *args, **kwargs)
        else:
            output, mode, cval, origin, axes = _nd_sig(input, weights, *args, **kwargs)
            if axes is not None:
                raise DifferentiationError(f"scipy.ndimage.{name} with axes= has no differentiation rule")

        def pullback(y_bar):
            x = _float_input(input, output, y, name)
            if x is None:
                return _cotangents(f, len(args) + 2, kwargs, {})
            w = np.asarray(weights)
            if one_d:
                axes = (int(axis) % x.ndim,)
                sizes = (w.size,)
                W = _along(w, axes[0], x.ndim)
            else:
                axes, sizes, W = tuple(range(x.ndim)), w.shape, w
            origins = _seq(origin, len(axes))
            if flipped:  # convolve: the kernel flipped, the origin mirrored (one less for an even size)
                W = np.flip(W)
                origins = [-int(o) - (1 - K % 2) for o, K in zip(origins, sizes)]
            modes = _seq(mode, len(axes))
            plan = _plan(axes, sizes, origins, modes)
            x_bar, W_bar, cval_bar = _pass_bars(x, W, plan, cval, np.asarray(y_bar))
            if flipped:
                W_bar = np.flip(W_bar)
            bars = {"input": to_like(x_bar, input), "weights": to_like(np.reshape(W_bar, w.shape), weights),
                    "cval": to_like(cval_bar, cval) if any(p[3] == "constant" for p in plan) else None}
            return _cotangents(f, len(args) + 2, kwargs, bars)

        return y, pullback

    rule.__name__ = rule.__qualname__ = f"{name}_rrule"
    registry.register(f, rule)


def _1d_sig(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    return axis, output, mode, cval, origin


_kernel_rule(ndi.correlate, "correlate", False, False)
_kernel_rule(ndi.convolve, "convolve", False, True)
_kernel_rule(ndi.correlate1d, "correlate1d", True, False)
_kernel_rule(ndi.convolve1d, "convolve1d", True, True)


# --- Gaussian and uniform filters: 1-d correlations along the axes in turn --------------------------


def _gaussian_kernel(sigma, order, truncate, radius):
    """SciPy's Gaussian kernel (weights of `correlate1d`), read off a unit impulse."""
    lw = int(radius) if radius is not None else int(truncate * float(sigma) + 0.5)
    delta = np.zeros(2 * lw + 1)
    delta[lw] = 1.0
    return np.flip(ndi.gaussian_filter1d(delta, sigma, order=order, mode="constant", truncate=truncate, radius=radius))


def _passes_rule(f, name, passes_of, sigma_name=None):
    """The rule of a separable filter: `passes_of(x, *args, **kwargs)` -> (output, cval, the passes
    [(axis, 1-d kernel, origin, mode)] in the order the filter makes them)."""

    def rule(input, *args, **kwargs):
        y = f(input, *args, **kwargs)

        def pullback(y_bar):
            output, cval, passes = passes_of(np.asarray(input), *args, **kwargs)
            x = _float_input(input, output, y, name)
            if x is None:
                return _cotangents(f, len(args) + 1, kwargs, {})
            g, cval_bar = np.asarray(y_bar), 0.0
            for axis, w, origin, mode in passes[::-1]:
                plan = _plan((axis,), (w.size,), (origin,), (mode,))
                g, _, c = _pass_bars(x, _along(w, axis, x.ndim), plan, cval, g, weights=False)
                cval_bar = cval_bar + c
            bars = {"input": to_like(g, input)}
            if any(_MODES.get(p[3]) == "constant" for p in passes if isinstance(p[3], str)):
                bars["cval"] = to_like(cval_bar, cval)
            if sigma_name is not None:
                bars["sigma"] = _no_sigma_bar(name, _bound_sigma(args, kwargs))
            return _cotangents(f, len(args) + 1, kwargs, bars)

        return y, pullback

    rule.__name__ = rule.__qualname__ = f"{name}_rrule"
    registry.register(f, rule)


def _bound_sigma(args, kwargs):
    return args[0] if args else kwargs.get("sigma")


def _no_sigma_bar(name, sigma):
    """sigma's cotangent: unknown (a `NotImplementedTangent`) for a float, None for an int, item by
    item for a sequence."""
    if isinstance(sigma, (list, tuple)):
        return type(sigma)([_no_sigma_bar(name, s) for s in sigma])
    if isinstance(sigma, (int, np.integer)) or (isinstance(sigma, np.ndarray) and sigma.dtype.kind in "iub"):
        return None
    return NotImplementedTangent(f"scipy.ndimage.{name}", "sigma", "the kernel's derivative in sigma is not implemented")


def _gaussian_passes(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0, *, radius=None,
                     axes=None):
    axes = _axes(axes, input.ndim)
    n = len(axes)
    passes = []
    for axis, s, o, m, r in zip(axes, _seq(sigma, n), _seq(order, n), _seq(mode, n), _seq(radius, n)):
        if s > 1e-15:  # (SciPy skips the others)
            passes.append((axis, _gaussian_kernel(s, o, truncate, r), 0, m))
    return output, cval, passes


def _gaussian1d_passes(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0, *,
                       radius=None):
    return output, cval, [(int(axis) % input.ndim, _gaussian_kernel(sigma, order, truncate, radius), 0, mode)]


def _uniform_passes(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    axes = _axes(axes, input.ndim)
    n = len(axes)
    passes = []
    for axis, k, m, o in zip(axes, _seq(size, n), _seq(mode, n), _seq(origin, n)):
        if k > 1:  # (SciPy skips the others)
            passes.append((axis, np.full(int(k), 1.0 / int(k)), o, m))
    return output, cval, passes


def _uniform1d_passes(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    return output, cval, [(int(axis) % input.ndim, np.full(int(size), 1.0 / int(size)), origin, mode)]


_passes_rule(ndi.gaussian_filter, "gaussian_filter", _gaussian_passes, "sigma")
_passes_rule(ndi.gaussian_filter1d, "gaussian_filter1d", _gaussian1d_passes, "sigma")
_passes_rule(ndi.uniform_filter, "uniform_filter", _uniform_passes)
_passes_rule(ndi.uniform_filter1d, "uniform_filter1d", _uniform1d_passes)

"""Products: matmul, dot, inner, outer, vdot, tensordot, cross, kron, convolve; and the
diagonal family (trace, diagonal, diag, tril, triu). Matrix products pull back with transposes, not
conjugate transposes (JAX's convention for complex numbers)."""
import numpy as np

from .._common import bind, call_bars, float_dtype, has_tangent, matmul_bars, to_like, unbroadcast_to
from ._base import _named, _nones, asarray, register


def matmul_rrule(a, b, **kwargs):
    y = np.matmul(a, b, **kwargs)

    def matmul_pullback(y_bar):
        return (None,) + matmul_bars(a, b, y_bar)

    return y, matmul_pullback


def _tensordot_axes(axes, na, nb):
    if isinstance(axes, (int, np.integer)):
        return list(range(na - axes, na)), list(range(axes))
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    return [int(i) % na for i in ax_a], [int(i) % nb for i in ax_b]


def tensordot_bars(a, b, axes, g):
    """Cotangents for `np.tensordot(a, b, axes)`: two tensordots with `g` and a transpose."""
    A, B, G = asarray(a), asarray(b), asarray(g)
    sa, sb = _tensordot_axes(axes, A.ndim, B.ndim)
    fa = [i for i in range(A.ndim) if i not in sa]
    fb = [i for i in range(B.ndim) if i not in sb]
    nfa = len(fa)
    a_bar = b_bar = None
    if has_tangent(a):
        r = np.tensordot(G, B, axes=(list(range(nfa, nfa + len(fb))), fb))
        # r's axes: a's free axes, then b's summed axes in b's order (paired with a's)
        labels = fa + [sa[sb.index(j)] for j in sorted(sb)]
        a_bar = to_like(np.transpose(r, np.argsort(labels)), a)
    if has_tangent(b):
        r = np.tensordot(A, G, axes=(fa, list(range(nfa))))
        labels = [sb[sa.index(i)] for i in sorted(sa)] + fb
        b_bar = to_like(np.transpose(r, np.argsort(labels)), b)
    return a_bar, b_bar


_TENSORDOT = ("a", "b", "axes")


def tensordot_rrule(*args, **kwargs):
    y = np.tensordot(*args, **kwargs)

    def tensordot_pullback(y_bar):
        p = bind(_TENSORDOT, args, kwargs, axes=2)
        a_bar, b_bar = tensordot_bars(p["a"], p["b"], p["axes"], y_bar)
        return call_bars(_TENSORDOT, args, kwargs, {"a": a_bar, "b": b_bar})

    return y, tensordot_pullback


def _product_bars(a, b, g):
    return unbroadcast_to(np.multiply(g, b), a), unbroadcast_to(np.multiply(a, g), b)


def dot_rrule(a, b, *args):
    y = np.dot(a, b, *args)

    def dot_pullback(y_bar):
        na, nb = np.ndim(a), np.ndim(b)
        if na == 0 or nb == 0:
            bars = _product_bars(a, b, y_bar)
        else:
            bars = tensordot_bars(a, b, ([na - 1], [0 if nb == 1 else nb - 2]), y_bar)
        return (None,) + bars + _nones(args)

    return y, dot_pullback


def inner_rrule(a, b):
    y = np.inner(a, b)

    def inner_pullback(y_bar):
        na, nb = np.ndim(a), np.ndim(b)
        if na == 0 or nb == 0:
            return (None,) + _product_bars(a, b, y_bar)
        return (None,) + tensordot_bars(a, b, ([na - 1], [nb - 1]), y_bar)

    return y, inner_pullback


def outer_rrule(a, b, out=None):
    y = np.outer(a, b, out)

    def outer_pullback(y_bar):
        A, B, G = np.ravel(a), np.ravel(b), asarray(y_bar)
        return (
            None,
            to_like((G @ B).reshape(np.shape(a)), a),
            to_like((A @ G).reshape(np.shape(b)), b),
        ) + ((None,) if out is not None else ())

    return y, outer_pullback


def vdot_rrule(a, b):
    y = np.vdot(a, b)

    def vdot_pullback(y_bar):
        # y = sum(conj(a) * b): b pulls back y_bar * conj(a), a pulls back conj(y_bar * b)
        A, B = asarray(a), asarray(b)
        return (
            None,
            to_like(np.conj(y_bar * B).reshape(A.shape), a),
            to_like((y_bar * np.conj(A)).reshape(B.shape), b),
        )

    return y, vdot_pullback


def _as_3_vectors(X):
    """2-vectors as 3-vectors with a zero third component, as np.cross reads them."""
    if X.shape[-1] == 3:
        return X
    return np.concatenate([X, np.zeros(X.shape[:-1] + (1,), X.dtype)], axis=-1)


def cross_rrule(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    y = np.cross(a, b, axisa, axisb, axisc, axis)

    def cross_pullback(y_bar):
        ax_a, ax_b, ax_c = (axisa, axisb, axisc) if axis is None else (axis, axis, axis)
        A = np.moveaxis(asarray(a), ax_a, -1)
        B = np.moveaxis(asarray(b), ax_b, -1)
        A3, B3, G = _as_3_vectors(A), _as_3_vectors(B), asarray(y_bar)
        if A.shape[-1] == 2 and B.shape[-1] == 2:  # the result is the third component alone
            G3 = np.stack([np.zeros_like(G), np.zeros_like(G), G], axis=-1)
        else:
            G3 = np.moveaxis(G, ax_c, -1)
        # <y_bar, da x b> = <b x y_bar, da> and <y_bar, a x db> = <y_bar x a, db>
        a_bar = unbroadcast_to(np.cross(B3, G3)[..., : A.shape[-1]], A)
        b_bar = unbroadcast_to(np.cross(G3, A3)[..., : B.shape[-1]], B)
        a_bar = None if a_bar is None else to_like(np.moveaxis(a_bar, -1, ax_a), a)
        b_bar = None if b_bar is None else to_like(np.moveaxis(b_bar, -1, ax_b), b)
        return None, a_bar, b_bar, None, None, None, None

    return y, cross_pullback


def kron_rrule(a, b):
    y = np.kron(a, b)

    def kron_pullback(y_bar):
        # kron(a, b)[i * r + k, j * s + l] = a[i, j] * b[k, l] (any number of axes): lay y_bar out
        # as (a0, b0, a1, b1, ...) and contract it with b for a, with a for b
        A, B = asarray(a), asarray(b)
        nd = max(A.ndim, B.ndim)
        A2 = A.reshape((1,) * (nd - A.ndim) + A.shape)
        B2 = B.reshape((1,) * (nd - B.ndim) + B.shape)
        G = asarray(y_bar).reshape(tuple(n for pair in zip(A2.shape, B2.shape) for n in pair))
        a_bar = np.tensordot(G, B2, axes=(list(range(1, 2 * nd, 2)), list(range(nd)))) if has_tangent(a) else None
        b_bar = np.tensordot(G, A2, axes=(list(range(0, 2 * nd, 2)), list(range(nd)))) if has_tangent(b) else None
        return (
            None,
            None if a_bar is None else to_like(a_bar.reshape(A.shape), a),
            None if b_bar is None else to_like(b_bar.reshape(B.shape), b),
        )

    return y, kron_pullback


def convolve_rrule(a, v, mode="full"):
    y = np.convolve(a, v, mode)

    def convolve_pullback(y_bar):
        # full[n] = sum_k a[k] v[n - k]; "same" and "valid" keep a centred window of it
        A, V = np.ravel(a), np.ravel(v)
        n, m = A.size, V.size
        full = np.zeros(n + m - 1, np.result_type(asarray(y_bar), A, V, np.float64))
        start = {"full": 0, "same": (min(n, m) - 1) // 2, "valid": min(n, m) - 1}[mode]
        G = asarray(y_bar)
        full[start : start + G.size] = G
        # a_bar[k] = sum_j full[k + j] v[j], v_bar[j] = sum_k full[k + j] a[k]: no conjugation
        a_bar = np.convolve(full, V[::-1], "valid")
        v_bar = np.convolve(full, A[::-1], "valid")
        return (
            None,
            to_like(a_bar.reshape(np.shape(a)), a),
            to_like(v_bar.reshape(np.shape(v)), v),
            None,
        )

    return y, convolve_pullback


register(np.matmul, matmul_rrule, generic=True)
register(np.tensordot, tensordot_rrule, generic=True)
register(np.dot, dot_rrule, number_closed=True, generic=True)
register(np.ndarray.dot, dot_rrule, generic=True)
register(np.inner, inner_rrule, number_closed=True, generic=True)
register(np.outer, outer_rrule, generic=True)
register(np.vdot, vdot_rrule, generic=True)
register(np.cross, cross_rrule)
register(np.kron, kron_rrule)
register(np.convolve, convolve_rrule)


def _diagonal_embed(g, shape, offset, axis1, axis2, dtype):
    """Zeros of `shape` with `g` (shape (..., k)) on the diagonal (offset, axis1, axis2)."""
    out = np.zeros(shape, dtype)
    nd = len(shape)
    moved = np.moveaxis(out, (axis1 % nd, axis2 % nd), (-2, -1))
    n1, n2 = moved.shape[-2:]
    r0, c0 = max(-offset, 0), max(offset, 0)
    k = max(0, min(n1 - r0, n2 - c0))
    moved[..., np.arange(k) + r0, np.arange(k) + c0] = np.real(g) if dtype.kind != "c" else g
    return out


def trace_rrule(a, offset=0, axis1=0, axis2=1, *args, **kwargs):
    y = np.trace(a, offset, axis1, axis2, *args, **kwargs)

    def trace_pullback(y_bar):
        A = asarray(a)
        g = asarray(y_bar)[..., None]
        out = _diagonal_embed(g, A.shape, offset, axis1, axis2, float_dtype(A))
        return (None, to_like(out, a), None, None, None) + _nones(args)

    return y, trace_pullback


def diagonal_rrule(a, offset=0, axis1=0, axis2=1):
    y = np.diagonal(a, offset, axis1, axis2)

    def diagonal_pullback(y_bar):
        A = asarray(a)
        out = _diagonal_embed(asarray(y_bar), A.shape, offset, axis1, axis2, float_dtype(A))
        return None, to_like(out, a), None, None, None

    return y, diagonal_pullback


def diag_rrule(v, k=0):
    y = np.diag(v, k)

    def diag_pullback(y_bar):
        V = asarray(v)
        if V.ndim == 1:
            r = np.diagonal(y_bar, k).copy()
        else:
            r = _diagonal_embed(asarray(y_bar), V.shape, k, 0, 1, float_dtype(V))
        return None, to_like(r, v), None

    return y, diag_pullback


def tril_rrule(m, k=0):
    y = np.tril(m, k)
    return y, _named("tril_pullback", lambda y_bar: (None, unbroadcast_to(np.tril(y_bar, k), m), None))


def triu_rrule(m, k=0):
    y = np.triu(m, k)
    return y, _named("triu_pullback", lambda y_bar: (None, unbroadcast_to(np.triu(y_bar, k), m), None))


register(np.trace, trace_rrule, number_closed=True)
register(np.ndarray.trace, trace_rrule)
register(np.diagonal, diagonal_rrule)
register(np.ndarray.diagonal, diagonal_rrule)
register(np.diag, diag_rrule)
register(np.tril, tril_rrule)
register(np.triu, triu_rrule)

"""Products: matmul, dot, inner, outer, vdot, tensordot, cross, kron, convolve; and the
diagonal family (trace, diagonal, diag, tril, triu). Matrix products pull back with transposes, not
conjugate transposes (JAX's convention for complex numbers)."""
import numpy as np

from .._common import bind, call_bars, float_dtype, has_tangent, matmul_bars, to_like, unbroadcast_to
from ..namespaces import any_foreign, eye, is_foreign, reshape
from ._base import _inverse, _named, _nones, asarray, register


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
        a_bar = to_like(np.transpose(r, _inverse(labels)), a)
    if has_tangent(b):
        r = np.tensordot(A, G, axes=(fa, list(range(nfa))))
        labels = [sb[sa.index(i)] for i in sorted(sa)] + fb
        b_bar = to_like(np.transpose(r, _inverse(labels)), b)
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
    if any_foreign((a, b)):  # Dask has no np.inner (it would compute)
        y = np.tensordot(a, b, axes=([-1], [-1])) if np.ndim(a) and np.ndim(b) else np.multiply(a, b)
    else:
        y = np.inner(a, b)

    def inner_pullback(y_bar):
        na, nb = np.ndim(a), np.ndim(b)
        if na == 0 or nb == 0:
            return (None,) + _product_bars(a, b, y_bar)
        return (None,) + tensordot_bars(a, b, ([na - 1], [nb - 1]), y_bar)

    return y, inner_pullback


def outer_rrule(a, b, out=None):
    y = np.outer(a, b) if out is None else np.outer(a, b, out)

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
        cross = _cross if is_foreign(G3) else np.cross
        a_bar = unbroadcast_to(cross(B3, G3)[..., : A.shape[-1]], A)
        b_bar = unbroadcast_to(cross(G3, A3)[..., : B.shape[-1]], B)
        a_bar = None if a_bar is None else to_like(np.moveaxis(a_bar, -1, ax_a), a)
        b_bar = None if b_bar is None else to_like(np.moveaxis(b_bar, -1, ax_b), b)
        return None, a_bar, b_bar, None, None, None, None

    return y, cross_pullback


def _cross(u, v):
    """`np.cross` of 3-vectors (along the last axis) from products of their components, in the
    library of a Dask or CuPy operand (Dask has no np.cross)."""
    u0, u1, u2 = u[..., 0], u[..., 1], u[..., 2]
    v0, v1, v2 = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([u1 * v2 - u2 * v1, u2 * v0 - u0 * v2, u0 * v1 - u1 * v0], axis=-1)


def kron_rrule(a, b):
    y = np.kron(a, b)

    def kron_pullback(y_bar):
        # kron(a, b)[i * r + k, j * s + l] = a[i, j] * b[k, l] (any number of axes): lay y_bar out
        # as (a0, b0, a1, b1, ...) and contract it with b for a, with a for b
        A, B = asarray(a), asarray(b)
        nd = max(A.ndim, B.ndim)
        A2 = A.reshape((1,) * (nd - A.ndim) + A.shape)
        B2 = B.reshape((1,) * (nd - B.ndim) + B.shape)
        G = reshape(asarray(y_bar), tuple(n for pair in zip(A2.shape, B2.shape) for n in pair))
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


def correlate_rrule(a, v, mode="valid"):
    """`np.correlate(a, v)` is `np.convolve(a, conj(v[::-1]))` in every mode (NumPy swaps the
    operands of either when `v` is the longer): it pulls back as that convolution."""
    y = np.correlate(a, v, mode)
    _, pb = convolve_rrule(a, np.conj(np.ravel(v)[::-1]), mode)

    def correlate_pullback(y_bar):
        _, a_bar, w_bar, _ = pb(y_bar)
        return None, a_bar, to_like(np.conj(w_bar)[::-1].reshape(np.shape(v)), v), None

    return y, correlate_pullback


register(np.matmul, matmul_rrule, generic=True)
register(np.tensordot, tensordot_rrule, generic=True)
register(np.dot, dot_rrule, number_closed=True, generic=True)
register(np.ndarray.dot, dot_rrule, generic=True)
register(np.inner, inner_rrule, number_closed=True, generic=True)
register(np.outer, outer_rrule, generic=True)
register(np.vdot, vdot_rrule, generic=True)
register(np.cross, cross_rrule, cotangents=True)
register(np.kron, kron_rrule, cotangents=True)
register(np.convolve, convolve_rrule)
register(np.correlate, correlate_rrule)


def _diagonal_embed(g, shape, offset, axis1, axis2, dtype, like=None):
    """Zeros of `shape` with `g` (shape (..., k), or (..., 1) for the same value all along) on
    the diagonal (offset, axis1, axis2); in the library of `g` or `like` when that is Dask's or
    CuPy's."""
    if is_foreign(g) or is_foreign(like):
        return _diagonal_embed_foreign(g, shape, offset, axis1, axis2, dtype, like)
    out = np.zeros(shape, dtype)
    nd = len(shape)
    moved = np.moveaxis(out, (axis1 % nd, axis2 % nd), (-2, -1))
    n1, n2 = moved.shape[-2:]
    r0, c0 = max(-offset, 0), max(offset, 0)
    k = max(0, min(n1 - r0, n2 - c0))
    moved[..., np.arange(k) + r0, np.arange(k) + c0] = np.real(g) if dtype.kind != "c" else g
    return out


def _diagonal_embed_foreign(g, shape, offset, axis1, axis2, dtype, like):
    """`_diagonal_embed` with no assignment into an array: `g`, laid along the rows (zero-padded
    to their number), times the 0/1 matrix of the diagonal (Dask and CuPy arrays are built from
    operations, not written into)."""
    nd = len(shape)
    a1, a2 = axis1 % nd, axis2 % nd
    n1, n2 = shape[a1], shape[a2]
    r0, c0 = max(-offset, 0), max(offset, 0)
    k = max(0, min(n1 - r0, n2 - c0))
    if dtype.kind != "c":
        g = np.real(g)
    g = np.broadcast_to(g, np.shape(g)[:-1] + (k,))
    rows = np.pad(g, [(0, 0)] * (g.ndim - 1) + [(r0, n1 - r0 - k)])  # (..., n1)
    diagonal = eye(n1, n2, offset, dtype=dtype, like=(g, like))
    return np.moveaxis(rows[..., :, None] * diagonal, (-2, -1), (a1, a2)).astype(dtype)


def trace_rrule(a, offset=0, axis1=0, axis2=1, *args, **kwargs):
    y = np.trace(a, offset, axis1, axis2, *args, **kwargs)

    def trace_pullback(y_bar):
        A = asarray(a)
        g = asarray(y_bar)[..., None]
        out = _diagonal_embed(g, A.shape, offset, axis1, axis2, float_dtype(A), like=A)
        return (None, to_like(out, a), None, None, None) + _nones(args)

    return y, trace_pullback


def diagonal_rrule(a, offset=0, axis1=0, axis2=1):
    y = np.diagonal(a, offset, axis1, axis2)

    def diagonal_pullback(y_bar):
        A = asarray(a)
        out = _diagonal_embed(asarray(y_bar), A.shape, offset, axis1, axis2, float_dtype(A), like=A)
        return None, to_like(out, a), None, None, None

    return y, diagonal_pullback


def diag_rrule(v, k=0):
    y = np.diag(v, k)

    def diag_pullback(y_bar):
        V = asarray(v)
        if V.ndim == 1:
            r = np.diagonal(y_bar, k).copy()
        else:
            r = _diagonal_embed(asarray(y_bar), V.shape, k, 0, 1, float_dtype(V), like=V)
        return None, to_like(r, v), None

    return y, diag_pullback


def tril_rrule(m, k=0):
    y = np.tril(m, k)
    return y, _named("tril_pullback", lambda y_bar: (None, unbroadcast_to(np.tril(y_bar, k), m), None))


def triu_rrule(m, k=0):
    y = np.triu(m, k)
    return y, _named("triu_pullback", lambda y_bar: (None, unbroadcast_to(np.triu(y_bar, k), m), None))


register(np.trace, trace_rrule, number_closed=True, generic=True)
register(np.ndarray.trace, trace_rrule, generic=True)
register(np.diagonal, diagonal_rrule, generic=True)
register(np.ndarray.diagonal, diagonal_rrule, generic=True)
register(np.diag, diag_rrule, generic=True)
register(np.tril, tril_rrule, generic=True)
register(np.triu, triu_rrule, generic=True)

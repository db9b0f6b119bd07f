"""`np.einsum`, in its subscripts-string form and its interleaved (sublist) form: the
cotangent of each operand is an einsum of the output's cotangent with the other operands,
onto the operand's own labels (diagonals and broadcast axes included)."""
import numpy as np

from .._common import has_tangent, to_like
from ..namespaces import eye, is_foreign
from ._base import asarray, register

#: the subscripts einsum accepts (`string.ascii_letters`, without importing `string`)
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_terms(subscripts, shapes):
    """The einsum input terms and output, with '...' spelled out as letters and the output explicit."""
    subs = subscripts.replace(" ", "")
    ins, out = subs.split("->") if "->" in subs else (subs, None)
    terms = ins.split(",")
    used = {c for c in subs if c.isalpha()}
    spare = [c for c in _LETTERS if c not in used]
    ell = [len(s) - (len(t) - 3) if "..." in t else 0 for t, s in zip(terms, shapes)]
    n_ell = max(ell, default=0)
    letters = "".join(spare[:n_ell])
    new_terms = [t.replace("...", letters[n_ell - k :]) if "..." in t else t for t, k in zip(terms, ell)]
    if out is None:
        counts = {}
        for t in terms:
            for c in t:
                if c.isalpha():
                    counts[c] = counts.get(c, 0) + 1
        out = letters + "".join(sorted(c for c, k in counts.items() if k == 1))
    else:
        out = out.replace("...", letters)
    return new_terms, out


def _einsum_operand_bar(i, terms, out, ops, g, kwargs):
    """Cotangent of operand `i`: the einsum of `g` with the other operands, onto operand i's labels."""
    sizes = {}
    for t, op in zip(terms, ops):
        for c, n in zip(t, op.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    term, shape = terms[i], ops[i].shape
    own = dict(zip(term, shape))
    uniq = list(dict.fromkeys(term))
    subs, operands = [out], [asarray(g)]
    for j, (t, op) in enumerate(zip(terms, ops)):
        if j == i:
            continue
        # axes that were broadcast (size 1 against a larger size) carry no label
        drop = [k for k, c in enumerate(t) if op.shape[k] == 1 and sizes[c] > 1]
        operands.append(op.squeeze(axis=tuple(drop)) if drop else op)
        subs.append("".join(c for k, c in enumerate(t) if k not in drop))
    avail = set("".join(subs))
    target = [c for c in uniq if c in avail and own[c] == sizes[c]]
    r = np.einsum(",".join(subs) + "->" + "".join(target), *operands, **kwargs)
    # labels found nowhere else are broadcast; size-1 (broadcast) labels were summed
    order = target + [c for c in uniq if c not in target]
    r = np.reshape(r, np.shape(r) + (1,) * (len(order) - len(target)))  # (r may be a NumPy scalar)
    r = np.broadcast_to(r, [own[c] for c in order])
    r = np.transpose(r, [order.index(c) for c in uniq])
    foreign = is_foreign(r)
    if len(uniq) == len(term):
        return r if foreign else np.array(r)
    if foreign:
        return _on_diagonals(r, term, uniq, own)
    # a repeated label (a diagonal): write r onto that diagonal
    full = np.zeros(shape, r.dtype)
    grids = np.indices([own[c] for c in uniq], sparse=True)
    full[tuple(grids[uniq.index(c)] for c in term)] = r
    return full


def _on_diagonals(r, term, uniq, own):
    """`r` (one axis per label of `term`, in the order `uniq`) on the diagonals of the repeated
    labels of `term`, without writing into an array: each later occurrence of a label is a new
    axis, along which r is multiplied by the identity (Dask and CuPy arrays are built, not
    written into)."""
    first = [term.index(c) for c in uniq]
    r = np.transpose(r, sorted(range(len(uniq)), key=lambda i: first[i]))
    r = np.expand_dims(r, tuple(p for p, c in enumerate(term) if term.index(c) != p))
    for p, c in enumerate(term):
        q = term.index(c)
        if q != p:  # the identity on axes (q, p)
            identity = eye(own[c], dtype=r.dtype, like=r)
            r = r * np.reshape(identity, tuple(own[c] if i in (q, p) else 1 for i in range(len(term))))
    return r


def _sublist_subscripts(args):
    """The subscripts string and the operands of einsum's interleaved form
    `einsum(op0, [0, 1], op1, [1, 2], [0, 2])` (integer labels, `...` as Ellipsis)."""

    def term(sublist):
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in sublist)

    pairs = len(args) // 2
    operands = [args[2 * i] for i in range(pairs)]
    subscripts = ",".join(term(args[2 * i + 1]) for i in range(pairs))
    if len(args) % 2:
        subscripts += "->" + term(args[-1])
    return subscripts, operands


def einsum_rrule(*args, **kwargs):
    y = np.einsum(*args, **kwargs)
    sublists = not isinstance(args[0], str)
    subscripts, operands = _sublist_subscripts(args) if sublists else (args[0], args[1:])

    def einsum_pullback(y_bar):
        ops = [asarray(o) for o in operands]
        terms, out = _einsum_terms(subscripts, [o.shape for o in ops])
        kw = {k: v for k, v in kwargs.items() if k == "optimize"}
        bars = [
            to_like(_einsum_operand_bar(i, terms, out, ops, y_bar, kw), o) if has_tangent(o) else None
            for i, o in enumerate(operands)
        ]
        if not sublists:
            return (None, None) + tuple(bars)
        # the operands' cotangents at their places among the sublists
        out_bars = [None] * len(args)
        for i, b in enumerate(bars):
            out_bars[2 * i] = b
        return (None,) + tuple(out_bars)

    return y, einsum_pullback


register(np.einsum, einsum_rrule, generic=True)

"""Small HTML and text helpers shared by the rich displays (`_repr_html_`) of dpnb's objects.

>>> short_value(3.0), short_value(None)
('3', 'None')
>>> import numpy as np
>>> short_value(np.zeros((20, 30)))
'ndarray(shape=(20, 30), dtype=float64)'
"""
import html
import numbers

import numpy as np

__all__ = ["escape", "short_value", "table"]

escape = html.escape

#: arrays with more entries than this are shown by shape and dtype only
SMALL_ARRAY = 12


def short_value(v):
    """A one-line text form of a value: numbers in `%g`, small arrays in full, big ones by shape."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, np.ndarray):
        if v.size <= SMALL_ARRAY:
            return np.array2string(v, precision=4, separator=", ", suppress_small=True).replace("\n", "")
        return f"ndarray(shape={v.shape}, dtype={v.dtype})"
    if isinstance(v, np.generic) and v.ndim == 0:
        v = v.item()
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, numbers.Number):
        return str(v)
    if isinstance(v, (list, tuple)) and len(v) <= SMALL_ARRAY:
        inner = ", ".join(short_value(x) for x in v)
        return f"[{inner}]" if isinstance(v, list) else f"({inner}{',' if len(v) == 1 else ''})"
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def table(rows, header=None, caption=None):
    """An HTML table of `rows` (tuples of already-escaped cell strings)."""
    out = ['<table class="dpnb">']
    if caption:
        out.append(f"<caption style='text-align:left'>{caption}</caption>")
    if header:
        out.append("<tr>" + "".join(f"<th style='text-align:left'>{h}</th>" for h in header) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td style='text-align:left'><code>{c}</code></td>" for c in row) + "</tr>")
    out.append("</table>")
    return "".join(out)

"""dpnb's IPython extension: ``%load_ext dpnb`` registers the magics below and the refresh hook.

- ``%%grad [-o NAME] [--graph] VAR [VAR ...]`` runs the cell, takes its last
  expression as the loss and shows its gradient with respect to the named
  notebook variables (bound to ``NAME``, by default ``grads``).
- ``%adjoint_source [--forward] EXPR [ARG ...]`` shows the adjoint dpnb generates for
  the function ``EXPR`` evaluates to, syntax-highlighted; with ``--forward``, the
  tangent-mode code `dpnb.jvp` runs (`dpnb.tangent_source`).
- after every cell, what the cell redefined (functions, classes, methods,
  rules) replaces the old code in dpnb's caches (see `dpnb.magics.watch`).

The magics stay thin: they parse their arguments, call dpnb's public API and
display what it returns. ``%unload_ext dpnb`` removes the magics and the hook.

>>> from IPython.core.interactiveshell import InteractiveShell
>>> ip = InteractiveShell.instance()
>>> load_ipython_extension(ip)
>>> "adjoint_source" in ip.magics_manager.magics["line"], "grad" in ip.magics_manager.magics["cell"]
(True, True)
>>> unload_ipython_extension(ip)
>>> "adjoint_source" in ip.magics_manager.magics["line"]
False
"""
import ast
import io
import keyword
import os
import tokenize
import types
import warnings

import numpy as np
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..viz.observe import loss_seed
from .cell import UNSET, CellError, CellFunction, FUNCTION_NAME
from .result import GradResult
from .watch import Watcher

__all__ = ["DpnbMagics", "GradWarning", "load_ipython_extension", "unload_ipython_extension"]


class GradWarning(UserWarning):
    """A `%%grad` cell whose loss does not depend on some of the variables."""


@magics_class
class DpnbMagics(Magics):
    """The magics ``%load_ext dpnb`` adds to IPython."""

    @magic_arguments()
    @argument("-o", "--output", metavar="NAME", default="grads",
              help="the notebook variable bound to the dict {VAR: gradient} (default: grads)")
    @argument("--graph", action="store_true",
              help="also draw the pullback graph of the cell (needs Graphviz)")
    @argument("variables", metavar="VAR", nargs="+",
              help="the notebook variables to differentiate by, at their current values")
    @cell_magic
    def grad(self, line, cell):
        """Run the cell and show the gradient of its last expression with respect to VARs.

        The cell runs in the notebook's namespace: its assignments take effect
        as in any cell. The value of its last expression is the loss, a real
        scalar. The result shows the loss and one gradient per VAR, and NAME
        (``grads`` unless ``-o`` says otherwise) is bound to ``{VAR: gradient}``.

        Example::

            %%grad -o g w b
            err = w * x + b - y
            err ** 2
        """
        __tracebackhide__ = True
        args = parse_argstring(self.grad, line)
        ns = self.shell.user_ns
        for name in args.variables:
            if not name.isidentifier() or keyword.iskeyword(name):
                raise UsageError(f"%%grad: {name!r} is not a variable name")
            if name not in ns:
                raise UsageError(f"%%grad: there is no variable {name!r} in the notebook")
        if not args.output.isidentifier() or keyword.iskeyword(args.output):
            raise UsageError(f"%%grad: -o {args.output!r} is not a variable name")
        variables = list(dict.fromkeys(args.variables))
        source = self.shell.transform_cell(cell)
        try:
            made = CellFunction.from_source(source, variables)
        except CellError as e:
            raise UsageError(f"%%grad: {e}") from None
        except SyntaxError as e:
            # line 1 of the notebook cell is the %%grad line
            where = f" at line {e.lineno + 1}: {e.text.strip()}" if e.lineno and e.text else ""
            raise UsageError(f"%%grad: SyntaxError: {e.msg}{where}") from None
        fn = self._compile(made)
        values = [ns[n] for n in variables] + [ns.get(n, UNSET) for n in made.params[len(variables):]]

        import dpnb

        try:
            (loss, final), back = dpnb.pullback(fn, *values)
        except dpnb.DifferentiationError as e:
            raise UsageError(f"%%grad: {_one_line(e)}") from None
        except Exception as e:
            raise _users_exception(e) from None
        # the cell ran: its assignments take effect, whatever happens to the gradient
        for name, value in zip(made.assigned, final):
            if value is not UNSET:
                ns[name] = value
        seed = loss_seed(loss)
        if seed is None:
            raise UsageError(
                f"%%grad: the loss must be a real scalar, but the last expression gave {_describe(loss)}; "
                "use dpnb.jacobian for a vector"
            )
        try:
            bars = back((seed, None))
        except dpnb.DifferentiationError as e:
            raise UsageError(f"%%grad: {_one_line(e)}") from None
        except Exception as e:
            raise _users_exception(e) from None
        grads = dict(zip(variables, bars[: len(variables)]))
        ns[args.output] = grads
        missing = [n for n, g in grads.items() if g is None]
        if missing:
            which = ", ".join(missing)
            warnings.warn_explicit(
                f"%%grad: the loss does not depend on {which}: its gradient is None",
                GradWarning, fn.__code__.co_filename, made.loss_line,
            )
        graph = svg = None
        if args.graph:
            from .. import viz

            try:
                graph = viz.pullback_graph(fn, *values, seed=(seed, None))
                svg = viz.render_svg(graph)
            except viz.GraphvizMissingError as e:
                raise UsageError(f"%%grad --graph: {e}") from None
        return GradResult(loss, grads, graph, svg)

    def _compile(self, made):
        """The function a %%grad cell becomes, compiled through IPython's cache so its source is known."""
        shell = self.shell
        filename = shell.compile.cache(made.source, shell.execution_count)
        code = shell.compile(made.source, filename, "exec")
        local = {}
        exec(code, shell.user_ns, local)
        return local[FUNCTION_NAME]

    @magic_arguments()
    @argument("--forward", action="store_true",
              help="show the tangent-mode (forward) code dpnb.jvp runs instead of the adjoint")
    @argument("expr", metavar="EXPR",
              help="a Python expression, evaluated in the notebook's namespace, "
              "whose value is the function to show the adjoint of")
    @argument("example_args", metavar="ARG", nargs="*",
              help="example arguments (Python expressions): the adjoint specialised for their types")
    @line_magic
    def adjoint_source(self, line):
        """Show the adjoint Python source dpnb generates for a function, syntax-highlighted.

        With ``--forward``, the code `dpnb.jvp` runs instead: the adjoint of the
        function's pullback (forward mode is the transpose of the pullback).

        Examples::

            %adjoint_source lambda x: 5*x + 3
            %adjoint_source my_loss
            %adjoint_source my_loss 2.0 3
            %adjoint_source model.__call__
            %adjoint_source --forward my_loss 2.0 3
        """
        __tracebackhide__ = True
        text = line.strip()
        forward = False
        if text.startswith("--forward"):
            forward, text = True, text[len("--forward"):].strip()
        if not text or text.startswith("-"):
            # only an empty line or an unknown option needs the parser: it raises a UsageError
            # with the usage line; an expression is passed on as written, quotes and all
            parse_argstring(self.adjoint_source, text)
            raise UsageError("%adjoint_source needs an expression")
        expr, arg_exprs = split_expression_and_arguments(text)
        import dpnb

        ns = self.shell.user_ns
        # compile through IPython's cache so that a lambda written here has source dpnb can read
        filename = self.shell.compile.cache(text, self.shell.execution_count)
        func = eval(compile(expr, filename, "eval"), ns)
        example = [eval(compile(a, filename, "eval"), ns) for a in arg_exprs]
        show = dpnb.tangent_source if forward else dpnb.adjoint_source
        what = "%adjoint_source --forward" if forward else "%adjoint_source"
        try:
            source = show(func, *example)
        except (dpnb.DifferentiationError, TypeError) as e:
            raise UsageError(f"{what}: {_one_line(e)}") from None
        from IPython.display import display

        display(HighlightedSource(source))


class HighlightedSource:
    """Python source shown with Pygments: HTML in a notebook, plain text in a terminal."""

    def __init__(self, source):
        self.source = source

    def __repr__(self):
        return self.source

    def _repr_html_(self):
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        formatter = HtmlFormatter(noclasses=True, nowrap=False)
        return highlight(self.source, PythonLexer(), formatter)


def split_expression_and_arguments(text):
    """`"f 2.0 3"` -> `("f", ["2.0", "3"])`: the longest leading run of words that is one
    expression, then one expression per word (words split at spaces outside brackets).

    >>> split_expression_and_arguments("lambda x: 5*x + 3")
    ('lambda x: 5*x + 3', [])
    >>> split_expression_and_arguments("f np.array([1.0, 2.0]) 3")
    ('f', ['np.array([1.0, 2.0])', '3'])
    """
    words = _top_level_words(text)
    for k in range(len(words), 0, -1):
        head = " ".join(words[:k])
        rest = words[k:]
        if _is_expression(head) and all(_is_expression(w) for w in rest):
            return head, rest
    raise UsageError(f"%adjoint_source: {text!r} is not a Python expression followed by example arguments")


def _top_level_words(text):
    words, depth, current, last_end = [], 0, [], None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text.split()
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
            continue
        if current and depth == 0 and last_end is not None and tok.start != last_end:
            words.append("".join(current).strip())
            current = []
        if current and last_end is not None and tok.start != last_end:
            current.append(" ")
        current.append(tok.string)
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        last_end = tok.end
    if current:
        words.append("".join(current).strip())
    return words


def _is_expression(text):
    try:
        ast.parse(text, mode="eval")
        return True
    except SyntaxError:
        return False


def _describe(v):
    if isinstance(v, np.ndarray):
        return f"an ndarray of shape {v.shape} and dtype {v.dtype}"
    return f"a value of type {type(v).__name__}"


def _one_line(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


_DPNB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _users_exception(e):
    """`e` with a traceback of the user's own frames only (dpnb's machinery taken out)."""
    frames = []
    tb = e.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_DPNB_DIR + os.sep):
            frames.append(tb)
        tb = tb.tb_next
    new = None
    for t in reversed(frames):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    if e.__context__ is not None and e.__suppress_context__ is False:
        e.__suppress_context__ = True
    return e.with_traceback(new)


_WATCHERS = {}


def load_ipython_extension(ip):
    """Register dpnb's magics and the refresh hook with the IPython shell ``ip`` (``%load_ext dpnb``).

    Loading twice registers nothing twice."""
    ip.register_magics(DpnbMagics)
    watcher = _WATCHERS.get(id(ip))
    if watcher is None or watcher[0] is not ip:
        watcher = _WATCHERS[id(ip)] = (ip, Watcher(ip.user_ns))
    w = watcher[1]
    w.namespace = ip.user_ns
    w.snapshot = w._take()
    for event in ("pre_run_cell", "post_run_cell"):
        callback = getattr(w, event)
        if callback not in ip.events.callbacks[event]:
            ip.events.register(event, callback)


def unload_ipython_extension(ip):
    """Remove what `load_ipython_extension` registered (``%unload_ext dpnb``)."""
    manager = ip.magics_manager
    for kind, names in DpnbMagics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    manager.registry.pop(DpnbMagics.__name__, None)
    watcher = _WATCHERS.pop(id(ip), None)
    if watcher is not None:
        for event in ("pre_run_cell", "post_run_cell"):
            callback = getattr(watcher[1], event)
            while callback in ip.events.callbacks[event]:
                ip.events.unregister(event, callback)

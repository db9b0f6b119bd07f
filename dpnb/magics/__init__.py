"""dpnb's IPython extension: ``%load_ext dpnb`` registers the magics below.

- ``%adjoint_source EXPR`` shows the adjoint dpnb generates for the function
  ``EXPR`` evaluates to, syntax-highlighted.

The magics stay thin: they parse their arguments, call dpnb's public API and
display what it returns. ``%unload_ext dpnb`` removes them again.

>>> from IPython.core.interactiveshell import InteractiveShell
>>> ip = InteractiveShell.instance()
>>> load_ipython_extension(ip)
>>> "adjoint_source" in ip.magics_manager.magics["line"]
True
>>> unload_ipython_extension(ip)
>>> "adjoint_source" in ip.magics_manager.magics["line"]
False
"""

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

__all__ = ["DpnbMagics", "load_ipython_extension", "unload_ipython_extension"]


@magics_class
class DpnbMagics(Magics):
    """The magics ``%load_ext dpnb`` adds to IPython."""

    @magic_arguments()
    @argument(
        "expr",
        nargs="+",
        help="a Python expression, evaluated in the notebook's namespace, "
        "whose value is the function to show the adjoint of",
    )
    @line_magic
    def adjoint_source(self, line):
        """Show the adjoint Python source dpnb generates for a function.

        Examples::

            %adjoint_source lambda x: 5*x + 3
            %adjoint_source my_loss
            %adjoint_source model.__call__
        """
        expr = line.strip()
        if not expr or expr.startswith("-"):
            # Only an empty line or an option needs the parser: it raises a
            # UsageError with the usage line. A Python expression is passed on
            # as written, quotes and all.
            parse_argstring(self.adjoint_source, line)
        if not expr:
            raise UsageError("%adjoint_source needs an expression")
        import dpnb
        from IPython.display import Code, display

        # compile through IPython's cache so that a lambda written here has source dpnb can read
        filename = self.shell.compile.cache(expr)
        func = eval(compile(expr, filename, "eval"), self.shell.user_ns)
        display(Code(dpnb.adjoint_source(func), language="python"))


def load_ipython_extension(ip):
    """Register dpnb's magics with the IPython shell ``ip`` (``%load_ext dpnb``)."""
    ip.register_magics(DpnbMagics)


def unload_ipython_extension(ip):
    """Remove what `load_ipython_extension` registered (``%unload_ext dpnb``)."""
    manager = ip.magics_manager
    for kind, names in DpnbMagics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    manager.registry.pop(DpnbMagics.__name__, None)

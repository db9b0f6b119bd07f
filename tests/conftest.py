"""Session-wide pytest hooks for the whole suite."""
import gc


def pytest_unconfigure(config):
    # The suite ends with a large heap of cached adjoints, tangents and arrays, none of
    # it garbage the process needs to reclaim: without this, the interpreter's last
    # collections at exit take minutes. Frozen objects are left out of every collection.
    gc.freeze()

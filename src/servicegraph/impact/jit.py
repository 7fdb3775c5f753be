"""Kernels compiled when the work is worth it, run as plain Python when it is not.

A kernel is written once, as a plain function over numpy arrays, and decorated with
:func:`kernel`. Called on a graph of any size, it is compiled by numba (and cached on
disk, beside its module, when that is writable). Below :func:`interpret_below`'s bound
it runs as the Python it is written in, without importing numba: a short-lived
process over a small graph, such as one command of the command line, answers before
numba would have finished importing. Both run the same code, so they give the same
answers.

The bound is per process and 0 unless set: a server compiles every kernel, whatever
the size of its graph.
"""

from __future__ import annotations

import functools
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

#: Kernels by module name, in the order their module defines them.
_KERNELS: dict[str, list[Kernel]] = {}
_compiling = threading.Lock()
#: Calls whose first array holds fewer entries than this run as Python.
_bound = 0
#: Kernels running as Python in this thread: the kernels they call do too.
_inside = threading.local()


def interpret_below(size: int) -> None:
    """Run kernels as Python when their first array holds fewer than ``size`` entries
    (the graph's nodes, for most), in this process from now on; 0 compiles them all.

    >>> interpret_below(0)
    """
    global _bound
    _bound = max(0, int(size))


def interpreting() -> int:
    """The bound :func:`interpret_below` set (0: every kernel is compiled)."""
    return _bound


class Kernel:
    """A kernel: the plain function, and its compiled form made on first need."""

    def __init__(self, func: Callable[..., Any]) -> None:
        functools.update_wrapper(self, func)
        self.py_func = func
        self._compiled: Callable[..., Any] | None = None
        _KERNELS.setdefault(func.__module__, []).append(self)

    def __call__(self, *args: Any) -> Any:
        if _bound and (getattr(_inside, "depth", 0) or _size(args) < _bound):
            return self._interpret(args)
        compiled = self._compiled or _compile(self.py_func.__module__, self)
        return compiled(*args)

    def _interpret(self, args: tuple[Any, ...]) -> Any:
        import numpy as np

        depth = getattr(_inside, "depth", 0)
        _inside.depth = depth + 1
        try:
            # Compiled code wraps integers around silently; numpy's scalars warn.
            with np.errstate(over="ignore"):
                return self.py_func(*args)
        finally:
            _inside.depth = depth


def _size(args: tuple[Any, ...]) -> int:
    for a in args:
        shape = getattr(a, "shape", None)
        if shape:
            return int(shape[0])
    return 0


def _compile(module: str, wanted: Kernel) -> Callable[..., Any]:
    """Compile every kernel of ``module`` at once: numba finds the kernels a kernel
    calls among its globals, and there they are :class:`Kernel` objects it cannot
    compile, so each is compiled from a copy of its function whose globals name the
    compiled forms instead."""
    with _compiling:
        if wanted._compiled is None:
            import numba

            kernels = _KERNELS[module]
            names = dict(vars(sys.modules[module]))
            for k in kernels:
                f = k.py_func
                copy = types.FunctionType(f.__code__, names, f.__name__, f.__defaults__,
                                          f.__closure__)
                copy.__qualname__, copy.__module__ = f.__qualname__, f.__module__
                copy.__doc__ = f.__doc__
                names[f.__name__] = numba.njit(cache=True, nogil=True)(copy)
            for k in kernels:
                k._compiled = names[k.py_func.__name__]
    assert wanted._compiled is not None
    return wanted._compiled


def kernel(func: Callable[..., Any]) -> Kernel:
    """Decorate a kernel: compiled by numba on first use, or run as Python below the
    bound of :func:`interpret_below`."""
    return Kernel(func)


__all__ = ["Kernel", "interpret_below", "interpreting", "kernel"]

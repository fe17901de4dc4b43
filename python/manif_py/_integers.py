"""Integer arguments: exact integers only, never a float silently truncated.

``int(2.7)`` is 2, so ``knn(A, B, 2.7)`` used to run with k = 2 without a word. Every
Python-side integer argument goes through :func:`as_int`: Python ints and numpy / torch
integer scalars (anything with ``__index__``) pass; floats, strings and bools (``True``
is an int to Python, never a count or a key to a caller) are a TypeError naming the argument.
"""

import operator

import numpy as np


def as_int(value, arg: str, fn: str = "") -> int:
    """``value`` as a Python int; TypeError naming ``arg`` (and the function ``fn``) otherwise."""
    if not isinstance(value, (bool, np.bool_)):
        try:
            return operator.index(value)
        except TypeError:
            pass
    where = f"{fn}: " if fn else ""
    raise TypeError(f"{where}argument '{arg}' must be an integer, got {type(value).__name__} {value!r}")

"""Vertex ids of pose-graph files, parsed as exact integers.

Ids must not pass through float64: GTSAM symbol keys such as 8646911284551352320 and
8646911284551352321 differ in the last digit, which a double cannot hold. Ids are
decimal digit strings read with Python's exact ``int`` and kept as int64 (the type of
every id array of :class:`PoseGraphData` and of the writers); an id that does not fit,
2^63 or more, is refused rather than wrapped to a negative number.
"""

import numpy as np

MAX_ID = 2 ** 63 - 1


def parse_id(token, where):
    """The id written as ``token`` (str); ValueError starting with ``where`` ("path:line")."""
    if not (token.isascii() and token.isdigit()):
        raise ValueError(f"{where}: ids must be non-negative integers, got {token!r}")
    value = int(token)
    if value > MAX_ID:
        raise ValueError(f"{where}: id {token} is too large: ids must be below 2^63 (signed 64-bit)")
    return value


def parse_ids(tokens, where_of):
    """int64 array of the ids ``tokens`` (list of str); ``where_of(k)`` names token k's line."""
    out = np.empty(len(tokens), dtype=np.int64)
    for k, token in enumerate(tokens):
        out[k] = parse_id(token, where_of(k))
    return out

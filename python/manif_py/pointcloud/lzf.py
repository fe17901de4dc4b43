"""LZF (liblzf's format), the compression of PCL's binary_compressed PCD files, in pure
Python: small clouds only need it occasionally, and it keeps the readers dependency-free."""

from __future__ import annotations


class LZFError(ValueError):
    """A truncated or inconsistent LZF stream."""


# The most output one input byte can give: a long back-reference is 3 bytes for at most
# 7 + 255 + 2 = 264 output bytes. A declared size above it cannot be honest.
MAX_RATIO = 88


def lzf_decompress(src: bytes, out_len: int) -> bytes:
    """Decode an LZF stream (liblzf format, as PCL's binary_compressed uses).

    ``out_len`` is checked against what ``src`` can possibly decode to before the
    output is allocated, so a lying size word costs nothing."""
    if out_len < 0 or out_len > MAX_RATIO * len(src):
        raise LZFError(f"LZF size word says {out_len} bytes, but {len(src)} compressed bytes decode to at most "
                       f"{MAX_RATIO * len(src)}")
    out = bytearray(out_len)
    ip, op, n = 0, 0, len(src)
    while ip < n:
        ctrl = src[ip]
        ip += 1
        if ctrl < 32:  # literal run of ctrl + 1 bytes
            length = ctrl + 1
            if ip + length > n or op + length > out_len:
                raise LZFError("LZF literal run past the end of the data")
            out[op : op + length] = src[ip : ip + length]
            ip += length
            op += length
            continue
        length = ctrl >> 5
        if length == 7:
            if ip >= n:
                raise LZFError("LZF stream ends inside a back-reference")
            length += src[ip]
            ip += 1
        if ip >= n:
            raise LZFError("LZF stream ends inside a back-reference")
        ref = op - ((ctrl & 0x1F) << 8) - 1 - src[ip]
        ip += 1
        length += 2
        if ref < 0 or op + length > out_len:
            raise LZFError("LZF back-reference out of range")
        if ref + length <= op:
            out[op : op + length] = out[ref : ref + length]
        else:  # overlapping copy repeats the pattern, byte by byte
            for k in range(length):
                out[op + k] = out[ref + k]
        op += length
    if op != out_len:
        raise LZFError(f"LZF data decodes to {op} bytes, header says {out_len}")
    return bytes(out)


def lzf_compress(data: bytes) -> bytes:
    """Greedy LZF encoder (3-byte hash, 8 KiB window): plain Python, for writing small
    binary_compressed PCD files in tests and tools."""
    out, lit = bytearray(), bytearray()
    table = {}
    i, n = 0, len(data)

    def flush():
        for k in range(0, len(lit), 32):
            chunk = lit[k : k + 32]
            out.append(len(chunk) - 1)
            out.extend(chunk)
        lit.clear()

    while i < n:
        if i + 2 < n:
            key = data[i : i + 3]
            ref = table.get(key)
            table[key] = i
            if ref is not None and i - ref - 1 < 8192:
                length, max_len = 3, min(264, n - i)
                while length < max_len and data[ref + length] == data[i + length]:
                    length += 1
                flush()
                off, code = i - ref - 1, length - 2
                if code < 7:
                    out.append((code << 5) | (off >> 8))
                else:
                    out.append((7 << 5) | (off >> 8))
                    out.append(code - 7)
                out.append(off & 0xFF)
                i += length
                continue
        lit.append(data[i])
        i += 1
    flush()
    return bytes(out)

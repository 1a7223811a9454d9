"""Intel Open Image Denoise's trained weights (Apache-2.0), read from the pinned `pyoidn` wheel.

The wheel's `libOpenImageDenoise_core.so` carries each network as a named ELF symbol
(`oidn::blobs::weights::rt_hdr_alb_nrm`, ...) whose bytes are a Tensor Archive (TZA): magic 0x41D7,
version 2.x, an offset to a table of (name, shape, layout, dtype, offset) entries, tensors aligned
to 64 bytes. Layouts here are `oihw` for convolution weights and `x` for biases; dtype `h` (fp16).
Nothing is executed from the library: it is read as data.
"""
import hashlib
import struct
import subprocess
import sys
import zipfile

import numpy as np

import config
from common import manifest

PYOIDN_VERSION = "2.5.1.0"
WHEEL = f"pyoidn-{PYOIDN_VERSION}-py3-none-manylinux2014_x86_64.whl"
WHEEL_SHA256 = "32ad13368f8de1ef63001942ad05b02a00cd732d1206d97f352d3a3f606d823e"
CORE_LIBRARY = "pyoidn/oidn/lib/libOpenImageDenoise_core.so.2.5.1"
TZA_MAGIC = 0x41D7
DTYPES = {"f": np.float32, "h": np.float16, "b": np.int8, "B": np.uint8}


def wheel_path():
    """The pinned wheel in the work folder, downloaded once and checked against its sha256."""
    folder = config.WORK / "oidn"
    path = folder / WHEEL
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--platform", "manylinux2014_x86_64", "-d", str(folder), f"pyoidn=={PYOIDN_VERSION}"],
                       check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{path}: sha256 {digest}, expected {WHEEL_SHA256}; delete it and run again")
    return path


def elf_symbols(data, prefix):
    """{symbol name: bytes} for the defined symbols of an ELF64 little-endian file whose (mangled)
    names start with `prefix`, read from the static symbol table."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    # (name, type, flags, addr, offset, size, link, info, addralign, entsize)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    symtab = next(s for s in sections if s[1] == 2)            # SHT_SYMTAB
    strtab = sections[symtab[6]]
    found = {}
    for i in range(symtab[5] // 24):
        name_off, _info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", data, symtab[4] + i * 24)
        start = strtab[4] + name_off
        name = data[start:data.index(b"\0", start)].decode()
        if name.startswith(prefix) and 0 < shndx < shnum:
            section = sections[shndx]
            offset = value - section[3] + section[4]
            found[name] = data[offset:offset + size]
    return found


def read_tza(blob):
    """{tensor name: numpy array} of one Tensor Archive."""
    magic, major, _minor, table = struct.unpack_from("<HBBQ", blob, 0)
    if magic != TZA_MAGIC or major != 2:
        raise ValueError(f"not a TZA 2.x blob (magic {magic:#x}, version {major})")
    count, = struct.unpack_from("<I", blob, table)
    pos, tensors = table + 4, {}
    for _ in range(count):
        n, = struct.unpack_from("<H", blob, pos)
        name = blob[pos + 2:pos + 2 + n].decode()
        pos += 2 + n
        ndims = blob[pos]
        shape = struct.unpack_from(f"<{ndims}I", blob, pos + 1)
        pos += 1 + 4 * ndims
        layout = blob[pos:pos + ndims].decode()
        dtype = DTYPES[chr(blob[pos + ndims])]
        offset, = struct.unpack_from("<Q", blob, pos + ndims + 1)
        pos += ndims + 9
        if layout not in ("oihw", "x"):
            raise ValueError(f"{name}: unexpected layout {layout}")
        count_ = int(np.prod(shape))
        tensors[name] = np.frombuffer(blob, dtype, count_, offset).reshape(shape).copy()
    return tensors


def mangled(name):
    """The Itanium-mangled symbol of `oidn::blobs::weights::NAME`."""
    return f"_ZN4oidn5blobs7weights{len(name)}{name}E"


def load_all():
    """{OIDN weights name, e.g. "rt_hdr_alb_nrm": {tensor name: array}} from the pinned wheel."""
    with zipfile.ZipFile(wheel_path()) as wheel:
        library = wheel.read(CORE_LIBRARY)
    prefix = "_ZN4oidn5blobs7weights"
    out = {}
    for symbol, blob in elf_symbols(library, prefix).items():
        tail = symbol[len(prefix):-1]                       # <length><name>, then a final E
        name = tail.lstrip("0123456789")
        if mangled(name) != symbol:
            raise ValueError(f"unexpected symbol {symbol}")
        out[name] = read_tza(blob)
    return out


def training_data(name):
    """The manifest's training-data record of OIDN's weights `name`, read from the pinned wheel."""
    return [manifest.training_data(
        f"Intel Open Image Denoise {config.OIDN_VERSION} trained weights `{name}` (OIDN's own training data)",
        "Apache-2.0, Intel Corporation",
        f"pyoidn {PYOIDN_VERSION} wheel ({WHEEL}, sha256 {WHEEL_SHA256}), libOpenImageDenoise_core.so symbol "
        f"oidn::blobs::weights::{name}")]

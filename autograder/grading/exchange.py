"""The exchange folder between the grading kernel and the judge.

The judge writes, for every grade_id, the inputs it chose:

    <exchange>/inputs/<grade_id>.json   {"args": [enc, ...], "kwargs": {name: enc}}
    <exchange>/inputs/<grade_id>.npz    the arrays those encodings name

and the kernel (autograder/source/<a>/<a>_tests.py, `grader_record`) answers:

    <exchange>/outputs/<grade_id>.json  {"result": enc, "warnings": [...]}
                                        or {"raised": {"type", "message", "traceback", "frames"}, ...}
    <exchange>/outputs/<grade_id>.npz

An encoding `enc` is a small JSON object:
    {"kind": "array", "key": k}            an ndarray (a numpy scalar: also "scalar": true)
    {"kind": "float"|"int"|"bool"|"str"|"none", "value": v}
    {"kind": "tuple"|"list", "items": [enc, ...]}
    {"kind": "dict", "items": [[key, enc], ...]}   (key order kept: it is tested)
    {"kind": "other", "type": name, "repr": text}  anything else, described only

Everything the kernel wrote is untrusted: files are size-checked before they
are read, arrays are loaded with allow_pickle=False, and the JSON structure is
checked while it is decoded. The kernel side lives in the shipped helper
modules (students' kernels cannot import this package); a test round-trips
the two implementations.
"""
import io
import json
import math
import os
import stat
import struct
import zipfile
from pathlib import Path

import numpy as np

from . import limits

ENV_VAR = "BTC_GRADER_EXCHANGE"
MAX_JSON_BYTES = limits.RECORD_JSON_BYTES
MAX_NPZ_BYTES = limits.RECORD_NPZ_BYTES
MAX_DEPTH = 8
MAX_ITEMS = limits.RECORD_ARRAYS
MAX_NODES = limits.RECORD_VALUES  # encodings decoded per record, all levels together (64 ** 8 otherwise)
MAX_ZIP_DIRECTORY = 64 * 1024  # bytes of a .npz's central directory: MAX_ITEMS entries fit many times over
MAX_RECORD_TOTAL = limits.RECORD_TOTAL  # bytes of all one notebook's records together (budgets.copy_records)


class MalformedRecord(Exception):
    """What the kernel wrote cannot be read as a record."""


# ---- writing (the judge writes inputs; tests use it to fake a kernel) ----

def encode(value, arrays):
    """Encode `value` as JSON-able data, moving arrays into the dict `arrays`."""
    if isinstance(value, (np.ndarray, np.generic)):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"kind": "array", "key": key, "scalar": isinstance(value, np.generic)}
    for kind, types in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if isinstance(value, types):
            return {"kind": kind, "value": value}
    if value is None:
        return {"kind": "none", "value": None}
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"kind": kind, "items": [encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"kind": "dict", "items": [[str(k), encode(v, arrays)] for k, v in value.items()]}
    return {"kind": "other", "type": type(value).__name__, "repr": repr(value)[:200]}


def write_inputs(folder, grade_id, args, kwargs):
    """Write one case's inputs: args a tuple, kwargs a dict of encodable values."""
    folder = Path(folder) / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    doc = {"args": [encode(a, arrays) for a in args],
           "kwargs": {k: encode(v, arrays) for k, v in kwargs.items()}}
    np.savez(folder / f"{grade_id}.npz", **arrays)
    (folder / f"{grade_id}.json").write_text(json.dumps(doc))


def prepare(folder):
    """Create an empty exchange folder the kernel may write its outputs into."""
    folder = Path(folder)
    (folder / "inputs").mkdir(parents=True, exist_ok=True)
    (folder / "outputs").mkdir(parents=True, exist_ok=True)
    return folder.resolve()


# ---- reading what the kernel wrote (untrusted) ----

def _read_bounded(path, limit):
    """The bytes of a file the kernel wrote, None if absent. Raises MalformedRecord.

    The folder is the kernel's: neither the folder nor the file may be a link
    (O_NOFOLLOW on both), the file must be a regular file (a FIFO would block,
    a device would never end), and no more than `limit` bytes are read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        dir_fd = os.open(path.parent, flags | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        return None
    except OSError:
        raise MalformedRecord(f"{path.parent.name}/ is not a plain folder") from None
    try:
        try:
            fd = os.open(path.name, flags, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError:
            raise MalformedRecord(f"{path.name} is not a regular file") from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise MalformedRecord(f"{path.name} is not a regular file")
            if st.st_size > limit:
                raise MalformedRecord(f"{path.name} is {st.st_size} bytes, more than the limit of {limit}")
            data = f.read(limit + 1)
            if len(data) > limit:
                raise MalformedRecord(f"{path.name} is more than the limit of {limit} bytes")
            return data
    finally:
        os.close(dir_fd)


def _decode(enc, arrays, depth=0, nodes=None):
    """The value `enc` encodes; nodes: [encodings left], shared by the whole record."""
    nodes = [MAX_NODES] if nodes is None else nodes
    nodes[0] -= 1
    if nodes[0] < 0:
        raise MalformedRecord(f"the record holds more than {MAX_NODES} values")
    if depth > MAX_DEPTH or not isinstance(enc, dict):
        raise MalformedRecord("bad encoding (too deep or not an object)")
    kind = enc.get("kind")
    if kind == "array":
        key = enc.get("key")
        if not isinstance(key, str):
            raise MalformedRecord(f"an array's key is a {type(key).__name__}, not a name")
        if key not in arrays:
            raise MalformedRecord(f"array {key[:60]!r} missing from the .npz file")
        array = arrays[key]
        return array[()] if enc.get("scalar") is True and array.ndim == 0 else array
    if kind in ("float", "int", "bool", "str", "none"):
        value = enc.get("value")
        wanted = {"float": (float, int), "int": int, "bool": bool, "str": str, "none": type(None)}[kind]
        if not isinstance(value, wanted):
            raise MalformedRecord(f"a {kind} encoding holds {type(value).__name__}")
        return float(value) if kind == "float" else value
    if kind in ("tuple", "list", "dict"):
        items = enc.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise MalformedRecord(f"bad {kind} encoding")
        if kind == "dict":
            if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in items):
                raise MalformedRecord("bad dict encoding")
            return {k: _decode(v, arrays, depth + 1, nodes) for k, v in items}
        values = [_decode(v, arrays, depth + 1, nodes) for v in items]
        return tuple(values) if kind == "tuple" else values
    if kind == "other":
        return Unencodable(str(enc.get("type", "?"))[:100], str(enc.get("repr", ""))[:200])
    raise MalformedRecord(f"unknown encoding kind {kind!r}")


class Unencodable:
    """A value the kernel could only describe (not an array, number, str, tuple, list or dict)."""

    def __init__(self, type_name, text):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return f"<{self.type_name}: {self.text}>"


class Record:
    """What grader_record saw: either `result` (decoded) or `raised` (type, message, traceback)."""

    def __init__(self, result=None, raised=None, warnings=()):
        self.result, self.raised, self.warnings = result, raised, list(warnings)


def read_output(folder, grade_id):
    """The kernel's record for grade_id, None when it wrote none. Raises MalformedRecord.

    Whatever goes wrong while reading what the kernel wrote (any exception,
    MemoryError included) is that record's fault: a bad record for this case,
    never an error that stops the notebook.
    """
    try:
        return _read_output(folder, grade_id)
    except MalformedRecord:
        raise
    except Exception as e:
        raise MalformedRecord(f"the record cannot be read ({type(e).__name__}: {str(e)[:200]})") from None


def _read_output(folder, grade_id):
    folder = Path(folder) / "outputs"
    raw = _read_bounded(folder / f"{grade_id}.json", MAX_JSON_BYTES)
    if raw is None:
        return None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise MalformedRecord(f"the record is not valid JSON ({e})") from None
    if not isinstance(doc, dict):
        raise MalformedRecord("the record is not a JSON object")
    if "refused" in doc:  # put in its place by the grader (budgets.copy_records), or claimed by the kernel
        raise MalformedRecord(str(doc["refused"])[:300])
    warnings = [str(w)[:300] for w in doc.get("warnings", [])[:5]] if isinstance(doc.get("warnings"), list) else []
    if "raised" in doc:
        raised = doc["raised"]
        if not isinstance(raised, dict):
            raise MalformedRecord("bad 'raised' entry")
        return Record(raised={**{k: str(raised.get(k, ""))[:4000] for k in ("type", "message", "traceback")},
                              "frames": raised_frames(raised.get("frames", []))}, warnings=warnings)
    if "result" not in doc:
        raise MalformedRecord("the record holds neither a result nor an exception")
    raw_npz = _read_bounded(folder / f"{grade_id}.npz", MAX_NPZ_BYTES)
    arrays = {} if raw_npz is None else load_arrays(raw_npz)
    return Record(result=_decode(doc["result"], arrays), warnings=warnings)


def _zip_directory_size(raw):
    """(entries, bytes) of a zip's central directory, read from its end record alone.

    zipfile parses the whole central directory before anything can be
    checked, and a 64 MB file can list 1.36 million entries (about 10 s);
    the end record says how many there are in 22 bytes. Zip64 (needed only
    past 65,535 entries or 4 GiB) is refused: no record comes near either.
    """
    end = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 22 - 65535))
    if end < 0 or len(raw) - end < 22:
        raise MalformedRecord("the arrays file is not a zip archive (.npz)")
    _, _, _, entries, size, offset, _ = struct.unpack("<HHHHIIH", raw[end + 4:end + 22])
    zip64 = raw[end - 20:end].startswith(b"PK\x06\x07")  # zipfile would read the zip64 record's counts instead
    if zip64 or entries == 0xFFFF or size == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        raise MalformedRecord("the arrays file is a zip64 archive: far more than a record holds")
    return entries, size


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def load_arrays(raw):
    """{name: ndarray} from the bytes of a .npz the kernel wrote. Raises MalformedRecord.

    Bounded before anything is decoded: at most MAX_ITEMS entries and a
    small central directory (counted from the end record), entries stored
    uncompressed (as np.savez writes them, so nothing inflates), and every
    array's header declaring no more bytes than its entry holds, so memory
    stays within the file's own size. No pickle.
    """
    entries, directory = _zip_directory_size(raw)
    if entries > MAX_ITEMS:
        raise MalformedRecord(f"the arrays file lists {entries} entries; a record holds at most {MAX_ITEMS}")
    if directory > MAX_ZIP_DIRECTORY:
        raise MalformedRecord(f"the arrays file's directory is {directory} bytes, far more than "
                              f"{MAX_ITEMS} arrays need ({MAX_ZIP_DIRECTORY})")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            infos = z.infolist()
            if len(infos) > MAX_ITEMS:
                raise MalformedRecord(f"the arrays file holds more than {MAX_ITEMS} entries")
            arrays = {}
            for info in infos:
                if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                    raise MalformedRecord(f"{info.filename[:60]!r} is not an uncompressed .npy entry")
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version not in _HEADER_READERS:
                        raise MalformedRecord(f"{info.filename[:60]!r} has .npy format {version}")
                    shape, _, dtype = _HEADER_READERS[version](f)
                    if dtype.hasobject:
                        raise MalformedRecord("an array holds Python objects")
                    if math.prod(shape) * dtype.itemsize > info.file_size:
                        raise MalformedRecord(f"{info.filename[:60]!r} declares more data than it holds")
                with z.open(info) as f:
                    arrays[info.filename[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
            return arrays
    except MalformedRecord:
        raise
    except Exception as e:  # a corrupt or pickled file: the kernel's fault, not the judge's
        raise MalformedRecord(f"the arrays cannot be read ({type(e).__name__}: {str(e)[:200]})") from None


# ---- the failing frames of a raised record (explain.py's module docstring shows their form) ----

MAX_FRAMES, MAX_LOCALS, MAX_SOURCE_LINES = 4, 40, 40
_FACT_KEYS = {"array": {"shape", "dtype"}, "int": {"value"}, "float": {"value"}, "bool": {"value"},
              "str": {"value"}, "none": set(), "slice": {"start", "stop", "step"}, "other": {"type"},
              "tuple": {"len", "items"}, "list": {"len", "items"}, "dict": {"len", "items"}}


def _checked(ok, value):
    if not ok:
        raise MalformedRecord("bad 'frames' in the raised record")
    return value


def _plain_text(value, limit):
    """A str of at most `limit` characters without control characters (a tab is allowed)."""
    return _checked(isinstance(value, str) and len(value) <= limit
                    and not any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in value), value)


def _small_int(value, low=-2**53):
    return _checked(type(value) is int and low <= value < 2**53, value)


def _fact(fact, top=True):
    """One local's recorded value: bounded plain data of a known kind, nothing else."""
    kind = _checked(isinstance(fact, dict), fact).get("kind")
    _checked(kind in _FACT_KEYS and set(fact) == _FACT_KEYS[kind] | {"kind"}, None)
    if kind == "array":
        _checked(isinstance(fact["shape"], list) and len(fact["shape"]) <= 64, None)
        [_small_int(d, 0) for d in fact["shape"]]
        _plain_text(fact["dtype"], 32)
    elif kind in ("int", "float", "bool", "str"):
        value = fact["value"]
        {"int": _small_int, "str": lambda v: _plain_text(v, 40),
         "bool": lambda v: _checked(type(v) is bool, v),
         "float": lambda v: _checked(type(v) is float and math.isfinite(v), v)}[kind](value)
    elif kind == "slice":
        [_small_int(fact[k]) for k in ("start", "stop", "step") if fact[k] is not None]
    elif kind == "other":
        _plain_text(fact["type"], 60)
    elif kind != "none":
        items = fact["items"]
        _checked(top and isinstance(items, list) and len(items) <= 8, _small_int(fact["len"], 0))
        for item in items:
            if kind == "dict":
                _plain_text(_checked(isinstance(item, list) and len(item) == 2, item)[0], 40)
            _fact(item[1] if kind == "dict" else item, top=False)
    return fact


def raised_frames(frames):
    """The student's failing frames from a raised record, checked to be exactly the bounded plain
    data grader_record writes (else MalformedRecord): [{"function", "line", "source", "locals"}]."""
    _checked(isinstance(frames, list) and len(frames) <= MAX_FRAMES, None)
    for frame in frames:
        _checked(isinstance(frame, dict) and set(frame) == {"function", "line", "source", "locals"}, None)
        _plain_text(frame["function"], 80)
        _small_int(frame["line"], 0)
        _checked(isinstance(frame["source"], list) and len(frame["source"]) <= MAX_SOURCE_LINES, None)
        [_plain_text(line, 200) for line in frame["source"]]
        _checked(isinstance(frame["locals"], list) and len(frame["locals"]) <= MAX_LOCALS, None)
        for pair in frame["locals"]:
            _checked(isinstance(pair, list) and len(pair) == 2, None)
            _checked(_plain_text(pair[0], 40).isidentifier(), _fact(pair[1]))
    return frames


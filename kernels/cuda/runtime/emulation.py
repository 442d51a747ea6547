"""The CPU emulation executor: the project's .cu kernels on NumPy arrays, without a GPU.

A .cu source is compiled by the host C++ compiler (``g++``, or ``$CXX``) into a shared
library, once per (source, dtype), through the compatibility header emulation.h (the
CUDA C surface), emulation_grid.h (blocks shared out among OS threads),
emulation_block.h (the threads of a block as fibers that meet at barriers) and
emulation_fiber.h (switching between fibers). The translation unit is::

    #define scalar_t float
    #include "emulation.h"
    #line 1 "/.../kernels/cuda/batch_norm.cu"
    ...the .cu source...
    ...an extern "C" launch stub per kernel: mtcv_launch_<kernel>(config, args, ...)...

Python calls a stub through ctypes with a ``void*`` array that points at each argument
(an array's data pointer, or a scalar's value); the stub copies them into the kernel's
own parameter types and runs the grid.

Built libraries are cached by a hash of everything that goes into them (translation
unit, headers, compiler version, flags) in ``$MINITORCH_CV_CACHE/cuda-emulation`` or
``~/.cache/minitorch_cv/cuda-emulation``. A library is compiled under a temporary name,
sealed (a trailer with the SHA-256 of its bytes is appended; the dynamic loader ignores
bytes after the ELF contents) and renamed into place, so a process never loads a
half-written file even when several test processes build the same source at once. A
cached file is loaded only when its seal matches: a truncated, damaged or foreign file
(which ``dlopen`` would map and then crash on with SIGBUS, or refuse as "wrong ELF
class") is rebuilt instead.

Bounds checking (the default; ``MINITORCH_CV_EMULATION_MEMCHECK=0`` turns it off): the
source is built with every pointer declaration rewritten to ``mtcv::Checked<T>``
(emulation_memcheck.h, ``memcheck_text`` below) and each array argument carries its name
and size, so every global memory access is checked, like compute-sanitizer's memcheck,
and an access outside an array is a CudaLaunchError instead of a crash or corrupted
memory, whoever launched the kernel. The plain build (the .cu source as written) runs
some 10-20% faster.
"""
import ctypes
import functools
import hashlib
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import tempfile

import numpy as np

from .errors import CudaBuildError, CudaLaunchError, format_build_error

HEADER_DIR = pathlib.Path(__file__).resolve().parent
HEADERS = ("emulation.h", "emulation_grid.h", "emulation_block.h", "emulation_fiber.h", "emulation_memcheck.h")
ABI_VERSION = 2  # bump when the stub's calling convention changes (2: no shared_mem)
CXXFLAGS = ("-std=c++17", "-O2", "-fPIC", "-shared", "-pthread", "-fvisibility=hidden", "-fno-math-errno")
ERROR_BUFFER_BYTES = 4096
MEMCHECK_VARIABLE = "MINITORCH_CV_EMULATION_MEMCHECK"
# The seal appended to a built library: this marker, then the SHA-256 of the bytes before it.
SEAL_MARKER = b"minitorch_cv-emulation-seal-1:"
SEAL_BYTES = len(SEAL_MARKER) + 32

_STUB = (
    'extern "C" __attribute__((visibility("default"))) int mtcv_launch_{name}('
    "const mtcv::LaunchConfig* config, void** args, char* error, size_t error_size) "
    "{{ return mtcv::launch({name}, config, args, error, error_size); }}"
)


class ArrayBounds(ctypes.Structure):
    """Mirror of mtcv::ArrayBounds in emulation_memcheck.h."""

    _fields_ = [("name", ctypes.c_char_p), ("count", ctypes.c_longlong)]


class CheckedPointer(ctypes.Structure):
    """Mirror of the layout of mtcv::Checked<T> in emulation_memcheck.h."""

    _fields_ = [("base", ctypes.c_void_p), ("offset", ctypes.c_longlong), ("bounds", ctypes.POINTER(ArrayBounds))]


class LaunchConfig(ctypes.Structure):
    """Mirror of mtcv::LaunchConfig in emulation_grid.h."""

    _fields_ = [
        ("grid", ctypes.c_uint * 3),
        ("block", ctypes.c_uint * 3),
        ("workers", ctypes.c_int),
        ("use_fibers", ctypes.c_int),
    ]


def cache_dir():
    root = os.environ.get("MINITORCH_CV_CACHE")
    if root:
        base = pathlib.Path(root)
    else:
        base = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "minitorch_cv"
    return base / "cuda-emulation"


def compiler():
    return os.environ.get("CXX") or "g++"


def compiler_flags():
    """CXXFLAGS plus $MINITORCH_CV_EMULATION_CXXFLAGS (e.g. -DMTCV_USE_UCONTEXT, -g)."""
    return (*CXXFLAGS, *shlex.split(os.environ.get("MINITORCH_CV_EMULATION_CXXFLAGS", "")))


@functools.lru_cache(maxsize=None)
def compiler_version(cxx):
    try:
        result = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise CudaBuildError(
            f"the CPU emulation of CUDA needs a C++ compiler, and '{cxx}' was not found "
            "(install g++ or clang++, or set CXX)"
        ) from error
    return result.stdout.strip()


def memcheck_requested():
    """Whether kernels run in their bounds-checked builds: yes, unless
    $MINITORCH_CV_EMULATION_MEMCHECK turns it off (0, false, no, off)."""
    return os.environ.get(MEMCHECK_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


def worker_count():
    """OS threads to run blocks on: $MINITORCH_CV_EMULATION_THREADS, else the usable cores."""
    configured = os.environ.get("MINITORCH_CV_EMULATION_THREADS")
    if configured:
        return max(1, int(configured))
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# Pointer declarations the bounds-checking build rewrites: an element type the launcher
# can pass (longest spellings first), '*', an optional __restrict__, then a name.
_ELEMENT_TYPES = (
    "unsigned long long", "unsigned short", "unsigned char", "unsigned int", "signed char",
    "long long", "unsigned", "scalar_t", "double", "float", "size_t", "short", "char", "bool", "int",
)  # fmt: skip
_TEMPLATE_PARAMETERS = re.compile(r"\btemplate\s*<([^<>]*)>")


def _pointer_declaration(type_names):
    spelled = "|".join(t.replace(" ", r"\s+") for t in type_names)
    return re.compile(
        r"\b(?P<const>const\s+)?(?P<type>" + spelled + r")\s*\*\s*(?:__restrict__\s+|__restrict\s+)?(?=[A-Za-z_])"
    )


def memcheck_text(source_text):
    """``source_text`` with every pointer declaration (kernel and device-function
    parameters, local pointer variables) rewritten to mtcv::Checked<T>.

    A pointer to a template's type parameter (``T* partials`` in block_reduce.cuh)
    becomes ``mtcv::Checked<mtcv::nondeduced<T>>``: T is then deduced from the other
    arguments only (``block_sum(value, partials)``), and a raw pointer to shared memory
    or a Checked one both convert to the parameter. Casts such as ``(scalar_t*)p`` are
    not followed by a name and stay; no line is added or removed, so compilers still
    report the .cu file's own lines."""
    template_types = set()
    for match in _TEMPLATE_PARAMETERS.finditer(source_text):
        template_types.update(re.findall(r"\b(?:typename|class)\s+(\w+)", match.group(1)))

    def checked(match):
        const = "const " if match.group("const") else ""
        element = " ".join(match.group("type").split())
        if element in template_types:
            element = f"mtcv::nondeduced<{element}>"
        return f"mtcv::Checked<{const}{element}> "

    declaration = _pointer_declaration(sorted(template_types, key=len, reverse=True) + list(_ELEMENT_TYPES))
    return declaration.sub(checked, source_text)


def translation_unit(source_text, source_path, ctype, kernel_names, memcheck=False):
    """The C++ text that the host compiler builds for one (source, dtype)."""
    stubs = "\n".join(_STUB.format(name=name) for name in kernel_names)
    if memcheck:
        source_text = memcheck_text(source_text)
    return (
        f"// CPU emulation build of {pathlib.Path(source_path).name} with scalar_t = {ctype}"
        f"{' (bounds-checked)' if memcheck else ''}\n"
        f"{'#define MTCV_MEMCHECK 1' if memcheck else ''}\n"
        f"#define scalar_t {ctype}\n"
        '#include "emulation.h"\n'
        f'#line 1 "{source_path}"\n'
        f"{source_text}\n"
        '#line 1 "<launch stubs generated by kernels/cuda/runtime/emulation.py>"\n'
        f"{stubs}\n"
        f'extern "C" __attribute__((visibility("default"))) int mtcv_abi_version() {{ return {ABI_VERSION}; }}\n'
    )


def build_key(unit):
    """Hash of everything that determines the library's bytes."""
    digest = hashlib.sha256()
    cxx = compiler()
    for part in (unit, cxx, compiler_version(cxx), " ".join(compiler_flags()), str(ABI_VERSION)):
        digest.update(part.encode())
        digest.update(b"\0")
    for header in HEADERS:
        digest.update((HEADER_DIR / header).read_bytes())
    return digest.hexdigest()[:24]


def build_library(unit, source, ctype, memcheck=False):
    """Path of the shared library for ``unit`` (a build of the CudaSource ``source``),
    compiling it unless a sealed copy is cached.

    Returns (path, compiled) where ``compiled`` says whether this call ran the compiler.
    """
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable home (some CI sandboxes): a per-user temporary cache
        directory = pathlib.Path(tempfile.gettempdir()) / f"minitorch_cv-{os.getuid()}" / "cuda-emulation"
        directory.mkdir(parents=True, exist_ok=True)
    stem = source.path.stem
    mode = "-memcheck" if memcheck else ""
    target = directory / f"{stem}-{ctype}{mode}-{build_key(unit)}.so"
    if is_sealed(target):
        return target, False
    work = pathlib.Path(tempfile.mkdtemp(prefix=f".{stem}-", dir=directory))
    try:
        (work / "unit.cpp").write_text(unit)
        command = [compiler(), *compiler_flags(), "-I", str(HEADER_DIR), "unit.cpp", "-o", "library.so"]
        result = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            what = f"CPU emulation build of {source.path.name} (scalar_t = {ctype}) with {compiler()}"
            output = result.stderr + result.stdout
            raise CudaBuildError(format_build_error(what, source.path, source.text, output, source.headers))
        seal(work / "library.so")
        os.replace(work / "library.so", target)  # atomic: readers see all of it or nothing
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target, True


def seal(path):
    """Appends the seal (SEAL_MARKER + SHA-256 of the file's bytes) to a built library."""
    with open(path, "r+b") as file:
        digest = hashlib.sha256(file.read()).digest()
        file.write(SEAL_MARKER + digest)
        file.flush()
        os.fsync(file.fileno())


def is_sealed(path):
    """Whether ``path`` is a regular file that ends with a seal matching its bytes: what
    a complete, unmodified build looks like (a missing file is simply not sealed)."""
    try:
        if not os.path.isfile(path):  # (never open a FIFO or a device planted there)
            return False
        with open(path, "rb") as file:
            content = file.read()
    except OSError:
        return False
    body, trailer = content[:-SEAL_BYTES], content[-SEAL_BYTES:]
    return len(content) > SEAL_BYTES and trailer == SEAL_MARKER + hashlib.sha256(body).digest()


class EmulationBuild:
    """One .cu source (a CudaSource) built for one dtype, loaded and ready to launch its
    kernels; ``memcheck`` builds check every global memory access (see the docstring)."""

    def __init__(self, source, ctype, memcheck=False):
        text = source.compiled_text(str(source.path), full_paths=True)
        unit = translation_unit(text, source.path, ctype, sorted(source.kernels), memcheck)
        self.memcheck = memcheck
        self.path, self.compiled = build_library(unit, source, ctype, memcheck)
        try:
            self._library = ctypes.CDLL(str(self.path))
        except OSError as error:  # sealed by us, yet not loadable: say so, do not crash
            raise CudaBuildError(
                f"the CPU emulation could not load its build {self.path} ({error}); delete the "
                f"file (or the folder {self.path.parent}) to rebuild it"
            ) from error
        if self._library.mtcv_abi_version() != ABI_VERSION:
            raise CudaBuildError(f"{self.path} was built for another version of the launcher; delete it")
        self._stubs = {}

    def _stub(self, name):
        if name not in self._stubs:
            stub = getattr(self._library, f"mtcv_launch_{name}")
            stub.argtypes = [ctypes.POINTER(LaunchConfig), ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
            stub.restype = ctypes.c_int
            self._stubs[name] = stub
        return self._stubs[name]

    def launch(self, name, grid, block, args, synchronizes, parameters=()):
        """Runs kernel ``name``; ``args`` are checked, contiguous arrays and NumPy scalars;
        ``parameters`` (source_parser.Parameter) name the arrays in a memcheck report."""
        holders = []  # keep every value alive until the kernel has run
        pointers = (ctypes.c_void_p * max(1, len(args)))()
        names = [p.name for p in parameters] or [f"argument {i}" for i in range(len(args))]
        for i, value in enumerate(args):
            if isinstance(value, np.ndarray) and self.memcheck:
                bounds = ArrayBounds(names[i].encode(), value.size)
                holder = (bounds, CheckedPointer(value.ctypes.data, 0, ctypes.pointer(bounds)))
                pointers[i] = ctypes.addressof(holder[1])
            elif isinstance(value, np.ndarray):
                holder = ctypes.c_void_p(value.ctypes.data)
                pointers[i] = ctypes.addressof(holder)
            else:
                holder = np.array(value)  # a 0-d array owns the scalar's bytes
                pointers[i] = holder.ctypes.data
            holders.append(holder)
        config = LaunchConfig(
            (ctypes.c_uint * 3)(*grid),
            (ctypes.c_uint * 3)(*block),
            worker_count(),
            1 if synchronizes else 0,
        )
        error = ctypes.create_string_buffer(ERROR_BUFFER_BYTES)
        status = self._stub(name)(ctypes.byref(config), pointers, error, ERROR_BUFFER_BYTES)
        del holders
        if status != 0:
            raise CudaLaunchError(f"kernel {name}: {error.value.decode(errors='replace')}")

"""The launcher's errors; a build error shows the compiler's message next to the .cu line.

Both executors compile the .cu text behind a few generated lines and a ``#line 1
"<file>.cu"`` directive, so compilers report positions in the student's own file:
g++/clang as ``batch_norm.cu:42:13: error: ...``, nvcc/NVRTC as ``batch_norm.cu(42): error:
...``. The first error that points into the .cu file is quoted with its source line.
"""
import os
import re


class CudaBuildError(RuntimeError):
    """A .cu source failed to compile (for the GPU or for the CPU emulation)."""


class CudaLaunchError(RuntimeError):
    """A kernel failed while running in the CPU emulation (a divergent barrier, a warp
    shuffle that reads a lane outside its mask, ...)."""


_GCC_POSITION = r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+):(?:\d+:)?\s*(?:fatal\s+)?error:?\s*(?P<message>.*)$"
_NVCC_POSITION = r"^(?P<file>[^\s(][^(\n]*)\((?P<line>\d+)\):\s*(?:catastrophic\s+)?error:?\s*(?P<message>.*)$"


def first_error(compiler_output, source_path):
    """(line, message) of the first error reported in ``source_path``, or None."""
    name = os.path.basename(str(source_path))
    for pattern in (_GCC_POSITION, _NVCC_POSITION):
        for match in re.finditer(pattern, compiler_output, flags=re.MULTILINE):
            if os.path.basename(match.group("file").strip()) == name:
                return int(match.group("line")), match.group("message").strip()
    return None


def format_build_error(what, source_path, source_text, compiler_output, headers=None):
    """The message of a CudaBuildError: the offending line first, then the full output.
    ``headers`` ({name: text}): the project headers the source includes, whose lines are
    quoted when the first error is in one of them."""
    files = [(source_path, source_text)] + list((headers or {}).items())
    lines = [f"{what} failed."]
    for path, text in files:
        found = first_error(compiler_output, path)
        if found is not None:
            line, message = found
            source_lines = text.split("\n")
            code = source_lines[line - 1] if 0 < line <= len(source_lines) else ""
            lines.append(f"{os.path.basename(str(path))}:{line}: error: {message}")
            lines.append(f"{line:6d} | {code}")
            break
    lines.append("")
    lines.append("compiler output:")
    lines.append(compiler_output.strip())
    return "\n".join(lines)

"""Reading a .cu file: its kernels, their parameter lists, and which ones synchronize.

The launcher needs three facts about a kernel before it launches it:

1. its parameter list, to check every argument against it (an array for a pointer of
   the same element type, ``np.int32`` for ``int``, ...) so that a wrong argument is a
   Python ``TypeError`` and never silently corrupts memory;
2. which pointers are ``const`` (inputs, which may be copied to make them contiguous)
   and which are not (outputs, which must not be copied or the kernel's writes would
   be lost);
3. whether it synchronizes (``__syncthreads``, ``__shfl_xor_sync``) anywhere in its call
   graph: the CPU emulation runs a kernel that never does as plain loops, much faster
   than with one fiber per CUDA thread.

A source may include project headers that sit beside it (``#include "block_reduce.cuh"``):
``project_headers`` finds them, their functions count in the call graph, and
``paste_headers`` puts their text in place for the compilers (NVRTC has no include path
to the project, and pasting makes every build hash cover the header too).

This is not a C++ parser: it understands the shape of code that the project's kernels
are written in (see kernels/cuda/runtime/README.md) and says so clearly when it meets
something else.
"""
import dataclasses
import re


class CudaSourceError(ValueError):
    """A .cu file that the launcher cannot use (for example a kernel not extern "C")."""


# Intrinsics at which threads wait for each other (those the emulation supports): a
# kernel reaching any of them needs the emulation's fibers.
SYNCHRONIZING_INTRINSICS = frozenset(["__syncthreads", "__shfl_xor_sync"])


# Spellings of the same C type, reduced to one name.
_TYPE_SPELLINGS = {
    "signed": "int",
    "signed int": "int",
    "unsigned": "unsigned int",
    "long long int": "long long",
    "signed long long": "long long",
    "signed long long int": "long long",
    "unsigned long long int": "unsigned long long",
    "short int": "short",
    "signed short": "short",
    "unsigned short int": "unsigned short",
    "long int": "long",
    "unsigned long int": "unsigned long",
}


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One kernel parameter: ``const scalar_t* __restrict__ x`` is
    Parameter(name="x", type_name="scalar_t", pointer=True, const=True)."""

    name: str
    type_name: str  # the element type for a pointer, else the value's type
    pointer: bool
    const: bool  # a pointer to const data: an input array
    declaration: str  # as written, for error messages

    def __str__(self):
        return self.declaration


@dataclasses.dataclass(frozen=True)
class Kernel:
    name: str
    line: int  # where its definition starts in the .cu file
    parameters: tuple
    synchronizes: bool


def strip_comments(text):
    """Comments become spaces and string literals keep only their quotes (except "C"),
    so that braces and keywords inside them are never read as code; every newline
    stays, so line numbers do not move."""
    out = []
    i, n = 0, len(text)
    while i < n:
        two = text[i : i + 2]
        if two == "//":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif two == "/*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif text[i] in "\"'":
            quote = text[i]
            j = i + 1
            while j < n and text[j] != quote and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            literal = text[i : j + 1]
            out.append(literal if literal == '"C"' else quote + " " * (len(literal) - 2) + quote)
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _preprocessor_lines(text):
    """Splits the preprocessor directives (joined over backslash-newlines) from the code:
    returns (code with directive lines blanked, list of directive texts)."""
    lines = text.split("\n")
    code, directives = [], []
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("#"):
            directive = lines[i]
            code.append("")
            while directive.endswith("\\") and i + 1 < len(lines):
                i += 1
                directive = directive[:-1] + " " + lines[i]
                code.append("")
            directives.append(directive.strip())
        else:
            code.append(lines[i])
        i += 1
    return "\n".join(code), directives


def _macros(directives):
    """#define NAME body and #define NAME(args) body, as {name: body}."""
    macros = {}
    for directive in directives:
        match = re.match(r"#\s*define\s+(\w+)(\([^)]*\))?\s*(.*)", directive)
        if match:
            macros[match.group(1)] = match.group(3)
    return macros


def _matching(text, start, opening, closing):
    """Index just past the bracket that closes the one at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == opening:
            depth += 1
        elif text[i] == closing:
            depth -= 1
            if depth == 0:
                return i + 1
    raise CudaSourceError(f"unbalanced {opening}{closing} in the CUDA source")


def _top_level_blocks(code, offset=0, extern_c=False):
    """Yields (header, body, header_start, extern_c) for every brace block at the top
    level of ``code``, descending into namespaces and extern "C" { } blocks (extern_c
    says whether the block is inside one)."""
    i, statement_start = 0, 0
    while i < len(code):
        char = code[i]
        if char in ";}":
            statement_start = i + 1
        elif char == "{":
            end = _matching(code, i, "{", "}")
            header, body = code[statement_start:i], code[i + 1 : end - 1]
            if re.search(r"\bnamespace\b", header):
                yield from _top_level_blocks(body, offset + i + 1, extern_c)
            elif re.fullmatch(r'\s*extern\s+"C"\s*', header):
                yield from _top_level_blocks(body, offset + i + 1, True)
            else:
                yield header, body, offset + statement_start, extern_c
            i = end
            statement_start = end
            continue
        i += 1


def _function_name(header):
    """The name of the function whose definition starts with ``header``, or None."""
    stripped = re.sub(r"\b(const|noexcept|override)\s*$", "", header.rstrip()).rstrip()
    if not stripped.endswith(")"):
        return None, None
    depth = 0
    for i in range(len(stripped) - 1, -1, -1):
        if stripped[i] == ")":
            depth += 1
        elif stripped[i] == "(":
            depth -= 1
            if depth == 0:
                match = re.search(r"(\w+)\s*$", stripped[:i])
                if match is None:
                    return None, None
                return match.group(1), stripped[i + 1 : -1]
    return None, None


def _aliases(code, macros):
    """Type names defined with typedef, using or an object-like #define."""
    aliases = {}
    for match in re.finditer(r"\btypedef\s+([\w\s]+?)\s+(\w+)\s*;", code):
        aliases[match.group(2)] = match.group(1)
    for match in re.finditer(r"\busing\s+(\w+)\s*=\s*([\w\s]+?)\s*;", code):
        aliases[match.group(1)] = match.group(2)
    for name, body in macros.items():
        if re.fullmatch(r"[A-Za-z_][\w\s]*", body or ""):
            aliases.setdefault(name, body)
    return aliases


def normalize_type(words, aliases):
    """``unsigned long long int`` -> ``unsigned long long``; aliases resolved."""
    name = " ".join(words.split())
    for _ in range(10):  # aliases of aliases, without looping forever
        if name in aliases and aliases[name].strip() != name:
            name = " ".join(aliases[name].split())
        else:
            break
    return _TYPE_SPELLINGS.get(name, name)


def parse_parameter(declaration, aliases, kernel_name):
    tokens = re.findall(r"\w+|\*|&|\[|\]", declaration)
    tokens = [t for t in tokens if t not in ("__restrict__", "__restrict", "restrict", "volatile")]
    if "&" in tokens or "[" in tokens:
        raise CudaSourceError(
            f"kernel {kernel_name}: parameter '{declaration.strip()}' is a reference or an array; "
            "kernels take pointers and values only"
        )
    stars = tokens.count("*")
    if stars > 1:
        raise CudaSourceError(
            f"kernel {kernel_name}: parameter '{declaration.strip()}' is a pointer to a pointer, "
            "which the launcher cannot pass"
        )
    first_star = tokens.index("*") if stars else len(tokens)
    const = stars == 1 and "const" in tokens[:first_star]
    words = [t for t in tokens if t not in ("const", "*")]
    if len(words) < 2:
        raise CudaSourceError(f"kernel {kernel_name}: parameter '{declaration.strip()}' needs a type and a name")
    return Parameter(
        name=words[-1],
        type_name=normalize_type(" ".join(words[:-1]), aliases),
        pointer=stars == 1,
        const=const,
        declaration=" ".join(declaration.split()),
    )


def _split_parameters(text):
    parts, depth, current = [], 0, []
    for char in text:
        if char in "(<":
            depth += 1
        elif char in ")>":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    last = "".join(current)
    if last.strip() and last.strip() != "void":
        parts.append(last)
    return parts


_PROJECT_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"(?P<name>[^"]+)"[ \t]*$', re.MULTILINE)


def project_headers(text, directory):
    """{name: path} of the headers that ``text`` includes with ``#include "name"`` and that
    exist in ``directory`` (the .cu file's own). Any other include is left to the
    compilers, which have no host headers (kernels/cuda/runtime/README.md)."""
    headers = {}
    for match in _PROJECT_INCLUDE.finditer(text):
        path = directory / match.group("name")
        if path.is_file():
            headers[match.group("name")] = path
    return headers


def paste_headers(text, headers, source_label, header_label):
    """``text`` with each ``#include "name"`` of ``headers`` ({name: header text}) replaced
    by the header, between ``#line`` directives, so that compilers report positions in
    the header's and the source's own lines. ``header_label(name)`` names a header in
    those directives, ``source_label`` the source."""

    def paste(match):
        name = match.group("name")
        if name not in headers:
            return match.group(0)
        if _PROJECT_INCLUDE.search(headers[name]):
            raise CudaSourceError(f"{name}: a project header cannot include another one")
        line = text.count("\n", 0, match.start()) + 1
        return f'#line 1 "{header_label(name)}"\n{headers[name]}\n#line {line + 1} "{source_label}"'

    return _PROJECT_INCLUDE.sub(paste, text)


def parse_kernels(text, filename="<source>", headers=()):
    """{name: Kernel} for every ``__global__`` function of a .cu source; ``headers`` are
    the texts of the project headers it includes (their functions can synchronize)."""
    code, directives = _preprocessor_lines(strip_comments(text))
    macros = _macros(directives)
    aliases = _aliases(code, macros)

    functions = {}  # name -> body text (overloads merged: conservative)
    kernels = []
    conservative = False  # synchronizing code outside any function we understand
    for header_text in headers:
        header_code, header_directives = _preprocessor_lines(strip_comments(header_text))
        macros.update(_macros(header_directives))
        for signature, body, _, _ in _top_level_blocks(header_code):
            name, _ = _function_name(signature)
            if name is not None:
                functions[name] = functions.get(name, "") + "\n" + body
    for header, body, start, extern_c in _top_level_blocks(code):
        name, parameters = _function_name(header)
        if name is None:
            if _identifiers(body) & SYNCHRONIZING_INTRINSICS:
                conservative = True
            continue
        functions[name] = functions.get(name, "") + "\n" + body
        if re.search(r"\b__global__\b", header):
            line = code.count("\n", 0, start + len(header) - len(header.lstrip())) + 1
            kernels.append((name, header, parameters, line, extern_c))

    synchronizing = _synchronizing_names(functions, macros)
    result = {}
    for name, header, parameters, line, extern_c in kernels:
        where = f"{filename}:{line}"
        if not extern_c and not re.search(r'\bextern\s+"C"', header):
            raise CudaSourceError(
                f'kernel {name} ({where}) must be declared extern "C" __global__ void {name}(...): '
                "both executors look kernels up by their plain C name"
            )
        if re.search(r"\btemplate\b", header):
            raise CudaSourceError(
                f"kernel {name} ({where}) is a template: write it in terms of scalar_t instead "
                "(the launcher builds every source once per dtype)"
            )
        without_bounds = re.sub(r"__launch_bounds__\s*\([^)]*\)", " ", header)
        if not re.search(r"\bvoid\s+" + name + r"\s*\(", without_bounds):
            raise CudaSourceError(f"kernel {name} ({where}) must return void")
        params = tuple(parse_parameter(p, aliases, name) for p in _split_parameters(parameters))
        result[name] = Kernel(name, line, params, conservative or name in synchronizing)
    return result


def _identifiers(text):
    return set(re.findall(r"[A-Za-z_]\w*", text))


def _synchronizing_names(functions, macros):
    """Functions and macros from which a synchronizing intrinsic can be reached."""
    bodies = dict(macros)
    for name, body in functions.items():
        bodies[name] = bodies.get(name, "") + "\n" + body
    uses = {name: _identifiers(body) for name, body in bodies.items()}
    synchronizing = set(SYNCHRONIZING_INTRINSICS)
    changed = True
    while changed:
        changed = False
        for name, identifiers in uses.items():
            if name not in synchronizing and identifiers & synchronizing:
                synchronizing.add(name)
                changed = True
    return synchronizing

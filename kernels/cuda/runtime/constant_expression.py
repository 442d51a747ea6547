"""The value of an integer constant expression of a .cu file, such as the block size a
kernel declares with ``__launch_bounds__(THREADS)``, where ``#define THREADS (TILE *
TILE)`` and ``#define TILE (sizeof(scalar_t) == 4 ? 16 : 8)``.

The launcher enforces a kernel's declared block size before the launch, for each build
(scalar_t float or double), so it evaluates the declaration itself: object-like macros
are expanded, ``sizeof`` of the scalar types is known, and the C operators on integers
are understood (``?:``, ``||``, ``&&``, comparisons, ``+ - * / %``, unary ``- + !``,
parentheses; integer literals with U/L suffixes). Anything else raises
``CudaSourceError``: a declaration the launcher cannot read is not silently ignored.
"""
import re

from .errors import CudaSourceError

_SIZEOF = {"float": 4, "double": 8, "int": 4, "long long": 8, "short": 2, "char": 1}
_TOKEN = re.compile(r"\s*(?:(?P<number>0[xX][0-9a-fA-F]+|\d+)[uUlL]*|(?P<name>[A-Za-z_]\w*)|(?P<op>\|\||&&|==|!=|<=|>=|[-+*/%()<>!?:]))")


def evaluate(text, macros, ctype):
    """The integer value of ``text`` with ``macros`` ({name: body}) expanded and
    scalar_t = ``ctype`` ("float" or "double")."""
    expanded = _expand(text, dict(macros, scalar_t=ctype))
    expanded = re.sub(r"sizeof\s*\(\s*([\w\s]+?)\s*\)", lambda m: str(_sizeof(m.group(1), text)), expanded)
    tokens = _tokens(expanded, text)
    parser = _Parser(tokens, text)
    value = parser.ternary()
    if parser.position != len(tokens):
        raise CudaSourceError(f"cannot evaluate the constant expression {text!r} (read as {expanded!r})")
    return value


def _expand(text, macros, depth=0):
    if depth > 20:
        raise CudaSourceError(f"macros nested too deep in {text!r}")

    def replace(match):
        name = match.group(0)
        if name not in macros or name == "sizeof":
            return name
        body = _expand(macros[name], macros, depth + 1)
        # A type or a number stays bare (sizeof(scalar_t) -> sizeof(float)); an
        # expression is parenthesized, as the preprocessor's text would need to be.
        return body if re.fullmatch(r"[\w\s]*", body) else "(" + body + ")"

    return re.sub(r"[A-Za-z_]\w*", replace, text)


def _sizeof(type_name, text):
    name = " ".join(type_name.split())
    if name not in _SIZEOF:
        raise CudaSourceError(f"cannot evaluate sizeof({name}) in {text!r}")
    return _SIZEOF[name]


def _tokens(expanded, text):
    tokens, position = [], 0
    while position < len(expanded):
        match = _TOKEN.match(expanded, position)
        if match is None or match.end() == position:
            if expanded[position:].strip() == "":
                break
            raise CudaSourceError(f"cannot evaluate the constant expression {text!r} (at {expanded[position:]!r})")
        if match.group("number"):
            tokens.append(int(match.group("number"), 0))
        elif match.group("name"):
            raise CudaSourceError(f"cannot evaluate {text!r}: {match.group('name')!r} is not a known constant")
        else:
            tokens.append(match.group("op"))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over C's precedence levels, lowest first."""

    _BINARY = [("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%")]

    def __init__(self, tokens, text):
        self.tokens, self.text, self.position = tokens, text, 0

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected=None):
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise CudaSourceError(f"cannot evaluate the constant expression {self.text!r}")
        self.position += 1
        return token

    def ternary(self):
        condition = self.binary(0)
        if self.peek() != "?":
            return condition
        self.take("?")
        if_true = self.ternary()
        self.take(":")
        if_false = self.ternary()
        return if_true if condition else if_false

    def binary(self, level):
        if level == len(self._BINARY):
            return self.unary()
        value = self.binary(level + 1)
        while self.peek() in self._BINARY[level]:
            operator = self.take()
            value = _apply(operator, value, self.binary(level + 1), self.text)
        return value

    def unary(self):
        token = self.take()
        if token == "(":
            value = self.ternary()
            self.take(")")
            return value
        if token in ("-", "+", "!"):
            operand = self.unary()
            return {"-": -operand, "+": operand, "!": int(not operand)}[token]
        if isinstance(token, int):
            return token
        raise CudaSourceError(f"cannot evaluate the constant expression {self.text!r}")


def _apply(operator, a, b, text):
    if operator in ("/", "%") and b == 0:
        raise CudaSourceError(f"division by zero in the constant expression {text!r}")
    if operator == "/":  # C truncates toward zero
        return abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    if operator == "%":
        return a - b * _apply("/", a, b, text)
    return {
        "||": lambda: int(bool(a) or bool(b)), "&&": lambda: int(bool(a) and bool(b)),
        "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),
        "<=": lambda: int(a <= b), ">": lambda: int(a > b), ">=": lambda: int(a >= b),
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
    }[operator]()

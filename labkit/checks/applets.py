"""What a few busybox applets print, for checkers that must say what an image would do
where no engine runs it: ``echo``, ``printf``, ``true``/``false``, and ``sh -c`` with a
script of those (``$0``, ``$1``, ``"$@"``, ``${1:-word}`` expanded). Anything else is
"cannot tell" (None), never a guess.

Example:
    >>> output(["/busybox", "echo", "hello", "world"])
    ('hello world\\n', 0)
    >>> output(["/bin/sh", "-c", 'echo "hello ${1:-world}"', "sh", "you"])
    ('hello you\\n', 0)
    >>> output(["/busybox", "wget", "x"]) is None
    True
"""
from __future__ import annotations

import posixpath
import re

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "b": "\b", "r": "\r", "v": "\v", "f": "\f"}


def output(argv: list[str]) -> tuple[str, int] | None:
    """``(stdout, exit status)`` of busybox run as ``argv`` (the applet is argv[0]'s
    base name, or argv[1] after ``busybox``); None when this module cannot tell."""
    name = posixpath.basename(argv[0]) if argv else ""
    args = argv[1:]
    if name == "busybox":
        if not args:
            return None
        name, args = posixpath.basename(args[0]), args[1:]
    if name == "echo":
        return _echo(args), 0
    if name == "printf":
        return _printf(args)
    if name in ("true", "false"):
        return "", int(name == "false")
    if name in ("sh", "ash"):
        return _sh(args)
    return None


def _echo(args: list[str], escapes: bool = False) -> str:
    newline = True
    while args and re.fullmatch(r"-[neE]+", args[0]):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or (escapes and "E" not in args[0])
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)
    return text + ("\n" if newline else "")


def _printf(args: list[str]) -> tuple[str, int] | None:
    if not args:
        return None
    fmt, rest = args[0], args[1:]
    out = []
    while True:
        used, text = 0, []
        i = 0
        while i < len(fmt):
            ch = fmt[i]
            if ch == "\\" and i + 1 < len(fmt):
                text.append(_ESCAPES.get(fmt[i + 1], "\\" + fmt[i + 1]))
                i += 2
            elif ch == "%" and i + 1 < len(fmt):
                spec = fmt[i + 1]
                if spec == "%":
                    text.append("%")
                elif spec in "sb":
                    text.append(rest[used] if used < len(rest) else "")
                    used += 1
                else:
                    return None
                i += 2
            else:
                text.append(ch)
                i += 1
        out.append("".join(text))
        rest = rest[used:]
        if not rest or not used:
            return "".join(out), 0


def _sh(args: list[str]) -> tuple[str, int] | None:
    if len(args) < 2 or args[0] != "-c":
        return None
    script, params = args[1], args[2:]
    zero, positional = (params[0], params[1:]) if params else ("sh", [])
    out, status = [], 0
    for command in re.split(r"\s*(?:;|&&|\n)\s*", script.strip()):
        if not command:
            continue
        words = _expand(command, zero, positional)
        if words is None:
            return None
        while words and words[0] == "exec":
            words = words[1:]
        if not words:
            continue
        found = output(words) if words[0] in ("echo", "printf", "true", "false") else None
        if found is None:
            return None
        out.append(found[0])
        status = found[1]
        if status and "&&" in script:
            break
    return "".join(out), status


_PARAM = re.compile(r"\$(?:\{(\d+|@|\*|#)(?:(:?[-+=])([^}]*))?\}|(\d|@|\*|#))")


def _expand(command: str, zero: str, positional: list[str]) -> list[str] | None:
    """The words of a simple command after parameter expansion; None for anything
    more (pipes, redirections, command substitution, variables other than the
    positional ones)."""
    if re.search(r"[|<>`]|\$\(|\$[A-Za-z_]|\$\{[A-Za-z_]", command):
        return None

    def value(name: str) -> str | None:
        if name == "#":
            return str(len(positional))
        if name in "@*" and len(name) == 1:
            return None
        index = int(name)
        return zero if index == 0 else (positional[index - 1] if index <= len(positional) else "")

    try:
        raw = list(_quoted_words(command))
    except ValueError:
        return None
    words: list[str] = []
    for text, quoted in raw:
        if re.fullmatch(r"\$[@*]|\$\{[@*]\}", text) and quoted != "'":
            if quoted == '"' and "*" in text:
                words.append(" ".join(positional))
            else:
                words.extend(positional)
            continue

        def replace(match: re.Match) -> str:
            name = match.group(1) or match.group(4)
            op, word = match.group(2), match.group(3) or ""
            if name in ("@", "*"):
                return " ".join(positional)
            got = value(name)
            unset = name != "0" and int(name) > len(positional) if name.isdigit() else False
            empty = unset or got == ""
            if op in (":-", ":=") and empty or op in ("-", "=") and unset:
                return word
            if op == ":+":
                return "" if empty else word
            if op == "+":
                return "" if unset else word
            return got or ""

        expanded = text if quoted == "'" else _PARAM.sub(replace, text)
        if quoted or expanded:
            if quoted:
                words.append(expanded)
            else:
                words.extend(expanded.split())
    return words


def _quoted_words(command: str):
    """``(text, quote)`` for each word: quote is ``"'"``, ``'"'`` or ``""`` (a word made
    of several quoted parts is reported as ``'"'`` when any part was quoted)."""
    i, n = 0, len(command)
    while i < n:
        while i < n and command[i] in " \t":
            i += 1
        if i >= n:
            break
        text, quote = [], ""
        while i < n and command[i] not in " \t":
            ch = command[i]
            if ch in "'\"":
                end = command.find(ch, i + 1)
                if end < 0:
                    raise ValueError("no closing quotation")
                part = command[i + 1:end]
                text.append(part if ch == "'" else part.replace('\\"', '"'))
                quote = quote or ch
                i = end + 1
            elif ch == "\\" and i + 1 < n:
                text.append(command[i + 1])
                i += 2
            else:
                text.append(ch)
                i += 1
        yield "".join(text), quote

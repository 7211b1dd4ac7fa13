"""The IOS command grammar of the lab's CLI: a tree of keywords and argument slots, IOS's unique-prefix
abbreviations, its caret and "Incomplete" errors, ``| include`` filters and what ``?`` prints.

lab/cli.py builds its exec and config trees with ``tree`` and parses every line with ``parse``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lab import cli_show as show

INVALID = "% Invalid input detected at '^' marker."
INCOMPLETE = "% Incomplete command."
ARGS: dict[str, Callable[[str], bool]] = {
    "<0-512>": lambda t: t.isdigit() and int(t) <= 512,
    "WORD": lambda t: True,
    "LINE": lambda t: True,   # the rest of the line
}


@dataclass
class Node:
    """A word of the command tree: the keywords after it, an argument slot, the command that may end here."""
    privilege: int
    help: str = ""
    action: str | None = None
    words: dict[str, Node] = field(default_factory=dict)
    arg: tuple[str, Node] | None = None


def tree(commands: list[tuple[str, int, str]], helps: dict[str, str]) -> Node:
    """The tree of ``commands`` (pattern, lowest privilege, action); ``helps``: what ``?`` says of a word."""
    root = Node(privilege=1)
    for pattern, privilege, action in commands:
        node, previous = root, ""
        for word in pattern.split():
            if word in ARGS:
                node.arg = node.arg or (word, Node(privilege))
                node = node.arg[1]
            else:
                node = node.words.setdefault(word, Node(privilege, helps.get(f"{previous} {word}", helps.get(word, ""))))
            node.privilege, previous = min(node.privilege, privilege), word
        node.action = action
    return root


class CliError(Exception):
    """Input the device refuses: ``lines`` is its message; ``at`` the column of the caret, if any."""

    def __init__(self, lines: list[str], at: int | None = None) -> None:
        super().__init__(lines[0])
        self.lines, self.at = lines, at


@dataclass
class Parsed:
    node: Node
    args: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)   # the column each argument starts at


def _keyword(node: Node, token: str, privilege: int, text: str) -> Node | None:
    """The keyword that ``token`` abbreviates (IOS accepts any unique prefix, in any case)."""
    token = token.lower()
    matches = [w for w, n in node.words.items() if w.startswith(token) and n.privilege <= privilege]
    if token in matches:
        return node.words[token]
    if len(matches) > 1:
        raise CliError([f'% Ambiguous command:  "{text.strip()}"'])
    return node.words[matches[0]] if matches else None


def walk(root: Node, text: str, privilege: int) -> Parsed:
    """Follow ``text`` down the tree; an unknown word raises the caret error at its column."""
    parsed = Parsed(root)
    for match in re.finditer(r"\S+", text):
        node = parsed.node
        if node.arg and node.arg[0] == "LINE":
            parsed.args.append(text[match.start():].rstrip())
            parsed.starts.append(match.start())
            parsed.node = node.arg[1]
            break
        found = _keyword(node, match.group(), privilege, text)
        if found is None and node.arg and ARGS[node.arg[0]](match.group()):
            parsed.args.append(match.group())
            parsed.starts.append(match.start())
            found = node.arg[1]
        if found is None:
            raise CliError([INVALID], at=match.start())
        parsed.node = found
    return parsed


def parse(root: Node, text: str, privilege: int) -> Parsed:
    parsed = walk(root, text, privilege)
    if parsed.node.action is None:
        raise CliError([INCOMPLETE])
    return parsed


def split_pipe(text: str) -> tuple[str, tuple[str, str] | None]:
    """``show x | include re`` -> (``show x ``, (``include``, ``re``)); the filter word may be abbreviated."""
    command, bar, rest = text.partition("|")
    if not bar:
        return text, None
    match = re.match(r"\s*(\S+)\s?(.*)", rest)
    if not match:
        raise CliError([INCOMPLETE])
    column = len(command) + 1 + match.start(1)
    kinds = [k for k in show.FILTERS if k.startswith(match.group(1).lower())]
    if len(kinds) != 1:
        raise CliError([INVALID], at=column)
    if not match.group(2).strip():
        raise CliError([INCOMPLETE])
    return command, (kinds[0], match.group(2))


def help_lines(root: Node, text: str, privilege: int) -> list[str]:
    """What ``?`` prints: the words that complete the last one, or every word that may come next."""
    words = text.split()
    completing = bool(words) and not text.endswith(" ")
    node = walk(root, " ".join(words[:-1] if completing else words), privilege).node
    visible = {w: n for w, n in node.words.items() if n.privilege <= privilege}
    if completing:
        hits = sorted(w for w in visible if w.startswith(words[-1].lower()))
        return ["  ".join(hits) + "  ", ""] if hits else ["% Unrecognized command"]
    options = [(w, n.help) for w, n in sorted(visible.items())]
    options += [(node.arg[0], "")] if node.arg else []
    options += [("<cr>", "<cr>")] if node.action else []
    width = max((len(w) for w, _ in options), default=0)
    return [f"  {w:<{width}}  {h}".rstrip() for w, h in options] + [""]

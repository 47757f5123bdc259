"""Junos configuration as the simulator keeps it: a tree of statements, with the text
(curly-brace) and ``set`` formats read and written, and ``show | compare`` style diffs.

Junos knows its schema; the simulator does not, so statements are split the way Junos shows
them with a few rules that hold for the hierarchies provisioning touches (``groups``,
``interfaces``, ``firewall``, ``policy-options``, ``routing-options``, ``system``):

* a *named* keyword (``policer``, ``filter``, ``term``, ``unit``, ``family``, ``route``,
  ``prefix-list``, ``address``...) and its identifier form one node (``policer bh-1``);
* a *container* keyword (``then``, ``from``, ``if-exceeding``...) is a node of its own;
* otherwise the last two words of a ``set`` line are a leaf with a value (``vlan-id 100``),
  which replaces the same keyword's previous value on merge (``apply-groups`` and other
  multi-valued keywords add instead), and a single last word is a flag or a list member.

A node is a tuple of words; its children an ordered dict. Both formats go through the same
splitter, so ``set a b c`` and ``a { b c; }`` are the same configuration.
"""
from __future__ import annotations

import re

__all__ = ["ConfigError", "Tree", "copy_tree", "diff_text", "load_set", "load_text",
           "merge", "render_set", "render_text", "tokenize"]

Tree = dict  # dict[tuple[str, ...], Tree]

NAMED = {"policer", "filter", "term", "prefix-list", "unit", "family", "route",
         "qualified-next-hop", "address", "policy-statement", "interface-range",
         "routing-instances", "vlan", "user", "class"}
CONTAINERS = {"then", "from", "if-exceeding", "firewall", "policy-options",
              "routing-options", "static", "interfaces", "groups", "filter", "system",
              "protocols", "source-address", "destination-address", "login", "services",
              "vlans", "chassis", "snmp"}
MULTI = {"apply-groups", "members", "community", "next-hop", "apply-path", "interface"}
#: a configuration bigger than this is refused (a real device has limits too)
MAX_STATEMENTS = 2_000_000


class ConfigError(ValueError):
    """A configuration the device refuses, with Junos's wording."""


# ----------------------------------------------------------------------------- words
_TOKEN = re.compile(r'\s*(?:(/\*.*?\*/)|(#[^\n]*)|("(?:[^"\\]|\\.)*")|([{};\[\]])|([^\s{};\[\]"]+))',
                    re.S)


def tokenize(text: str) -> list[str]:
    """Words, quoted strings (unquoted), and the punctuation ``{ } ; [ ]``; comments dropped.
    Quoted strings come back marked with a leading NUL so ``"{"`` stays a word."""
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConfigError(f"syntax error at offset {pos}")
        pos = m.end()
        if m.group(1) or m.group(2):
            continue
        if m.group(3):
            out.append("\0" + re.sub(r"\\(.)", r"\1", m.group(3)[1:-1]))
        else:
            out.append(m.group(4) or m.group(5))
    return out


def _word(token: str) -> str:
    return token[1:] if token.startswith("\0") else token


def _quote(word: str) -> str:
    if word == "" or re.search(r'[\s{};\[\]"#]', word):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


# ----------------------------------------------------------------------------- splitting
def _named(word: str, following: str | None, parent: tuple[str, ...]) -> bool:
    if word == "policer" and parent[:1] == ("then",):
        return False
    if word == "filter" and following in ("input", "output", "input-list", "output-list"):
        return False
    if word == "interface" and parent[:1] == ("qualified-next-hop",):
        return False
    return word in NAMED


def split(words: list[str], parent: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """A statement's words as the path of nodes it names below ``parent``."""
    path: list[tuple[str, ...]] = []
    i, n = 0, len(words)
    while i < n:
        word, rest = words[i], n - i
        following = words[i + 1] if rest > 1 else None
        here = path[-1] if path else parent
        if rest == 1:
            path.append((word,))
            break
        if _named(word, following, here):
            path.append((word, following))
            i += 2
            continue
        if word in CONTAINERS or rest > 2:
            path.append((word,))
            i += 1
            continue
        path.append((word, following))
        break
    return path


def _place(tree: Tree, parent: tuple[str, ...], node: tuple[str, ...]) -> Tree:
    """The child ``node`` of ``tree`` (created; a single-valued leaf replaces its old value)."""
    if node in tree:
        return tree[node]
    if (len(node) == 2 and node[0] not in MULTI
            and not _named(node[0], node[1], parent)):
        for other in [k for k in tree if len(k) == 2 and k[0] == node[0] and not tree[k]]:
            del tree[other]
    tree[node] = {}
    return tree[node]


def _count(tree: Tree) -> int:
    return sum(1 + _count(sub) for sub in tree.values())


# ----------------------------------------------------------------------------- loading
def load_set(tree: Tree, text: str) -> list[str]:
    """Apply ``set``/``delete`` lines to ``tree`` in place; returns warnings (Junos's
    "statement not found" for a delete of something absent)."""
    warnings = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        words = [_word(t) for t in tokenize(line)]
        if not words:  # a line holding only a comment (``/* */``)
            continue
        verb, words = words[0], words[1:]
        if verb == "set":
            if not words:
                raise ConfigError(f"syntax error on line {number}: set needs a statement")
            node, parent = tree, ()
            for part in split(words):
                node, parent = _place(node, parent, part), part
        elif verb == "delete":
            if not _delete(tree, split(words)):
                warnings.append(f"statement not found: {' '.join(words)}")
        else:
            raise ConfigError(f"syntax error, expecting set or delete on line {number}: "
                              f"{line.strip()}")
    if _count(tree) > MAX_STATEMENTS:
        raise ConfigError("configuration too large")
    return warnings


def _delete(tree: Tree, path: list[tuple[str, ...]]) -> bool:
    node = tree
    for part in path[:-1]:
        if part not in node:
            return False
        node = node[part]
    if not path:
        tree.clear()
        return True
    last = path[-1]
    if last in node:
        del node[last]
        return True
    if len(last) == 1:  # "delete ... vlan-id": the keyword whatever its value
        found = [k for k in node if k[0] == last[0]]
        for k in found:
            del node[k]
        return bool(found)
    return False


def load_text(tree: Tree, text: str, *, replace: bool = False) -> None:
    """Merge curly-brace text into ``tree`` (``replace``: ``replace:`` tags honoured, as
    ``load replace`` does; ``delete:`` tags are honoured in both)."""
    tokens = tokenize(text)
    pos = _block(tokens, 0, tree, (), replace, top=True)
    if pos != len(tokens):
        raise ConfigError("syntax error, unexpected '}'")
    if _count(tree) > MAX_STATEMENTS:
        raise ConfigError("configuration too large")


def _block(tokens, pos, tree, parent, replace, top=False):
    words: list[str] = []
    tag = None
    while pos < len(tokens):
        tok = tokens[pos]
        pos += 1
        if tok == "}":
            if words or top:
                raise ConfigError("syntax error, unexpected '}'")
            return pos
        if tok in ("replace:", "delete:") and not words:
            tag = tok
            continue
        if tok == "[":  # a list: "apply-groups [ a b ];"
            end = tokens.index("]", pos) if "]" in tokens[pos:] else -1
            if end < 0:
                raise ConfigError("syntax error, missing ']'")
            items, pos = [_word(t) for t in tokens[pos:end]], end + 1
            if pos >= len(tokens) or tokens[pos] != ";":
                raise ConfigError("syntax error, expecting ';' after ']'")
            pos += 1
            for item in items:
                _statement(tree, parent, words + [item], None)
            words, tag = [], None
            continue
        if tok == ";":
            if not words:
                raise ConfigError("syntax error, unexpected ';'")
            _statement(tree, parent, words, tag, replace=replace)
            words, tag = [], None
            continue
        if tok == "{":
            if not words:
                raise ConfigError("syntax error, unexpected '{'")
            node, last = _statement(tree, parent, words, tag, replace=replace)
            if node is None:  # delete: with a block: skip it
                depth = 1
                while depth and pos < len(tokens):
                    depth += {"{": 1, "}": -1}.get(tokens[pos], 0)
                    pos += 1
            else:
                pos = _block(tokens, pos, node, last, replace)
            words, tag = [], None
            continue
        words.append(_word(tok))
    if words or not top:
        raise ConfigError("syntax error, unexpected end of configuration")
    return pos


def _statement(tree, parent, words, tag, replace=False):
    path = split(words, parent)
    if tag == "delete:":
        _delete(tree, path)
        return None, None
    node, last = tree, parent
    for part in path:
        node, last = _place(node, last, part), part
    if tag == "replace:" and replace:
        node.clear()
    return node, last


def merge(into: Tree, other: Tree, parent: tuple[str, ...] = ()) -> None:
    for key, sub in other.items():
        merge(_place(into, parent, key), sub, key)


def copy_tree(tree: Tree) -> Tree:
    return {k: copy_tree(v) for k, v in tree.items()}


# ----------------------------------------------------------------------------- showing
def _line(key: tuple[str, ...]) -> str:
    return " ".join(_quote(w) for w in key)


def render_text(tree: Tree, depth: int = 0) -> list[str]:
    """``show configuration``: four spaces a level, ``;`` after a statement without children."""
    out = []
    pad = "    " * depth
    for key, sub in tree.items():
        if sub:
            out.append(f"{pad}{_line(key)} {{")
            out.extend(render_text(sub, depth + 1))
            out.append(f"{pad}}}")
        else:
            out.append(f"{pad}{_line(key)};")
    return out


def render_set(tree: Tree, prefix: tuple[str, ...] = ()) -> list[str]:
    """``show configuration | display set``."""
    out = []
    for key, sub in tree.items():
        path = prefix + key
        if sub:
            out.extend(render_set(sub, path))
        else:
            out.append("set " + _line(path))
    return out


def diff_text(old: Tree, new: Tree, path: tuple[str, ...] = ()) -> list[str]:
    """``show | compare``: per hierarchy level an ``[edit ...]`` header, then the statements
    removed (``-``) and added (``+``) there."""
    out, local = [], []
    for key, sub in old.items():
        if key not in new:
            local.extend("-" + ln[1:] if ln.startswith(" ") else "-" + ln
                         for ln in _indented(key, sub))
    for key, sub in new.items():
        if key not in old:
            local.extend("+" + ln[1:] if ln.startswith(" ") else "+" + ln
                         for ln in _indented(key, sub))
    if local:
        out.append(f"[edit {_line(path)}]" if path else "[edit]")
        out.extend(local)
    for key, sub in new.items():
        if key in old and old[key] != sub:
            out.extend(diff_text(old[key], sub, path + key))
    return out


def _indented(key, sub) -> list[str]:
    return ["    " + ln for ln in render_text({key: sub})]

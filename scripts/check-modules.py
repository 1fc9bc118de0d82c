#!/usr/bin/env python3
"""Architecture checks for the zkworker workspace (python3, standard library only).

Why this exists
---------------
Two properties of the code base rot silently: nothing in `cargo build`, `cargo test` or
clippy fails when they break, and by the time a reviewer notices, undoing the damage is a
refactor rather than a one-line fix.

1. **No module cycles inside a crate.** Rust accepts any `use crate::...` between a crate's
   modules, so `ir` can use `ops` while `ops` uses `ir`. Such cycles make a crate's layering
   (what can be understood, tested, split out or moved to another crate alone) fiction. The
   check builds, per library crate, the graph between its *top-level* modules (those declared
   in `lib.rs`) from every non-test reference:

   * `use crate::b...`, `use crate::{b::X, c::{Y, Z}}` (nested use-trees);
   * inline paths `crate::b::...`;
   * `super::b` / `super::super::b` where the `super`s climb to the crate root;
   * `crate::Foo` (or `super::Foo` at the root) where `lib.rs` has `pub use b::Foo` (or
     `pub use b::{Foo, ...}`, `use b::Foo as Bar`): an edge to `b`, where `Foo` lives.

   `#[cfg(test)]` items (a `mod tests { ... }` block, or a `#[cfg(test)] mod tests;` file),
   comments, doc comments and string literals are ignored. A module's code is its file
   (`src/x.rs` or `src/x/mod.rs`, or a `mod x { ... }` block in lib.rs) and every file of its
   submodules, found by following the `mod` declarations. Each strongly connected component
   (Tarjan) of more than one module is a failure, printed with one `file:line` and the path
   referenced for every edge inside it.

2. **A new IR op touches at most 10 files.** Adding an op to the IR (`zkw_model::ops::Op`)
   has to reach the reference semantics, the circuit gadgets, the GPU kernels, the ONNX
   importer, tests, generated seeds and docs. Every extra place is a place to forget. The
   list below, `NEW_OP_FILES`, is the honest inventory of what adding an op like `Conv`
   touches today; the script checks that each entry exists (per-op entries are checked
   against an existing op, `conv`) so the list cannot drift from the tree unnoticed, prints
   it, and fails while it has more than `MAX_NEW_OP_FILES` entries. Shrink the list by
   making places derived (generated from `ops::examples()`) or compiler-driven (an
   exhaustive `match` the compiler points at), then update the list here.

3. **Every crate's map names every module.** ARCHITECTURE.md keeps no file maps: each
   library crate's `//!` docs in lib.rs are its map, and must name each top-level module (as
   `name`, [`name`], `name.rs` or `name/`), so a module cannot be added unmapped; rustdoc
   checks the links.

Exit status: 0 when every check passes, 1 otherwise. Run from anywhere:
`python3 scripts/check-modules.py` (`--cycles`, `--new-op` or `--maps` runs those only).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# Check 2's data: every file adding an IR op like `Conv` touches today.
# `{op}` is the op's kind (`Op::kind`, e.g. `conv`); `{onnx_op}` the ONNX operator's module in
# crates/onnx/src/ops/ (e.g. `conv`). Entries with placeholders are checked against EXAMPLE.
# ---------------------------------------------------------------------------------------------

MAX_NEW_OP_FILES = 10
EXAMPLE = {"op": "conv", "onnx_op": "conv"}

NEW_OP_FILES: list[tuple[str, str]] = [
    # zkw-model: the op itself (the checklist is the doc comment on `Op`)
    ("crates/model/src/ops/{op}.rs",
     "new: parameters, shape/scale rule, reference integer semantics, bounds, committed parameters"),
    ("crates/model/src/ops/mod.rs",
     "`mod`, the `Op` variant (its `OpKind` follows), the `semantics()` arm, the `examples()` entry "
     "(named by the compiler and by `every_kind_has_an_example_named_as_files_name_it`)"),
    ("crates/model/src/testing.rs",
     "a strategy in `arb_op_model` and a place in `arb_model` (named by the op-completeness test)"),
    # zkw-circuits: the R1CS image
    ("crates/circuits/src/ops/{op}.rs", "new: the gadget"),
    ("crates/circuits/src/ops/mod.rs", "`mod` and the `gadget` match arm (named by the compiler)"),
    ("crates/circuits/tests/adversarial/mod.rs",
     "hand-built cheating witnesses and the `OP_ATTACKS` row (named by the op-completeness test)"),
    # zkw-gpu: the second trace producer
    ("crates/gpu/src/kernels/{op}.rs", "new: binds and dispatches the shader"),
    ("crates/gpu/src/kernels/{op}.wgsl", "new: the compute shader, beside the .rs that dispatches it"),
    ("crates/gpu/src/kernels/mod.rs",
     "`mod`, the `SOURCES` row, the `constants()` and `steps()` arms (named by the compiler)"),
]

# Files a command writes, named by a failing test: printed, not counted (nobody edits them).
NEW_OP_GENERATED: list[tuple[str, str]] = [
    ("tests/golden/models/op_{op}.zkm",
     "the seed model's pinned bytes: `ZKW_REGENERATE_GOLDEN=1 cargo test -p zkworker --test golden`"),
    ("tests/golden/model_ids.txt", "the seed model's id line, by the same command"),
]

# Places that change only for some ops: printed, not counted.
NEW_OP_SOMETIMES: list[tuple[str, str]] = [
    ("crates/onnx/src/float.rs",
     "when an ONNX operator lowers to the op: its `FloatOp` and float evaluation"),
    ("crates/onnx/src/lower/{op}.rs",
     "likewise: its lowering to IR ops (new), and its arm in lower/mod.rs's dispatch"),
    ("crates/onnx/src/registry/{onnx_op}.rs", "for a new ONNX operator: its import module"),
    ("crates/onnx/src/registry/mod.rs", "for a new ONNX operator: its `mod` line and its row"),
    ("crates/model/src/seeds.rs",
     "only if no existing candidate input format passes the op's bounds (it panics and says so)"),
    ("crates/onnx/src/layers.rs", "only for layer-like ops that read weights/geometry attributes"),
    ("README.md", "only when the op adds a supported ONNX operator to the README's list"),
    ("CONFORMANCE.md", "only when the op makes more EZKL conformance cases pass"),
]


def check_new_op() -> bool:
    print("== check 2: files a new IR op must touch ==")
    ok = True
    for i, (pattern, why) in enumerate(NEW_OP_FILES, 1):
        path = pattern.format(**EXAMPLE)
        exists = (ROOT / path).is_file()
        shown = pattern if path == pattern else f"{pattern}  (checked as {path})"
        print(f"  {i:2}. {shown}\n      {why}")
        if not exists:
            print(f"      FAIL: {path} does not exist: the list has drifted from the tree")
            ok = False
    print("  written by a command (not counted):")
    for pattern, why in NEW_OP_GENERATED:
        path = pattern.format(**EXAMPLE)
        if not (ROOT / path).is_file():
            print(f"      FAIL: {path} does not exist")
            ok = False
        print(f"    - {pattern}: {why}")
    print("  sometimes (not counted):")
    for pattern, why in NEW_OP_SOMETIMES:
        path = pattern.format(**EXAMPLE)
        if not (ROOT / path).is_file():
            print(f"      FAIL: {path} does not exist")
            ok = False
        print(f"    - {pattern}: {why}")
    n = len(NEW_OP_FILES)
    if n > MAX_NEW_OP_FILES:
        print(f"FAIL: a new IR op touches {n} files (limit {MAX_NEW_OP_FILES})")
        ok = False
    elif ok:
        print(f"ok: a new IR op touches {n} files (limit {MAX_NEW_OP_FILES})")
    return ok


# ---------------------------------------------------------------------------------------------
# Check 1: module cycles.
# ---------------------------------------------------------------------------------------------


def sanitize(text: str) -> str:
    """Blank out comments (incl. doc comments), string and char literal contents, keeping
    every newline so line numbers stay true."""
    out = []
    i, n = 0, len(text)

    def blank(s: str) -> str:
        return "".join(c if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif c in "rbc" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and (
            m := re.match(r'(?:br|cr|r)(#*)"', text[i:])
        ):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(text[i : i + m.end()] + blank(text[i + m.end() : j - len(end)]) + end)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + blank(text[i + 1 : j]) + '"')
            i = j + 1
        elif c == "'":
            # char literal ('x', '\n', '\u{1F600}', '{') or a lifetime ('a)
            if i + 1 < n and text[i + 1] == "\\":
                j = text.find("'", i + 2)
                j = n if j < 0 else j
                out.append("'" + blank(text[i + 1 : j]) + "'")
                i = j + 1
            elif i + 2 < n and text[i + 2] == "'":
                out.append("' '")
                i += 3
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|::|\S")


@dataclass
class Tok:
    s: str
    line: int


def tokenize(text: str) -> list[Tok]:
    toks = []
    line, pos = 1, 0
    for m in TOKEN.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        toks.append(Tok(m.group(), line))
    return toks


OPEN = {"(": ")", "[": "]", "{": "}"}
SEMI_ITEMS = {"use", "const", "static", "type", "let", "extern"}


def skip_group(toks: list[Tok], i: int) -> int:
    """toks[i] is an opening bracket: the index after its match."""
    depth = 0
    while i < len(toks):
        s = toks[i].s
        if s in OPEN:
            depth += 1
        elif s in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def is_cfg_test(toks: list[Tok], i: int) -> tuple[bool, bool, int]:
    """At `#`: (is `#[cfg(test)]`, is inner `#![...]`, index after the attribute)."""
    j = i + 1
    inner = j < len(toks) and toks[j].s == "!"
    if inner:
        j += 1
    if j >= len(toks) or toks[j].s != "[":
        return False, inner, i + 1
    end = skip_group(toks, j)
    body = [t.s for t in toks[j + 1 : end - 1]]
    return body == ["cfg", "(", "test", ")"], inner, end


def strip_cfg_test(toks: list[Tok]) -> list[Tok] | None:
    """Drop every `#[cfg(test)]` item; None when the file itself is `#![cfg(test)]`."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        if toks[i].s != "#":
            out.append(toks[i])
            i += 1
            continue
        test, inner, after = is_cfg_test(toks, i)
        if not test:
            out.append(toks[i])
            i += 1
            continue
        if inner:
            return None
        i = after
        # further attributes of the same item
        while i < len(toks) and toks[i].s == "#" and i + 1 < len(toks) and toks[i + 1].s == "[":
            i = skip_group(toks, i + 1)
        # the item: ends at `;` at depth 0, or (unless it is a `use`/`const`/...) at the `}`
        # that closes its first brace block
        words = []
        k = i
        while k < len(toks) and re.match(r"[A-Za-z_]", toks[k].s) and len(words) < 4:
            words.append(toks[k].s)
            k += 1
        semi_only = bool(SEMI_ITEMS & set(words))
        depth = 0
        while i < len(toks):
            s = toks[i].s
            if s in OPEN:
                depth += 1
            elif s in (")", "]", "}"):
                depth -= 1
                if depth == 0 and s == "}" and not semi_only:
                    i += 1
                    break
            elif s == ";" and depth == 0:
                i += 1
                break
            i += 1
    return out


@dataclass
class Ref:
    node: str  # referring top-level module
    target: str  # the crate-root name referred to (module or re-exported item)
    file: Path
    line: int
    path: str  # the path as written (use-trees expanded)


@dataclass
class Crate:
    name: str
    src: Path
    nodes: list[str] = field(default_factory=list)
    reexports: dict[str, str] = field(default_factory=dict)  # root name -> module it names
    refs: list[Ref] = field(default_factory=list)


def parse_use_tree(toks: list[Tok], i: int, prefix: list[str], out: list[tuple[list[str], int]]):
    """Parse a use-tree at toks[i]; append (full path, line) for each leaf. Returns the index
    after the tree."""
    segs = list(prefix)
    line = toks[i].line if i < len(toks) else 0
    while i < len(toks):
        s = toks[i].s
        if s == "{":
            i += 1
            while i < len(toks) and toks[i].s != "}":
                i = parse_use_tree(toks, i, segs, out)
                if i < len(toks) and toks[i].s == ",":
                    i += 1
            return i + 1
        if s == "*":
            out.append((segs + ["*"], line))
            return i + 1
        if s == "::":
            i += 1
            continue
        if re.match(r"[A-Za-z_]", s):
            if s == "as":
                alias = toks[i + 1].s if i + 1 < len(toks) else "_"
                out.append((segs + ["as", alias], line))
                return i + 2
            segs.append(s)
            line = toks[i].line
            i += 1
            continue
        break  # `,`, `}` or `;`
    out.append((segs, line))
    return i


def module_scopes(toks: list[Tok], base: list[str]) -> list[list[str]]:
    """For each token index, the module path in effect (base + inline `mod x {` labels)."""
    stack: list[str | None] = []
    paths = []
    for i, t in enumerate(toks):
        if t.s == "{":
            label = None
            if i >= 2 and toks[i - 2].s == "mod":
                label = toks[i - 1].s
            stack.append(label)
        elif t.s == "}" and stack:
            stack.pop()
        paths.append(base + [s for s in stack if s])
    return paths


def resolve_root_name(segs: list[str], scope: list[str]) -> tuple[str, str] | None:
    """For a path's segments and the module it is written in: the crate-root name it goes
    through and how it was written, or None when it does not reach the crate root (a path
    relative to the current module, an external crate, `self::`, ...)."""
    if not segs:
        return None
    if segs[0] == "crate":
        rest = segs[1:]
    elif segs[0] == "super":
        k = 0
        while k < len(segs) and segs[k] == "super":
            k += 1
        if k != len(scope):
            return None  # does not climb to the root: stays inside the current top module
        rest = segs[k:]
    elif segs[0] == "self" and not scope:
        rest = segs[1:]
    else:
        return None
    if not rest or rest[0] in ("*", "as", "self"):
        return None
    return rest[0], "::".join(s for s in segs if s != "as")


def scan_file(crate: Crate, path: Path, base: list[str], is_root: bool) -> list[tuple[str, list[str]]]:
    """Collect the references of one file; return its `mod x;` declarations (name, scope)."""
    toks = tokenize(sanitize(path.read_text(encoding="utf-8")))
    toks = strip_cfg_test(toks)
    if toks is None:
        return []
    scopes = module_scopes(toks, base)
    decls: list[tuple[str, list[str]]] = []
    in_use_until = -1
    for i, t in enumerate(toks):
        scope = scopes[i]
        if t.s == "mod" and i + 2 < len(toks) and toks[i + 2].s in (";", "{"):
            name = toks[i + 1].s
            if toks[i + 2].s == ";":
                decls.append((name, scope))
            continue
        if t.s == "use" and (i == 0 or toks[i - 1].s != "::") and i > in_use_until:
            leaves: list[tuple[list[str], int]] = []
            j = i + 1
            if j < len(toks) and toks[j].s == "::":
                j += 1
            end = parse_use_tree(toks, j, [], leaves)
            while end < len(toks) and toks[end].s != ";":
                end += 1
            in_use_until = end
            for segs, line in leaves:
                alias = None
                if "as" in segs:
                    alias = segs[segs.index("as") + 1]
                    segs = segs[: segs.index("as")]
                if is_root and not scope:
                    # a crate-root import: `crate::Name` now names what it names
                    name = alias or segs[-1]
                    first = segs[1:] if segs and segs[0] in ("crate", "self") else segs
                    if name not in ("*", "self") and first and first[0] in crate.nodes:
                        crate.reexports[name] = first[0]
                    continue
                r = resolve_root_name(segs, scope)
                if r and scope:
                    crate.refs.append(Ref(scope[0], r[0], path, line, r[1]))
            continue
        if i <= in_use_until:
            continue
        if t.s in ("crate", "super", "self") and i + 1 < len(toks) and toks[i + 1].s == "::":
            prev = toks[i - 1].s if i else ""
            if prev in ("$", "::", "in"):
                continue  # `$crate`, the middle of a `super::super` chain, `pub(in crate::x)`
            segs = []
            j = i
            while j < len(toks) and re.match(r"[A-Za-z_]", toks[j].s):
                segs.append(toks[j].s)
                if j + 1 < len(toks) and toks[j + 1].s == "::":
                    j += 2
                else:
                    break
            r = resolve_root_name(segs, scope)
            if r and scope:
                crate.refs.append(Ref(scope[0], r[0], path, t.line, r[1]))
    return decls


def module_files(src: Path, decl_dir: Path, name: str) -> Path | None:
    for cand in (decl_dir / f"{name}.rs", decl_dir / name / "mod.rs"):
        if cand.is_file():
            return cand
    return None


def load_crate(name: str, lib: Path) -> Crate:
    src = lib.parent
    crate = Crate(name, src)
    # pass 1: the top-level modules (declared or inline in lib.rs)
    toks = strip_cfg_test(tokenize(sanitize(lib.read_text(encoding="utf-8")))) or []
    scopes = module_scopes(toks, [])
    for i, t in enumerate(toks):
        if t.s == "mod" and not scopes[i] and i + 2 < len(toks) and toks[i + 2].s in (";", "{"):
            crate.nodes.append(toks[i + 1].s)
    # pass 2: lib.rs itself (re-exports; code of inline top-level modules)
    scan_file(crate, lib, [], is_root=True)
    # pass 3: every file of every top-level module, following `mod` declarations
    for node in crate.nodes:
        f = module_files(src, src, node)
        if f is None:
            continue  # inline in lib.rs, or missing (cargo would say so)
        todo = [(f, [node])]
        while todo:
            path, modpath = todo.pop()
            # where this file's children live: src/a/ for src/a.rs and src/a/mod.rs
            child_dir = path.parent if path.name == "mod.rs" else path.parent / path.stem
            for child, scope in scan_file(crate, path, modpath, is_root=False):
                extra = scope[len(modpath):]
                cf = module_files(src, child_dir.joinpath(*extra), child)
                if cf is not None:
                    todo.append((cf, scope + [child]))
    return crate


def tarjan(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    sccs: list[list[str]] = []

    def visit(v: str):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return sccs


def check_cycles() -> bool:
    print("== check 1: no module cycles inside a crate ==")
    libs = sorted(ROOT.glob("crates/*/src/lib.rs"))
    if (ROOT / "src/lib.rs").is_file():
        libs.append(ROOT / "src/lib.rs")
    ok = True
    for lib in libs:
        name = lib.parent.parent.name if lib.parent.parent != ROOT else "(root)"
        crate = load_crate(name, lib)
        edges: dict[str, set[str]] = {}
        example: dict[tuple[str, str], Ref] = {}
        count: dict[tuple[str, str], int] = {}
        for r in crate.refs:
            if r.target in crate.nodes:
                to = r.target
            elif r.target in crate.reexports:
                to = crate.reexports[r.target]
            else:
                continue  # an item defined in lib.rs, or re-exported from another crate
            if to == r.node:
                continue
            edges.setdefault(r.node, set()).add(to)
            key = (r.node, to)
            count[key] = count.get(key, 0) + 1
            if key not in example or (r.file, r.line) < (example[key].file, example[key].line):
                example[key] = r
        cycles = [c for c in tarjan(crate.nodes, edges) if len(c) > 1]
        nedges = sum(len(v) for v in edges.values())
        rel = lib.relative_to(ROOT)
        if not cycles:
            print(f"ok: {rel}: {len(crate.nodes)} modules, {nedges} edges, no cycle")
            continue
        ok = False
        for comp in cycles:
            print(f"FAIL: {rel}: module cycle {{{', '.join(comp)}}}")
            for a in comp:
                for b in sorted(edges.get(a, ())):
                    if b in comp:
                        r = example[(a, b)]
                        more = count[(a, b)] - 1
                        also = f" (+{more} more)" if more else ""
                        print(f"    {a} -> {b}: {r.file.relative_to(ROOT)}:{r.line} `{r.path}`{also}")
    return ok


# ---------------------------------------------------------------------------------------------
# Check 3: every crate's map names every module.
# ---------------------------------------------------------------------------------------------


def check_maps() -> bool:
    """Each library crate's `//!` docs in lib.rs are its file map (ARCHITECTURE.md keeps none):
    every top-level module must be named there, as `name`, [`name`] or name.rs/name/, so a new
    module cannot slip in unmapped. rustdoc (`-D warnings` in CI) checks the links resolve."""
    print("== check 3: each crate's lib.rs docs map every module ==")
    ok = True
    for lib in sorted(ROOT.glob("crates/*/src/lib.rs")):
        name = lib.parent.parent.name
        crate = load_crate(name, lib)
        docs = "\n".join(
            line.strip()[3:] for line in lib.read_text(encoding="utf-8").splitlines()
            if line.strip().startswith("//!")
        )
        unmapped = [
            m for m in crate.nodes
            if not re.search(r"(`|\[)" + re.escape(m) + r"(`|\]|\.rs|/|::)", docs)
        ]
        if unmapped:
            ok = False
            print(f"FAIL: crates/{name}/src/lib.rs: its docs name no {', '.join(unmapped)}")
        else:
            print(f"ok: crates/{name}/src/lib.rs maps its {len(crate.nodes)} modules")
    return ok


def main(argv: list[str]) -> int:
    only = [a.lstrip("-") for a in argv]
    checks = [("cycles", check_cycles), ("new-op", check_new_op), ("maps", check_maps)]
    ok = True
    for i, (name, check) in enumerate(c for c in checks if not only or c[0] in only):
        if i:
            print()
        ok &= check()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

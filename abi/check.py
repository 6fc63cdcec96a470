#!/usr/bin/env python3
"""The ABI check of libxsk_rs and libxsk_rs-compat (`make abi-check`).

    abi/check.py [--header H]... [--headers-dir D]... BASELINE LIBRARY
        compare LIBRARY with BASELINE
    abi/check.py --write [--header H]... [--headers-dir D]... BASELINE LIBRARY
        record LIBRARY as the baseline

BASELINE is libabigail's description (abidw) of the last release's library,
committed under abi/. LIBRARY, freshly built, is described the same way and
compared with abidiff, and its structs member by member. The check fails on
what breaks a program built against the baseline:

- a function removed, or its prototype or a type it reaches changed (a
  struct's layout, a field's type or name, a field put into padding, an
  enum's values);
- a function whose symbol version changed (a binary records name@VERSION);
- a function added to a version node the baseline already has: a released node
  never changes, additions go into a node of their own (abi/xsk_rs.map);
- with --header, a #define constant of the headers removed or given another
  value (flag bits and sizes are compiled into programs, and no DWARF has
  them): --write keeps them beside the baseline, in BASELINE's .constants.

Two changes are compatible by the libraries' own rules and pass:
- a struct whose first field is its own size, `sz` (xsk_rs's config structs,
  libxdp's *_opts), growing at its end, or naming a `reserved` field (same
  offset and type): the library reads only the `sz` bytes a program passes,
  and a program leaves reserved fields 0, every new field's default;
- any change at all when the soname differs from the baseline's: a new
  soname is a new ABI series, and old programs keep the old library. The
  release that starts it records a new baseline (tests/check-version.sh
  makes sure it does).

Added functions and constants are listed. With --headers-dir (a C library),
types that no header there defines are private and left out. Rust's DWARF
names types by module (xsk_rs::ffi::umem::xsk_rs_umem_config); C knows only the
last part, so the namespaces are dropped, and members' types are compared by
a structural name rather than libabigail's type ids.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ABIDW = ["abidw", "--no-show-locs", "--no-corpus-path", "--no-comp-dir-path", "--type-id-style", "hash"]

# abidiff's exit status is a bit set (abg-tools-utils.h).
ABIDIFF_ERROR = 1
ABIDIFF_USAGE_ERROR = 2
ABIDIFF_ABI_CHANGE = 4
ABIDIFF_ABI_INCOMPATIBLE_CHANGE = 8


def fail(msg):
    print(f"abi-check: error: {msg}", file=sys.stderr)
    sys.exit(1)


def describe(library, headers_dirs):
    """abidw's description of LIBRARY, with the namespace nesting dropped.
    Given public header directories, the types no header there defines (a C
    library's own structs behind opaque pointers) are private and left out,
    so that changing them is no ABI change."""
    private = [arg for d in headers_dirs for arg in ("--headers-dir", d)]
    if private:
        private.append("--drop-private-types")
    try:
        out = subprocess.run(ABIDW + private + [library], check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        fail("abidw is not installed (Debian: apt-get install abigail-tools)")
    except subprocess.CalledProcessError as e:
        fail(f"abidw {library} failed ({e.returncode}): {e.stderr.strip()}")
    lines = [
        line
        for line in out.splitlines(keepends=True)
        if not re.fullmatch(r"\s*<namespace-decl name='[^']*'>\n?", line)
        and not re.fullmatch(r"\s*</namespace-decl>\n?", line)
    ]
    text = "".join(lines)
    if "<elf-function-symbols>" not in text:
        fail(f"{library} exports no function at all")
    if "<function-decl " not in text:
        fail(f"{library} has no type information: build it with full debug info (-g; Cargo: debug = 2)")
    return text


def symbols(abi_text):
    """{name: version} of the functions the description exports."""
    root = ET.fromstring(abi_text)
    out = {}
    for sym in root.iter("elf-symbol"):
        if sym.get("is-defined") == "yes" and sym.get("type") == "func-type":
            out[sym.get("name")] = sym.get("version", "")
    return root.get("soname", ""), out


def type_names(abi_text):
    """{type id: a structural name} for every type of a description: a base
    type's name and size, a struct's or enum's name, and pointers, arrays,
    qualifiers and typedefs spelt out around what they refer to. Type ids are
    libabigail's hashes of names it prints before the namespaces are dropped,
    so two builds (another rustc, another abidw) may give the same type
    another id; this name stays."""
    root = ET.fromstring(abi_text)
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}

    def name(tid, depth=0):
        e = by_id.get(tid)
        if e is None or depth > 16:
            return f"?{tid}"
        ref = e.get("type-id")
        if e.tag == "type-decl":
            return f"{e.get('name')}:{e.get('size-in-bits')}"
        if e.tag in ("class-decl", "union-decl", "enum-decl"):
            return f"{e.tag[:-5]} {e.get('name')}"
        if e.tag == "pointer-type-def":
            return f"{name(ref, depth + 1)}*"
        if e.tag == "qualified-type-def":
            quals = " ".join(q for q in ("const", "volatile", "restrict") if e.get(q) == "yes")
            return f"{quals} {name(ref, depth + 1)}"
        if e.tag == "typedef-decl":
            return f"{e.get('name')}={name(ref, depth + 1)}"
        if e.tag == "array-type-def":
            dims = ",".join(r.get("length", "?") for r in e.findall("subrange"))
            return f"{name(ref, depth + 1)}[{dims}]"
        if e.tag == "function-type":
            return "fn"
        return f"{e.tag} {e.get('name', '')}"

    return name


def struct_layouts(abi_text):
    """{name: (size, [(member, offset, type)])} of every struct the
    description defines: the public ones an exported function reaches (a
    private struct behind an opaque pointer is only declared)."""
    type_name = type_names(abi_text)
    out = {}
    for decl in ET.fromstring(abi_text).iter("class-decl"):
        name = decl.get("name")
        if decl.get("is-declaration-only") == "yes" or decl.get("is-anonymous") == "yes" or not name:
            continue
        members = [
            (var.get("name"), dm.get("layout-offset-in-bits"), type_name(var.get("type-id")))
            for dm in decl.findall("data-member")
            for var in dm.findall("var-decl")
        ]
        out[name] = (int(decl.get("size-in-bits", "0")), members)
    return out


def growable(layouts):
    """The structs whose first member is their own size, `sz` (xsk_rs's config
    structs, libxdp's *_opts): they may grow at their end."""
    return sorted(name for name, (_, members) in layouts.items() if members and members[0][:2] == ("sz", "0"))


def same_member(old, new):
    """A member kept: same name, offset and type. A `reserved` member may take
    a name (not another type): the header's rule is that programs leave it 0,
    and 0 is every new field's default."""
    return old == new or (old[0].startswith("reserved") and old[1:] == new[1:])


def layout_problems(old_text, new_text):
    """Problems with the structs, checked member by member: abidiff does not
    report a member inserted into padding, and its suppression of a growth at
    the end hides every other change of the struct too. A struct with sz first
    may append members; the others must stay as they are. A struct that no
    exported function reaches any more leaves with the functions that took
    it, which abidiff reports."""
    old, new = struct_layouts(old_text), struct_layouts(new_text)
    may_grow = set(growable(old))
    problems = []
    for name, (old_size, old_members) in sorted(old.items()):
        if name not in new:
            continue
        new_size, new_members = new[name]
        kept = len(new_members) >= len(old_members) and all(map(same_member, old_members, new_members))
        if name in may_grow:
            ok = kept and new_size >= old_size
            rule = "only appending fields keeps old programs working"
        else:
            ok = kept and len(new_members) == len(old_members) and new_size == old_size
            rule = "programs put it in arrays or embed it: it can never change"
        if not ok:
            problems.append(
                f"struct {name}: {rule}; was {old_size // 8} bytes {old_members}, now {new_size // 8} bytes {new_members}"
            )
    return problems


def constants(headers):
    """{name: value} of the HEADERS' object-like #defines with an integer
    value (an expression of numbers and earlier such #defines): the flag
    bits, sizes and codes a program compiles into itself, which no DWARF
    records. Markers without a value, the include guards, keywords and the
    XSK_RS_VERSION_ macros (the release, not the ABI) are left out."""
    out = {}
    for header in headers:
        with open(header, encoding="utf-8") as f:
            text = f.read()
        for line in text.splitlines():
            m = re.match(r"#define\s+([A-Za-z_]\w*)\s+(.*)$", line.rstrip())
            if not m or m.group(1).startswith("XSK_RS_VERSION_"):
                continue
            expr = " ".join(re.sub(r"/\*.*?\*/|//.*", "", m.group(2)).split())
            expr = re.sub(r"(?<=[0-9a-fA-F])[uUlL]+\b", "", expr)  # 16U, 1UL
            if not expr or not re.fullmatch(r"[\w\s()<>|&~^+*/%-]+", expr):
                continue
            try:
                value = eval(expr, {"__builtins__": {}}, dict(out))
            except Exception:
                continue
            if isinstance(value, int):
                out[m.group(1)] = value
    return {name: str(value) for name, value in out.items()}


def constants_path(baseline):
    return os.path.splitext(baseline)[0] + ".constants"


def compare_constants(path, headers):
    """Problems: a constant of the baseline removed or given another value."""
    if not os.path.isfile(path):
        fail(f"no {path}: record the baseline with --write --header")
    with open(path, encoding="utf-8") as f:
        old = dict(line.rstrip("\n").split(" ", 1) for line in f if line.strip())
    new = constants(headers)
    problems = [f"{name}: {value} -> {new.get(name, '(removed)')}" for name, value in sorted(old.items())
                if new.get(name) != value]
    return problems, sorted(set(new) - set(old))


def suppressions(structs, path):
    with open(path, "w", encoding="utf-8") as f:
        for name in structs:
            # libabigail: a struct whose only change is members appended at
            # its end (and the size growing with them) is not reported.
            f.write(
                "[suppress_type]\n"
                f"  name = {name}\n"
                "  type_kind = struct\n"
                "  has_size_change = yes\n"
                "  has_data_member_inserted_at = end\n\n"
            )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="record LIBRARY as the baseline")
    ap.add_argument(
        "--header",
        action="append",
        default=[],
        help="a public C header: its structs' layouts and its #define values are checked (repeatable)",
    )
    ap.add_argument(
        "--headers-dir", action="append", default=[], help="a directory of public headers (abidw --headers-dir)"
    )
    ap.add_argument("baseline")
    ap.add_argument("library")
    args = ap.parse_args()

    new_text = describe(args.library, args.headers_dir)
    if args.write:
        with open(args.baseline, "w", encoding="utf-8") as f:
            f.write(new_text)
        soname, syms = symbols(new_text)
        print(f"abi-check: wrote {args.baseline}: {soname}, {len(syms)} functions")
        if args.header:
            values = constants(args.header)
            with open(constants_path(args.baseline), "w", encoding="utf-8") as f:
                f.writelines(f"{name} {value}\n" for name, value in sorted(values.items()))
            print(f"abi-check: wrote {constants_path(args.baseline)}: {len(values)} constants")
        return

    if not os.path.isfile(args.baseline):
        fail(f"no baseline {args.baseline}: record the last release's with --write")
    with open(args.baseline, encoding="utf-8") as f:
        old_text = f.read()
    old_soname, old_syms = symbols(old_text)
    new_soname, new_syms = symbols(new_text)
    name = os.path.basename(args.library)

    if not all(new_syms.values()):
        fail(f"{name}: unversioned functions: {', '.join(sorted(s for s, v in new_syms.items() if not v))}")

    added = sorted(set(new_syms) - set(old_syms))
    if old_soname != new_soname:
        print(f"abi-check: {name}: soname {old_soname} -> {new_soname}: a new ABI series, nothing to compare;")
        print(f"abi-check: record it as the baseline: {sys.argv[0]} --write {args.baseline} {args.library}")
        return

    problems = []
    old_nodes = set(old_syms.values())
    for sym in added:
        if new_syms[sym] in old_nodes:
            problems.append(
                f"{sym} is new but in node {new_syms[sym]}, which {old_soname}'s baseline already has: "
                "a released node never changes, add a node for the next release"
            )
    for sym in sorted(set(old_syms) & set(new_syms)):
        if old_syms[sym] != new_syms[sym]:
            problems.append(f"{sym}: symbol version {old_syms[sym]} -> {new_syms[sym]}")

    added_constants = []
    if args.header:
        changed, added_constants = compare_constants(constants_path(args.baseline), args.header)
        problems += [f"constant {c}" for c in changed]

    with tempfile.TemporaryDirectory() as tmp:
        old_path, new_path = os.path.join(tmp, "old.abi"), os.path.join(tmp, "new.abi")
        with open(old_path, "w", encoding="utf-8") as f:
            f.write(old_text)
        with open(new_path, "w", encoding="utf-8") as f:
            f.write(new_text)
        # Additions are no break (and are listed below from the symbols).
        cmd = ["abidiff", "--no-default-suppression", "--no-show-locs", "--no-added-syms"]
        problems += layout_problems(old_text, new_text)
        may_grow = growable(struct_layouts(old_text))
        if may_grow:
            sup = os.path.join(tmp, "sz-structs.suppr")
            suppressions(may_grow, sup)
            cmd += ["--suppressions", sup]

        diff = subprocess.run(cmd + [old_path, new_path], capture_output=True, text=True)

    if diff.returncode & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR):
        fail(f"abidiff failed ({diff.returncode}): {diff.stderr.strip()}")
    if diff.returncode & (ABIDIFF_ABI_CHANGE | ABIDIFF_ABI_INCOMPATIBLE_CHANGE):
        problems.append("abidiff reports changes that break programs built against the baseline:")
    if problems:
        print(f"abi-check: {name} breaks the ABI of {old_soname} (baseline {args.baseline}):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        if diff.stdout.strip():
            print(diff.stdout.rstrip(), file=sys.stderr)
        print(
            "abi-check: keep the old functions and structs as they are (grow an sz-first struct at its end, "
            "add functions in a new node), or start a new ABI series: bump the soname (the crate's major "
            "version) in the same change",
            file=sys.stderr,
        )
        sys.exit(1)

    nodes = sorted(set(new_syms.values()))
    print(f"abi-check: {name}: compatible with {args.baseline} ({len(old_syms)} functions, nodes {', '.join(nodes)})")
    for sym in added:
        print(f"abi-check:   added {sym}@{new_syms[sym]}")
    for name in added_constants:
        print(f"abi-check:   added constant {name}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The ABI check of libxsk_rs and libxsk_rs-compat (`make abi-check`).

    abi/check.py [--header H] BASELINE LIBRARY    compare LIBRARY with BASELINE
    abi/check.py --write BASELINE LIBRARY         record LIBRARY as the baseline

BASELINE is libabigail's description (abidw) of the last release's library,
committed under abi/. LIBRARY, freshly built, is described the same way and
compared with abidiff. The check fails on what breaks a program built against
the baseline:

- a function removed, or its prototype or a type it reaches changed (a struct's
  layout, a field's type, an enum's values);
- a function whose symbol version changed (a binary records name@VERSION);
- a function added to a version node the baseline already has: a released node
  never changes, additions go into a node of their own (abi/xsk_rs.map);
- with --header, a #define constant of the header removed or given another
  value (flag bits and sizes are compiled into programs, and no DWARF has
  them): --write keeps them beside the baseline, in BASELINE's .constants.

Two changes are compatible by the library's own rules and pass:
- a struct whose first field is `size_t sz` (the config structs of
  xsk_rs.h, given with --header) growing at its end: the library reads only
  the `sz` bytes a program passes, so an old program keeps working;
- any change at all when the soname differs from the baseline's: a new
  soname is a new ABI series, and old programs keep the old library. The
  baseline is then rewritten with --write.

Added functions are listed. Rust's DWARF names types by module
(xsk_rs::ffi::umem::xsk_rs_umem_config); C knows only the last part, so the
namespaces are dropped before comparing and moving a type between Rust modules
is no change.
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


def struct_layouts(abi_text, names):
    """{name: (size, [(member, offset, type id)])} of the named structs."""
    out = {}
    for decl in ET.fromstring(abi_text).iter("class-decl"):
        name = decl.get("name")
        if name in names and decl.get("is-declaration-only") != "yes":
            members = [
                (var.get("name"), dm.get("layout-offset-in-bits"), var.get("type-id"))
                for dm in decl.findall("data-member")
                for var in dm.findall("var-decl")
            ]
            out[name] = (int(decl.get("size-in-bits", "0")), members)
    return out


def same_member(old, new):
    """A member kept: same name, offset and type (type ids are hashes of the
    type, so equal ids mean equal types). A `reserved` member may take a name:
    the header's rule is that programs leave it 0, and 0 is every new field's
    default."""
    return old == new or (old[0].startswith("reserved") and old[1:] == new[1:])


def layout_problems(old_text, new_text, structs, growable):
    """Problems with the header's structs, checked member by member: abidiff
    does not report a member inserted into padding, and its suppression of a
    growth at the end hides every other change of the struct too. A struct in
    GROWABLE (sz first) may append members; the others must stay as they are."""
    old, new = struct_layouts(old_text, structs), struct_layouts(new_text, structs)
    problems = []
    for name, (old_size, old_members) in sorted(old.items()):
        if name not in new:
            continue  # gone from every prototype: abidiff reports the functions
        new_size, new_members = new[name]
        kept = len(new_members) >= len(old_members) and all(map(same_member, old_members, new_members))
        if name in growable:
            ok = kept and new_size >= old_size
            rule = "only appending fields keeps old programs working"
        else:
            ok = kept and len(new_members) == len(old_members) and new_size == old_size
            rule = "programs put it in arrays or embed it: it can never change"
        if not ok:
            problems.append(
                f"struct {name}: {rule}; was {old_size // 8} bytes {[m[:2] for m in old_members]}, "
                f"now {new_size // 8} bytes {[m[:2] for m in new_members]}"
            )
    return problems


def header_structs(header):
    """(every struct HEADER defines, the ones whose first member is `size_t sz`)."""
    with open(header, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    structs, growable = [], []
    for m in re.finditer(r"typedef struct (\w+) \{(.*?)\} \1;", text, re.S):
        structs.append(m.group(1))
        if re.match(r"\s*size_t sz;", m.group(2)):
            growable.append(m.group(1))
    if not growable:
        fail(f"{header} declares no struct that starts with `size_t sz`: wrong header?")
    return structs, growable


def constants(header):
    """{name: value} of HEADER's object-like #defines: the flag bits, sizes and
    codes a program compiles into itself, which no DWARF records. The
    header's own version and include guard are not ABI."""
    out = {}
    with open(header, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#define\s+([A-Za-z_]\w*)(\s+(.*))?$", line.rstrip())
            if not m or m.group(1).endswith("_H") or "_VERSION_" in m.group(1):
                continue
            text = " ".join((m.group(3) or "").split())
            if text.endswith("\\"):
                continue  # a macro over several lines: not a value
            try:
                # The integer, for values spelt differently: (1 << 4), 16U.
                value = str(eval(re.sub(r"(?<=[0-9a-fA-F])[uUlL]+\b", "", text), {"__builtins__": {}}))
            except Exception:
                value = text
            out[m.group(1)] = value
    return out


def constants_path(baseline):
    return os.path.splitext(baseline)[0] + ".constants"


def compare_constants(path, header):
    """Problems: a constant of the baseline removed or given another value."""
    if not os.path.isfile(path):
        fail(f"no {path}: record the baseline with --write --header")
    with open(path, encoding="utf-8") as f:
        old = dict(line.rstrip("\n").split(" ", 1) for line in f if line.strip())
    new = constants(header)
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
    ap.add_argument("--header", help="the C header: its structs' layouts and its #define values are checked")
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
        if args.header:
            structs, growable = header_structs(args.header)
            problems += layout_problems(old_text, new_text, structs, growable)
            sup = os.path.join(tmp, "sz-structs.suppr")
            suppressions(growable, sup)
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

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
            kind = e.tag[:-5]
            if e.get("is-anonymous") == "yes" or not e.get("name") or e.get("name", "").startswith("__anonymous"):
                # No name to go by: what it holds.
                inner = ", ".join(
                    f"{v.get('name')}@{dm.get('layout-offset-in-bits')}:{name(v.get('type-id'), depth + 1)}"
                    for dm in e.findall("data-member")
                    for v in dm.findall("var-decl")
                )
                return f"{kind} {{{inner}}}"
            return f"{kind} {e.get('name')}"
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
            params = ", ".join(name(p.get("type-id"), depth + 1) for p in e.findall("parameter") if p.get("type-id"))
            ret = e.find("return")
            return f"fn({params}) -> {name(ret.get('type-id'), depth + 1) if ret is not None else 'void'}"
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
        if decl.get("is-anonymous") == "yes" or not name or name.startswith("__anonymous"):
            continue
        if decl.get("is-declaration-only") == "yes":
            out.setdefault(name, None)  # opaque here (unless defined elsewhere in the description)
            continue
        members = [
            (var.get("name"), dm.get("layout-offset-in-bits"), type_name(var.get("type-id")))
            for dm in decl.findall("data-member")
            for var in dm.findall("var-decl")
        ]
        layout = (int(decl.get("size-in-bits", "0")), members)
        if out.get(name) not in (None, layout):
            fail(f"two different structs named {name} in one description")
        out[name] = layout
    return out


def growable(layouts):
    """The structs whose first member is their own size, `sz` (xsk_rs's config
    structs, libxdp's *_opts): they may grow at their end."""
    return sorted(
        name for name, layout in layouts.items() if layout and layout[1] and layout[1][0][:2] == ("sz", "0")
    )


def same_member(old, new):
    """A member kept: same name, offset and type. A `reserved` member may take
    a name (not another type): the header's rule is that programs leave it 0,
    and 0 is every new field's default."""
    return old == new or (old[0].startswith("reserved") and old[1:] == new[1:])


def layout_problems(old_text, new_text, exact=False):
    """Problems with the structs, checked member by member: abidiff does not
    report a member inserted into padding, and its suppression of a growth at
    the end hides every other change of the struct too. A struct with sz first
    may append members (unless EXACT); the others must stay as they are. A
    struct that no exported function reaches any more leaves with the
    functions that took it, which abidiff reports; one that became opaque is
    a problem (programs may have its layout compiled in)."""
    old, new = struct_layouts(old_text), struct_layouts(new_text)
    may_grow = set() if exact else set(growable(old))
    problems = []
    for name, old_layout in sorted(old.items()):
        if old_layout is None or name not in new:
            continue
        if new[name] is None:
            problems.append(f"struct {name}: had a layout in the baseline, is only declared now")
            continue
        (old_size, old_members), (new_size, new_members) = old_layout, new[name]
        kept = len(new_members) >= len(old_members) and all(map(same_member, old_members, new_members))
        if name in may_grow:
            ok = kept and new_size >= old_size
            rule = "only appending fields keeps old programs working"
        elif exact:
            ok = (old_size, old_members) == (new_size, new_members)
            rule = "differs from the baseline"
        else:
            ok = kept and len(new_members) == len(old_members) and new_size == old_size
            rule = "programs put it in arrays or embed it: it can never change"
        if not ok:
            problems.append(
                f"struct {name}: {rule}; was {old_size // 8} bytes {old_members}, now {new_size // 8} bytes {new_members}"
            )
    if exact:
        problems += [f"struct {name} is not in the baseline" for name in sorted(set(new) - set(old))]
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
            # C's integer literals as Python's: suffixes (16U, 1UL) off the
            # numbers only, octal 0644 as 0o644; C's / on integers is //.
            expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]+\b", r"\1", expr)
            expr = re.sub(r"\b0([0-7]+)\b", r"0o\1", expr)
            expr = expr.replace("/", "//")
            if not expr or "**" in expr or not re.fullmatch(r"[\w\s()<>|&~^+*/%-]+", expr):
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


def compare(old_text, old_constants, new_text, headers, exact):
    """(problems, added functions, added constants, abidiff's report) of the
    new description against the old one. OLD_CONSTANTS: the baseline's
    .constants text, or None without --header. EXACT: any difference at all
    is a problem (a release checked against its own baseline)."""
    old_soname, old_syms = symbols(old_text)
    new_soname, new_syms = symbols(new_text)
    added = sorted(set(new_syms) - set(old_syms))
    problems = []
    old_nodes = set(old_syms.values())
    for sym in added:
        if exact:
            problems.append(f"{sym}@{new_syms[sym]} is not in the baseline")
        elif new_syms[sym] in old_nodes:
            problems.append(
                f"{sym} is new but in node {new_syms[sym]}, which {old_soname}'s baseline already has: "
                "a released node never changes, add a node for the next release"
            )
    for sym in sorted(set(old_syms) & set(new_syms)):
        if old_syms[sym] != new_syms[sym]:
            problems.append(f"{sym}: symbol version {old_syms[sym]} -> {new_syms[sym]}")

    added_constants = []
    if old_constants is not None:
        old = dict(line.split(" ", 1) for line in old_constants.splitlines() if line.strip())
        new = constants(headers)
        problems += [
            f"constant {name}: {value} -> {new.get(name, '(removed)')}"
            for name, value in sorted(old.items())
            if new.get(name) != value
        ]
        added_constants = sorted(set(new) - set(old))
        if exact:
            problems += [f"constant {name} is not in the baseline" for name in added_constants]

    problems += layout_problems(old_text, new_text, exact)
    with tempfile.TemporaryDirectory() as tmp:
        old_path, new_path = os.path.join(tmp, "old.abi"), os.path.join(tmp, "new.abi")
        with open(old_path, "w", encoding="utf-8") as f:
            f.write(old_text)
        with open(new_path, "w", encoding="utf-8") as f:
            f.write(new_text)
        cmd = ["abidiff", "--no-default-suppression", "--no-show-locs"]
        may_grow = growable(struct_layouts(old_text))
        if not exact:
            # Additions are no break (and are listed from the symbols).
            cmd.append("--no-added-syms")
            if may_grow:
                sup = os.path.join(tmp, "sz-structs.suppr")
                suppressions(may_grow, sup)
                cmd += ["--suppressions", sup]
        diff = subprocess.run(cmd + [old_path, new_path], capture_output=True, text=True)
    if diff.returncode & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR):
        fail(f"abidiff failed ({diff.returncode}): {diff.stderr.strip()}")
    if diff.returncode & (ABIDIFF_ABI_CHANGE | ABIDIFF_ABI_INCOMPATIBLE_CHANGE):
        problems.append("abidiff reports changes:")
    return problems, added, added_constants, diff.stdout


def git_file(rev, path):
    """PATH's text at REV, or None."""
    out = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else None


def previous_release(version, path):
    """The newest tag vX.Y.Z before VERSION, reachable from HEAD, whose tree
    has PATH (a baseline): the release before the one being made."""
    out = subprocess.run(["git", "tag", "--merged", "HEAD", "--list", "v[0-9]*"], capture_output=True, text=True)
    key = lambda v: tuple(int(x) for x in re.findall(r"\d+", v)[:3])  # noqa: E731
    older = [t for t in out.stdout.split() if re.fullmatch(r"v\d+\.\d+\.\d+", t) and key(t) < key(version)]
    for tag in sorted(older, key=key, reverse=True):
        if git_file(tag, path) is not None:
            return tag
    return None


def report(name, what, problems, diff_text):
    print(f"abi-check: {name} breaks the ABI of {what}:", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    if diff_text.strip():
        print(diff_text.rstrip(), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="record LIBRARY as the baseline")
    ap.add_argument(
        "--header",
        action="append",
        default=[],
        help="a public C header whose #define values are checked (repeatable)",
    )
    ap.add_argument(
        "--headers-dir", action="append", default=[], help="a directory of public headers (abidw --headers-dir)"
    )
    ap.add_argument(
        "--release",
        metavar="VERSION",
        help="the version being built: when the baseline is this release's own (abi/BASELINE), "
        "LIBRARY must equal it exactly, and must also pass against the previous release's baseline",
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
    old_constants = None
    if args.header:
        if not os.path.isfile(constants_path(args.baseline)):
            fail(f"no {constants_path(args.baseline)}: record the baseline with --write --header")
        with open(constants_path(args.baseline), encoding="utf-8") as f:
            old_constants = f.read()
    name = os.path.basename(args.library)
    old_soname, old_syms = symbols(old_text)
    new_soname, new_syms = symbols(new_text)
    if not all(new_syms.values()):
        fail(f"{name}: unversioned functions: {', '.join(sorted(s for s, v in new_syms.items() if not v))}")

    # A release carries its own baseline: then the library is that baseline
    # exactly (nothing changed after make abi-baseline), and what the release
    # changed is checked against the release before it, from its tag.
    own = None
    if args.release:
        marker = os.path.join(os.path.dirname(args.baseline), "BASELINE")
        own = os.path.isfile(marker) and open(marker, encoding="utf-8").read().strip() == args.release
    if own:
        problems, _, _, diff_text = compare(old_text, old_constants, new_text, args.header, exact=True)
        if problems:
            report(name, f"its own release's baseline {args.baseline}", problems, diff_text)
            fail("the baseline is stale: run make abi-baseline (a release's last step before its tag)")
        prev = previous_release(args.release, args.baseline)
        if prev is None:
            print(f"abi-check: {name}: equals its release's baseline {args.baseline}; no earlier release has one")
            return
        old_text = git_file(prev, args.baseline)
        old_constants = git_file(prev, constants_path(args.baseline)) if args.header else None
        if args.header and old_constants is None:
            fail(f"{prev} has {args.baseline} but no {constants_path(args.baseline)}")
        old_soname, old_syms = symbols(old_text)
        args.baseline = f"{prev}:{args.baseline}"

    if old_soname != new_soname:
        print(f"abi-check: {name}: soname {old_soname} -> {new_soname}: a new ABI series, nothing to compare")
        return
    problems, added, added_constants, diff_text = compare(old_text, old_constants, new_text, args.header, False)
    if problems:
        report(name, f"{old_soname} (baseline {args.baseline})", problems, diff_text)
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
    for const in added_constants:
        print(f"abi-check:   added constant {const}")


if __name__ == "__main__":
    main()

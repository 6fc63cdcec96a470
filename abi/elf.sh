# What a shared library says about itself, read with binutils' readelf: one
# reading for the scripts that check it (tests/check-exports.sh,
# tests/check-version.sh) and the one that packages it (pkg/deb/build.sh), so
# the symbols file a package ships and the checks agree by construction.
#
#   source abi/elf.sh
#   elf_soname FILE        its DT_SONAME
#   elf_exports FILE       "NAME NODE" per exported symbol (defined, global or
#                          weak, default visibility), NODE its default version
#                          (name@@NODE), "-" if it has none; a version's own
#                          definition symbol is not an export
#   elf_nodes FILE         "NODE PARENT" per version node it defines (PARENT
#                          "-" for none), not the BASE entry (the file itself)
#   elf_lib_installed DIR STEM VERSION
#                          DIR/STEM.so.VERSION is a file, STEM.so.MAJOR and
#                          STEM.so link to it, and its SONAME is STEM.so.MAJOR;
#                          prints each thing that is wrong, fails if any
# shellcheck shell=bash

elf_soname() {
	readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p'
}

# readelf -W --dyn-syms: "Num: Value Size Type Bind Vis Ndx Name[@[@]VERSION]".
# A version's own definition is an ABS OBJECT named after it.
elf_exports() {
	readelf -W --dyn-syms "$1" | awk '
		$1 ~ /^[0-9]+:$/ && NF >= 8 && $7 != "UND" && $7 != "ABS" &&
		($5 == "GLOBAL" || $5 == "WEAK") && $6 == "DEFAULT" {
			name = $8; node = "-"
			if (index(name, "@@")) { node = substr(name, index(name, "@@") + 2); name = substr(name, 1, index(name, "@@") - 1) }
			else if (index(name, "@")) { node = "(hidden)" substr(name, index(name, "@") + 1); name = substr(name, 1, index(name, "@") - 1) }
			print name, node
		}' | LC_ALL=C sort -u
}

# readelf -V: "Flags: none  Index: N  Cnt: C  Name: NODE", then for a node with
# a parent "Parent 1: PARENT".
elf_nodes() {
	readelf -V -W "$1" | awk '
		/Version definition section/ { d = 1; next }
		/Version (needs|symbols) section/ { d = 0 }
		d && /Flags: BASE/ { next }
		d && /Name: / { if (node != "") print node, parent; node = $NF; parent = "-"; next }
		d && /Parent 1: / { parent = $NF }
		END { if (node != "") print node, parent }' | LC_ALL=C sort
}

elf_lib_installed() {
	local dir=$1 stem=$2 version=$3 major=${3%%.*} real soname bad=0
	real=$dir/$stem.so.$version
	[[ -f $real && ! -L $real ]] || { echo "$real is not there (built for another version?)"; return 1; }
	[[ $(readlink "$dir/$stem.so.$major") == "$stem.so.$version" ]] ||
		{ echo "$dir/$stem.so.$major does not link to $stem.so.$version"; bad=1; }
	[[ $(readlink "$dir/$stem.so") == "$stem.so.$version" ]] ||
		{ echo "$dir/$stem.so does not link to $stem.so.$version"; bad=1; }
	soname=$(elf_soname "$real")
	[[ $soname == "$stem.so.$major" ]] || { echo "$real has SONAME '$soname', not $stem.so.$major"; bad=1; }
	return $bad
}

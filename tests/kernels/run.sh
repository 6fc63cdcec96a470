#!/usr/bin/env bash
# The kernel matrix: boots Debian's packaged cloud kernels in qemu and runs the
# focused suite of tests/kernels/suite inside each, on veth pairs between
# network namespaces in the guest.
#
#   tests/kernels/run.sh PREFIX      (PREFIX: where libxsk_rs was installed;
#                                     `make test-kernels` makes one)
#
# Steps: install what is missing (qemu, busybox-static, kmod, ... with apt-get),
# resolve each kernel's meta-package to its current linux-image package and
# download it (apt-get download), check its config for what the tests need,
# build the suite's Rust test binaries (cargo test --release --no-run) and C
# test programs (against PREFIX, through pkg-config), pack them with busybox,
# iproute2's ip, every shared library they need, the kernel's veth module and
# tests/kernels/init.sh as /init into an initramfs, and boot it with
# single-threaded TCG (KVM guests hang here right after decompression). The
# guest reports on the serial console (see init.sh); this script reads that
# back, prints a test-by-kernel table and the output of each failed test, and
# ends with "N passed, N failed" over all kernels. It exits non-zero when a test
# failed, a kernel did not boot, or a guest stopped before its last marker.
#
# Kept under build/kernels (git-ignored): the .debs, each kernel's extracted
# package, and each run's console log (build/kernels/KERNEL/console.log).
#
# Knobs (environment):
#   KERNELS="6.1 6.12"       which kernels: 6.1 (Debian 12's linux-image-cloud-
#                            amd64) and 6.12 (linux-image-6.12-cloud-amd64)
#   KERNELS_ONLY=REGEX       run only the suite's tests whose name matches
#   KERNELS_JOBS=N           guests at once (default: the number of CPUs)
#   KERNELS_SMP=N            virtual CPUs per guest (default 2; single-threaded
#                            TCG runs them in turn on one host thread)
#   KERNELS_TIMEOUT=SECS     wall-clock limit per guest (default 900)
#   VERBOSE=1                stream each guest's console while it runs
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
me=test-kernels

die() {
	echo "$me: error: $*" >&2
	exit 1
}

[[ $# -eq 1 ]] || { echo "usage: $0 PREFIX" >&2; exit 2; }
prefix=$(cd "$1" 2>/dev/null && pwd) || die "no such prefix: $1"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"

kernels=${KERNELS:-6.1 6.12}
only=${KERNELS_ONLY:-}
jobs=${KERNELS_JOBS:-$(nproc)}
smp=${KERNELS_SMP:-2}
guest_timeout=${KERNELS_TIMEOUT:-900}
for v in jobs smp guest_timeout; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done

out=$repo/build/kernels
mkdir -p "$out/debs"
stage=""
cleanup() {
	local pid f
	for f in "$stage"/timeout-*.pid; do
		[[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null
	done
	for pid in $(jobs -p); do
		kill "$pid" 2>/dev/null
	done
	[[ -n $stage ]] && rm -rf "$stage"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stage=$(mktemp -d "$out/stage.XXXXXX")

t_start=$SECONDS
phase() { echo "--- $me: $* ($((SECONDS - t_start)) s)"; }

# ---- tools ---------------------------------------------------------------

export DEBIAN_FRONTEND=noninteractive
apt_updated=false
apt_update() {
	$apt_updated && return 0
	apt-get update -qq || die "apt-get update failed"
	apt_updated=true
}

# package:command pairs; a package whose command is missing gets installed.
# busybox-static is checked by package: a dynamic busybox would not run in the
# guest.
wanted=(qemu-system-x86:qemu-system-x86_64 busybox-static:busybox xz-utils:xz zstd:zstd
	cpio:cpio kmod:depmod pkg-config:pkg-config iproute2:ip)
missing=()
for w in "${wanted[@]}"; do
	pkg=${w%%:*} cmd=${w#*:}
	if ! command -v "$cmd" >/dev/null ||
		! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$pkg")
	fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
	[[ $(id -u) -eq 0 ]] || die "missing packages ${missing[*]}; as root: apt-get install ${missing[*]}"
	phase "installing ${missing[*]}"
	apt_update
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$stage/apt.log" 2>&1 ||
		{ cat "$stage/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi
for cmd in qemu-system-x86_64 busybox xz zstd cpio depmod modprobe pkg-config ip gcc cargo python3 \
	apt-get apt-cache dpkg-deb ldd timeout dash; do
	command -v "$cmd" >/dev/null || die "'$cmd' is not installed"
done
pkg-config --exists xsk_rs || die "pkg-config finds no xsk_rs under $PKG_CONFIG_PATH"

# ---- the suite -----------------------------------------------------------

# KIND BINARY ARGUMENT lines, comments and blank lines dropped, KERNELS_ONLY
# applied to BINARY/ARGUMENT.
suite=$stage/suite
awk '$1 !~ /^#/ && NF' "$here/suite" >"$suite.all"
awk 'NF != 3 || ($1 != "rust" && $1 != "c") { print "tests/kernels/suite: not KIND BINARY ARGUMENT with KIND rust or c: " $0; bad = 1 }
	END { exit bad }' "$suite.all" >&2 || exit 1
awk -v re="$only" 're == "" || ($2 "/" $3) ~ re' "$suite.all" >"$suite"
[[ -s $suite ]] || die "no test in tests/kernels/suite matches KERNELS_ONLY='$only'"
mapfile -t names < <(awk '{ print $2 "/" $3 }' "$suite")
mapfile -t rust_targets < <(awk '$1 == "rust" { print $2 }' "$suite" | sort -u)
mapfile -t c_programs < <(awk '$1 == "c" { print $2 }' "$suite" | sort -u)

# ---- kernels -------------------------------------------------------------

meta_of() {
	case $1 in
	6.1) echo linux-image-cloud-amd64 ;;
	6.12) echo linux-image-6.12-cloud-amd64 ;;
	*) die "unknown kernel '$1' in KERNELS (known: 6.1 6.12)" ;;
	esac
}

# The linux-image-X package a meta-package depends on, from apt's lists.
resolve() {
	apt-cache depends "$1" 2>/dev/null | awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# What the tests need built in (=y), or at least as a module (veth).
check_config() {
	local config=$1 opt lack=()
	for opt in BLK_DEV_INITRD RD_GZIP DEVTMPFS TMPFS PROC_FS SYSFS SERIAL_8250_CONSOLE \
		NET NET_NS INET PACKET UNIX BPF BPF_SYSCALL XDP_SOCKETS HUGETLB_PAGE PROC_PAGE_MONITOR; do
		grep -qx "CONFIG_$opt=y" "$config" || lack+=("CONFIG_$opt=y")
	done
	grep -Eqx 'CONFIG_VETH=[ym]' "$config" || lack+=("CONFIG_VETH=y or m")
	[[ ${#lack[@]} -eq 0 ]] || die "$(basename "$config") lacks ${lack[*]}"
}

# prepare_kernel SERIES: resolves, downloads and unpacks one kernel into
# $out/KERNEL (the download and the unpacked package are kept), and packs the
# modules the guest loads, decompressed, into $out/KERNEL/modules.cpio.gz.
# Sets kver to KERNEL (e.g. 6.1.0-57-cloud-amd64).
prepare_kernel() {
	local meta pkg ver deb dir
	meta=$(meta_of "$1")
	pkg=$(resolve "$meta")
	if [[ -z $pkg ]]; then
		apt_update
		pkg=$(resolve "$meta")
	fi
	[[ -n $pkg ]] || die "apt-cache depends $meta names no linux-image package"
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
	[[ -n $ver ]] || die "apt-cache show $pkg gives no version"
	kver=${pkg#linux-image-}
	dir=$out/$kver
	# As apt-get download names it (an epoch's colon is written %3a).
	deb=$out/debs/${pkg}_${ver//:/%3a}_amd64.deb
	if [[ ! -f $deb ]]; then
		echo "downloading $pkg $ver (for $meta)"
		# A stale list names a .deb the mirror no longer has: update, retry.
		(cd "$out/debs" && apt-get download -o APT::Sandbox::User=root -qq "$pkg=$ver") ||
			{ apt_update && (cd "$out/debs" && apt-get download -o APT::Sandbox::User=root -qq "$pkg"); } ||
			die "apt-get download $pkg failed"
		if [[ ! -f $deb ]]; then
			ver=$(apt-cache show --no-all-versions "$pkg" | awk '$1 == "Version:" { print $2; exit }')
			deb=$out/debs/${pkg}_${ver//:/%3a}_amd64.deb
		fi
		[[ -f $deb ]] || die "apt-get download $pkg left no $(basename "$deb") in $out/debs"
	fi
	if [[ $(cat "$dir/unpacked" 2>/dev/null) != "$(basename "$deb")" ]]; then
		rm -rf "$dir/root" "$dir/unpacked"
		mkdir -p "$dir/root"
		dpkg-deb -x "$deb" "$dir/root" || die "dpkg-deb -x $deb failed"
		[[ -d $dir/root/lib/modules/$kver ]] || die "$deb has no lib/modules/$kver"
		# The package ships no modules.dep (its postinst makes it).
		depmod -b "$dir/root" "$kver" || die "depmod for $kver failed"
		basename "$deb" >"$dir/unpacked"
	fi
	[[ -f $dir/root/boot/vmlinuz-$kver ]] || die "$deb has no boot/vmlinuz-$kver"
	[[ -f $dir/root/boot/config-$kver ]] || die "$deb has no boot/config-$kver"
	check_config "$dir/root/boot/config-$kver"

	# veth and what it depends on, in load order, decompressed: insmod in
	# the guest takes a plain .ko. Then xsk_diag where the kernel has it as
	# a module (6.12; 6.1 is built without it): EBUSY on a queue names the
	# process holding it through xdp_diag there.
	local mods=$stage/mods-$kver line path name mod
	rm -rf "$mods"
	mkdir -p "$mods/lib/modules" "$mods/xskrs"
	: >"$mods/xskrs/modules"
	for mod in veth xsk_diag; do
	[[ $mod == veth ]] || modprobe -d "$dir/root" -S "$kver" --show-depends "$mod" >/dev/null 2>&1 || continue
	while read -r line; do
		case $line in
		builtin\ *) continue ;;
		insmod\ *) path=${line#insmod } path=${path%% *} ;;
		*) die "modprobe --show-depends $mod for $kver said: $line" ;;
		esac
		name=$(basename "$path")
		case $name in
		*.ko.xz) name=${name%.xz}; xz -dc "$path" >"$mods/lib/modules/$name" ;;
		*.ko.zst) name=${name%.zst}; zstd -qdc "$path" >"$mods/lib/modules/$name" ;;
		*.ko.gz) name=${name%.gz}; gzip -dc "$path" >"$mods/lib/modules/$name" ;;
		*.ko) cp "$path" "$mods/lib/modules/$name" ;;
		*) die "unexpected module file $path" ;;
		esac || die "cannot decompress $path"
		grep -qx "$name" "$mods/xskrs/modules" || echo "$name" >>"$mods/xskrs/modules"
	done < <(modprobe -d "$dir/root" -S "$kver" --show-depends "$mod" 2>&1 || echo "failed")
	done
	(cd "$mods" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$dir/modules.cpio.gz"
	echo "  $1: $meta -> $pkg $ver, modules: $(paste -sd' ' "$mods/xskrs/modules")"
}

phase "kernels: $kernels"
kvers=()
for k in $kernels; do
	prepare_kernel "$k"
	kvers+=("$kver")
done

# ---- builds --------------------------------------------------------------

phase "building the Rust tests: ${rust_targets[*]:-none}"
declare -A exe=()
if [[ ${#rust_targets[@]} -gt 0 ]]; then
	cargo_args=(test --release --no-run --message-format=json-render-diagnostics)
	for t in "${rust_targets[@]}"; do
		cargo_args+=(--test "$t")
	done
	(cd "$repo" && cargo "${cargo_args[@]}") >"$stage/cargo.json" || die "cargo ${cargo_args[*]} failed"
	while read -r name path; do
		exe[$name]=$path
	done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"], m["executable"])
' "$stage/cargo.json")
	for t in "${rust_targets[@]}"; do
		[[ -n ${exe[$t]:-} ]] || die "cargo built no test executable for target '$t'"
	done
fi

phase "building the C tests against $prefix: ${c_programs[*]:-none}"
# Word splitting of the pkg-config output is intended.
cflags=$(pkg-config --cflags xsk_rs)
libs=$(pkg-config --libs xsk_rs)
for p in "${c_programs[@]}"; do
	[[ -f $repo/tests/c/$p.c ]] || die "tests/kernels/suite names tests/c/$p.c, which does not exist"
	# shellcheck disable=SC2086
	gcc -std=c11 -Wall -Wextra -Werror -pedantic -O2 -g $cflags "$repo/tests/c/$p.c" \
		-o "$stage/$p" $libs -pthread || die "tests/c/$p.c does not build"
	exe[$p]=$stage/$p
done

# ---- the initramfs -------------------------------------------------------

phase "packing the initramfs"
root=$stage/root
mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,root,xskrs/bin,lib/modules,lib/x86_64-linux-gnu}
install -m 755 "$here/init.sh" "$root/init"
cp "$suite" "$root/xskrs/suite"
# busybox-static's applets, except ip (the tests need iproute2's: netns, veth)
# and sh. Its sh runs its own applet for a command of that name before looking
# at PATH, so `ip` in a script, or in the C harness's popen("ip -n ..."), would
# be busybox's ip, which knows no namespaces. /bin/sh is the host's dash.
bb=$(dpkg-query -L busybox-static | grep -E '/bin/busybox$' | head -n 1)
[[ -n $bb && -x $bb ]] || die "busybox-static installed no bin/busybox"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
	case $applet in ip | sh | busybox) continue ;; esac
	ln -sf busybox "$root/bin/$applet"
done
ln -sf bin "$root/sbin"

# add_elf FILE DEST: FILE at DEST in the initramfs, with every shared library
# it needs (from ldd). The dynamic loader goes to its own path, the libraries
# to /lib/x86_64-linux-gnu, which the loader searches without a cache.
add_elf() {
	local file=$1 dest=$2 line lib
	cp "$file" "$root$dest"
	chmod 755 "$root$dest"
	while read -r line; do
		case $line in
		*"not found"*) die "ldd $file: $line" ;;
		*"=> /"*) lib=${line#*=> } lib=${lib%% (*}
			[[ -f $root/lib/x86_64-linux-gnu/$(basename "$lib") ]] ||
				cp -L "$lib" "$root/lib/x86_64-linux-gnu/$(basename "$lib")" ;;
		/*) lib=${line%% (*}
			mkdir -p "$root$(dirname "$lib")"
			[[ -f $root$lib ]] || cp -L "$lib" "$root$lib" ;;
		esac
	done < <(LD_LIBRARY_PATH="$prefix/lib" ldd "$file")
}
add_elf "$(command -v ip)" /bin/ip
add_elf "$(command -v dash)" /bin/sh
for name in "${rust_targets[@]}" "${c_programs[@]}"; do
	add_elf "${exe[$name]}" "/xskrs/bin/$name"
done
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$stage/common.cpio.gz"
echo "  initramfs: $(du -sh "$root" | cut -f1) unpacked, $(du -h "$stage/common.cpio.gz" | cut -f1) packed"

# ---- boot ----------------------------------------------------------------

# boot KERNEL: one guest; its console in $out/KERNEL/console.log, the wall
# time in $out/KERNEL/wall.
boot() {
	local kver=$1 dir=$out/$1 t0 pid rc=0
	# The kernel unpacks concatenated archives in order.
	cat "$stage/common.cpio.gz" "$dir/modules.cpio.gz" >"$stage/initrd-$kver.gz"
	t0=$(date +%s.%N)
	# timeout(1) runs in a process group of its own, out of reach of a
	# Ctrl-C; cleanup() stops it (and so qemu) through its pid file.
	timeout -k 10 "$guest_timeout" qemu-system-x86_64 \
		-accel tcg,thread=single -smp "$smp" -m 1024 \
		-nographic -no-reboot -nic none \
		-kernel "$dir/root/boot/vmlinuz-$kver" -initrd "$stage/initrd-$kver.gz" \
		-append "console=ttyS0 panic=-1" \
		</dev/null >"$dir/console.raw" 2>"$dir/qemu.err" &
	pid=$!
	echo "$pid" >"$stage/timeout-$kver.pid"
	wait "$pid" || rc=$?
	rm -f "$stage/timeout-$kver.pid"
	tr -d '\r' <"$dir/console.raw" >"$dir/console.log"
	echo "$rc" >"$dir/qemu.rc"
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' >"$dir/wall"
}

phase "booting ${#kvers[@]} kernel(s), $jobs at once, $smp CPU(s) each"
for kver in "${kvers[@]}"; do
	rm -f "$out/$kver"/{console.raw,console.log,kernel.log,qemu.rc,qemu.err,wall}
done
if [[ ${VERBOSE:-} == 1 ]]; then
	for kver in "${kvers[@]}"; do
		tail -F "$out/$kver/console.raw" 2>/dev/null &
	done
fi
# In batches of $jobs guests.
batch=()
for i in "${!kvers[@]}"; do
	boot "${kvers[$i]}" &
	batch+=($!)
	if [[ ${#batch[@]} -ge $jobs || $i -eq $((${#kvers[@]} - 1)) ]]; then
		wait "${batch[@]}"
		batch=()
	fi
done
# Let tail -F show the last lines before cleanup() stops it.
[[ ${VERBOSE:-} == 1 ]] && sleep 1

# ---- report --------------------------------------------------------------

# klog CONSOLE: the kernel's messages: the guest's dmesg dump if it got that
# far, else whatever the console shows with a timestamp.
klog() {
	if grep -q '^XSKRS-DMESG-END' "$1"; then
		awk '/^XSKRS-DMESG-BEGIN/ { on = 1; next } /^XSKRS-DMESG-END/ { on = 0 } on' "$1"
	else
		grep -E '^\[ *[0-9]+\.[0-9]+\] ' "$1" || true
	fi
}

total_pass=0 total_fail=0 bad_kernels=() summary=()
declare -A result=() why=()
for kver in "${kvers[@]}"; do
	dir=$out/$kver log=$out/$kver/console.log
	booted=$(awk '$1 == "XSKRS-BOOTED" { print $2; exit }' "$log")
	done_line=$(grep -m1 '^XSKRS-DONE ' "$log" || true)
	rc=$(cat "$dir/qemu.rc")
	note=""
	if [[ -z $booted ]]; then
		note="did not boot"
	elif [[ -z $done_line ]]; then
		note="stopped before the end of the suite"
	fi
	if [[ $rc -eq 124 || $rc -eq 137 ]]; then
		note+="${note:+; }killed after ${guest_timeout} s"
	elif [[ $rc -ne 0 ]]; then
		note+="${note:+; }qemu exited with status $rc: $(head -c 300 "$dir/qemu.err")"
	fi
	fatal=$(grep -m1 '^XSKRS-FATAL ' "$log" || true)
	[[ -n $fatal ]] && note+="${note:+; }init: ${fatal#XSKRS-FATAL }"
	# An oops or BUG fails the kernel even when every test passed; a WARN
	# is shown. Either way the lines are in the console log.
	klog "$log" >"$dir/kernel.log"
	oops=$(grep -cE '\] (BUG:|Oops|general protection fault|Kernel panic)' "$dir/kernel.log" || true)
	[[ $oops -gt 0 ]] && note+="${note:+; }$oops oops/BUG lines in the kernel log"
	warns=$(grep -cE '\] WARNING: ' "$dir/kernel.log" || true)
	p=0 f=0
	for name in "${names[@]}"; do
		line=$(grep -m1 -F "XSKRS-TEST $name " "$log" || true)
		status=$(awk '{ print $3 }' <<<"$line")
		case $status in
		PASS) result[$kver,$name]="PASS $(awk '{ print $4 }' <<<"$line")s"; p=$((p + 1)) ;;
		FAIL) result[$kver,$name]="FAIL $(awk '{ print $4 }' <<<"$line")s"
			why[$kver,$name]=$(cut -d' ' -f5- <<<"$line"); f=$((f + 1)) ;;
		*) result[$kver,$name]="-" f=$((f + 1))
			if grep -qxF "XSKRS-BEGIN $name" "$log"; then
				why[$kver,$name]="started, but the guest stopped before it ended"
			else
				why[$kver,$name]="did not run: the guest stopped before it"
			fi ;;
		esac
	done
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
	[[ -n $note ]] && bad_kernels+=("$kver: $note")
	summary+=("$kver: booted in ${booted:-?} s (guest uptime at /init), guest wall time $(cat "$dir/wall") s: $p passed, $f failed${note:+ ($note)}")
	[[ $warns -gt 0 ]] && summary+=("  $kver: the kernel log has $warns WARNING lines ($dir/kernel.log)")
done

w=4
for name in "${names[@]}"; do
	[[ ${#name} -gt $w ]] && w=${#name}
done
echo
printf '%-*s' "$w" "test"
for kver in "${kvers[@]}"; do printf '  %-*s' "${#kver}" "$kver"; done
echo
for name in "${names[@]}"; do
	printf '%-*s' "$w" "$name"
	for kver in "${kvers[@]}"; do printf '  %-*s' "${#kver}" "${result[$kver,$name]}"; done
	echo
done

# The failed tests' output: what the guest printed between the test's
# markers. The C tests print a line per check, so of theirs only the failed
# checks and the tally; of the rest, the end (a Rust test's panic is there).
for kver in "${kvers[@]}"; do
	for name in "${names[@]}"; do
		[[ ${result[$kver,$name]} == PASS* ]] && continue
		echo
		echo "---- $kver: FAIL $name: ${why[$kver,$name]}"
		awk -v b="XSKRS-BEGIN $name" -v e="XSKRS-TEST $name " '
			$0 == b { on = 1; next }
			index($0, e) == 1 { on = 0 }
			on' "$out/$kver/console.log" >"$stage/failed.out"
		if grep -q '^  FAIL ' "$stage/failed.out"; then
			grep '^  FAIL ' "$stage/failed.out" | head -n 30
			grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed' "$stage/failed.out" || true
		else
			tail -n 40 "$stage/failed.out"
		fi | cut -c 1-300
	done
done

# A guest that died or hung: how its console ended.
for kver in "${kvers[@]}"; do
	grep -q '^XSKRS-DONE ' "$out/$kver/console.log" && continue
	echo
	echo "---- $kver: the last lines of its console"
	tail -n 40 "$out/$kver/console.log" | cut -c 1-300
done

echo
for s in "${summary[@]}"; do echo "$s"; done
for kver in "${kvers[@]}"; do echo "console log: $out/$kver/console.log"; done
for b in "${bad_kernels[@]}"; do echo "KERNEL FAILED: $b"; done
echo "total wall time $((SECONDS - t_start)) s"
echo "$total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 && ${#bad_kernels[@]} -eq 0 ]]

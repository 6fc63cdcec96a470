#!/bin/sh
# /init of the kernel matrix's guest (tests/kernels/run.sh builds the
# initramfs and boots it in qemu). dash, as PID 1, with busybox's applets
# (except ip, which is iproute2's) on PATH: mounts what the tests
# need, loads the modules listed in /xskrs/modules, runs each test of
# /xskrs/suite (the repo's tests/kernels/suite) and reports on the serial
# console, one marker line per event, which the host parses:
#
#   XSKRS-BOOTED UPTIME KERNEL     the suite is about to start
#   XSKRS-BEGIN NAME               the test's own output follows
#   XSKRS-TEST NAME PASS|FAIL SECS [why]
#   XSKRS-DMESG-BEGIN / -END       the kernel log, after the suite
#   XSKRS-DONE PASSED FAILED       the last line; then the guest powers off
#
#   XSKRS-FATAL WHAT               set-up failed; the guest powers off
#
# Anything that stops the guest before XSKRS-DONE is a failure on the host.

export PATH=/bin:/sbin
export HOME=/root
# The tests must fail, not skip, when something they need is missing.
export CI=true
# tests/crash.rs: kills per mode (10 is its minimum), fewer than its 12 here.
export XSK_RS_CRASH_TRIALS=10
# Seconds one test may take before it is killed and counted failed.
TEST_TIMEOUT=180

fatal() {
	echo "XSKRS-FATAL $*"
	poweroff -f
}

mount -t proc proc /proc || fatal "mount /proc"
mount -t sysfs sysfs /sys || fatal "mount /sys"
mount -t devtmpfs devtmpfs /dev || fatal "mount /dev"
# The initramfs may have no /dev/console of its own.
exec </dev/console >/dev/console 2>&1
mount -t tmpfs tmpfs /run || fatal "mount /run"
mount -t tmpfs tmpfs /tmp || fatal "mount /tmp"
# Keep routine kernel messages (veth up, promiscuous mode) off the console,
# where they would land inside marker lines; the full log is printed at the end.
echo 3 >/proc/sys/kernel/printk
hostname xskrs-guest

while read -r mod <&3; do
	insmod "/lib/modules/$mod" || fatal "insmod $mod"
done 3</xskrs/modules

echo "XSKRS-BOOTED $(cut -d' ' -f1 /proc/uptime) $(uname -r)"

passed=0 failed=0
out=/tmp/test.out

# run CMD...: CMD's output goes to $out and then to the console; its status to
# /tmp/rc. Returns 0; the caller judges. Written to a file, not through a pipe:
# a child that outlives a killed test (one spawned through ip netns exec)
# would hold a pipe open and stall the guest past the test's time limit.
run() {
	rm -f /tmp/rc
	timeout -s KILL "$TEST_TIMEOUT" "$@" >"$out" 2>&1 </dev/null
	echo $? >/tmp/rc
	cat "$out"
}

xdp_left() {
	ip -n "$1" -d link show dev "$2" 2>/dev/null |
		grep -Eq '(^|[[:space:]])(xdp|xdpgeneric|xdpdrv|xdpoffload|xdpmulti|prog/xdp[a-z]*)([[:space:]]|$)'
}

# status_why: sets why to what the last run's exit status says went wrong, or "".
status_why() {
	rc=$(cat /tmp/rc)
	if [ "$rc" = 137 ]; then
		why="killed after ${TEST_TIMEOUT} s"
	elif [ "$rc" != 0 ]; then
		why="exit status $rc"
	else
		why=""
	fi
}

# rust_test BINARY TEST: one test of an integration-test binary, by exact name.
rust_test() {
	run "/xskrs/bin/$1" --exact "$2" --test-threads=1 --nocapture
	status_why
	if [ -z "$why" ] && ! grep -q '^test result: ok\. 1 passed;' "$out"; then
		why="ran no test of that name"
	fi
}

# c_test PROGRAM MODE: as tests/c/run.sh runs it, on a pair made for it.
c_test() {
	ns_a=xskrs-k-a ns_b=xskrs-k-b
	why=""
	for ns in $ns_a $ns_b; do
		ip netns add "$ns" || why="ip netns add $ns failed"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || why="disabling IPv6 in $ns failed"
	done
	ip -n $ns_a link add veth0 numrxqueues 1 numtxqueues 1 type veth \
		peer name veth1 netns $ns_b numrxqueues 1 numtxqueues 1 &&
		ip -n $ns_a link set dev veth0 up &&
		ip -n $ns_b link set dev veth1 up || why="veth pair failed"
	if [ -z "$why" ]; then
		run "/xskrs/bin/$1" $ns_a veth0 $ns_b veth1 "$2"
		status_why
		if [ -n "$why" ]; then
			:
		elif ! grep -Eq "^$1: [0-9]+ passed, 0 failed\$" "$out"; then
			why="no '$1: N passed, 0 failed' line"
		elif xdp_left $ns_a veth0; then
			why="an XDP program is left on veth0"
		elif xdp_left $ns_b veth1; then
			why="an XDP program is left on veth1"
		fi
	fi
	ip netns del $ns_a 2>/dev/null
	ip netns del $ns_b 2>/dev/null
}

while read -r kind bin arg <&3; do
	case $kind in '' | '#'*) continue ;; esac
	name=$bin/$arg
	echo "XSKRS-BEGIN $name"
	t0=$(cut -d' ' -f1 /proc/uptime)
	case $kind in
	rust) rust_test "$bin" "$arg" ;;
	c) c_test "$bin" "$arg" ;;
	*) why="unknown kind '$kind' in the suite" ;;
	esac
	# Each test removes the namespaces it made; any left behind are named
	# and removed, so that the next test starts from none.
	left=$(ls /run/netns 2>/dev/null)
	if [ -n "$left" ]; then
		[ -z "$why" ] && why="left network namespaces behind: $(echo "$left" | tr '\n' ' ')"
		for ns in $left; do
			ip netns del "$ns"
		done
	fi
	secs=$(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime)
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "XSKRS-TEST $name PASS $secs"
	else
		failed=$((failed + 1))
		echo "XSKRS-TEST $name FAIL $secs $why"
	fi
done 3</xskrs/suite

echo "XSKRS-DMESG-BEGIN"
dmesg
echo "XSKRS-DMESG-END"
echo "XSKRS-DONE $passed $failed"
poweroff -f

#!/usr/bin/env bash
# test/cgroupv2/vm/run.sh MYDOCKER TESTBIN PROBE: boot Debian's stock kernel
# in qemu with the unified cgroup hierarchy only, run TESTBIN (the
# test/cgroupv2 package, built static) there as root, and exit with its exit
# code. `make test-cgroupv2` builds the three binaries and calls it.
#
# Why a VM: the machines this project runs on bind every controller to
# cgroup v1, and no namespace changes that; only a kernel booted with
# cgroup_no_v1=all shows what a Debian 12 / Ubuntu 22.04 host gives.
#
# What is cached, under $VM_CACHE (default /var/cache/mydocker-vm), keyed by
# the kernel package and its version: the kernel image and the initramfs
# part holding its modules. Nothing but Debian packages is downloaded
# (apt-get download); the package is unpacked (dpkg-deb -x), never installed.
set -euo pipefail

mydocker=${1:?usage: run.sh MYDOCKER TESTBIN PROBE}
testbin=${2:?usage: run.sh MYDOCKER TESTBIN PROBE}
probe=${3:?usage: run.sh MYDOCKER TESTBIN PROBE}
here=$(cd "$(dirname "$0")" && pwd)
cache=${VM_CACHE:-/var/cache/mydocker-vm}
timeout=${VM_TIMEOUT:-2700} # seconds for the whole VM: boot and tests
# Seconds the VM's console may stay silent (a run prints a line every few
# seconds: its boot, each test). Now and then an emulated VM hangs, silent,
# in its boot or in a test: it is then killed and run again, once, rather
# than left to the whole timeout.
silent_timeout=${VM_SILENT_TIMEOUT:-240}
log=${VM_LOG:-$cache/last-run.log}

say() { echo "test-cgroupv2: $*" >&2; }

# The modules the tests need, by name; their dependencies are added from
# each module's own .modinfo (the package has no modules.dep: depmod makes
# it at install). overlay: container roots; veth, bridge: networks; the
# rest: the rules mydocker writes through iptables (nf_tables backend, with
# the legacy tables too, whichever the host's iptables is), as the kernel
# would have auto-loaded them through modprobe.
modules="overlay veth bridge br_netfilter crc32c_generic
nf_tables nft_compat nft_chain_nat nft_nat nft_masq nft_ct nft_fib_ipv4 nft_reject_ipv4
x_tables xt_MASQUERADE xt_nat xt_comment xt_conntrack xt_addrtype xt_tcpudp xt_mark
ip_tables iptable_nat iptable_filter nf_conntrack nf_nat"

# --- the kernel, cached by package version ---------------------------------
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}') || true
ver=""
[ -n "$pkg" ] && ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
if [ -z "$pkg" ] || [ -z "$ver" ]; then
	say "apt-cache knows no linux-image-amd64: run apt-get update (make test-cgroupv2 does)"
	exit 1
fi
# Keyed by the package's version and by the module list: a new kernel or a
# module added here makes a new entry (an old one can be deleted by hand).
kcache=$cache/${pkg}_${ver}_$(echo "$modules" | md5sum | cut -c1-8)
if [ ! -f "$kcache/done" ]; then
	t0=$(date +%s)
	say "fetching $pkg $ver (apt-get download) into $kcache"
	rm -rf "$kcache" && mkdir -p "$kcache/deb"
	# _apt downloads into a directory it can write; then root unpacks it.
	chown _apt "$kcache/deb" 2>/dev/null || true
	(cd "$kcache/deb" && apt-get download -q "$pkg" >/dev/null)
	unpacked=$kcache/unpacked
	dpkg-deb -x "$kcache"/deb/*.deb "$unpacked"
	kver=${pkg#linux-image-}
	cp "$unpacked/boot/vmlinuz-$kver" "$kcache/vmlinuz"
	mdir=$unpacked/lib/modules/$kver
	declare -A path=()
	while IFS= read -r f; do
		n=${f##*/}
		n=${n%.ko}
		path[${n//-/_}]=$f
	done < <(find "$mdir/kernel" -name '*.ko')
	# Depth first: a module's dependencies go before it, once.
	declare -A seen=()
	order=()
	visit() {
		local n=${1//-/_} d
		[ -n "${seen[$n]:-}" ] && return
		seen[$n]=1
		if [ -z "${path[$n]:-}" ]; then
			grep -q "/${1}.ko\$" "$mdir/modules.builtin" ||
				grep -q "/${n}.ko\$" "$mdir/modules.builtin" ||
				{ say "module $1: neither in the package nor built in"; exit 1; }
			return
		fi
		for d in $(tr '\0' '\n' <"${path[$n]}" | sed -n 's/^depends=//p' | tr ',' ' '); do
			visit "$d"
		done
		order+=("$n")
	}
	for m in $modules; do visit "$m"; done
	root=$kcache/modroot
	# Under usr/: the VM's root is merged-/usr as Debian's (/lib a link).
	mkdir -p "$root/usr/lib/modules"
	for n in "${order[@]}"; do
		cp "${path[$n]}" "$root/usr/lib/modules/$n.ko"
	done
	printf '%s\n' "${order[@]}" >"$root/usr/lib/modules/load-order"
	(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$kcache/modules.cpio"
	rm -rf "$unpacked" "$kcache/deb" "$root"
	touch "$kcache/done"
	say "kernel $ver and ${#order[@]} modules cached in $(($(date +%s) - t0)) s"
fi

# --- userland: busybox, iptables with its libraries, the binaries ----------
work=$(mktemp -d /tmp/mydocker-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,etc,proc,sys,dev,tmp,run,newroot}
# Merged /usr, as Debian's: the libraries' paths (ldd's /lib/...) and
# iptables' built-in extension directory (/usr/lib/...) are the same place.
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
cp "$(command -v busybox)" "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod 0755 "$root/init"
cp "$mydocker" "$root/usr/local/bin/mydocker"
cp "$testbin" "$root/cgroupv2.test"
cp "$probe" "$root/probe"
# iptables as the host has it (xtables-nft-multi on Debian 12), with the
# shared libraries it links and the extensions it dlopens.
ipt=$(readlink -f "$(command -v iptables)")
cp "$ipt" "$root/usr/sbin/"
for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
	ln -s "$(basename "$ipt")" "$root/usr/sbin/$n"
done
ldd "$ipt" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
xt=$(readlink -f "$(dirname "$(ldd "$ipt" | awk '/libxtables/ {print $3}')")/xtables")
mkdir -p "$root$xt" && cp -a "$xt/." "$root$xt/"
for f in /etc/protocols /etc/services /etc/ethertypes; do
	[ -f "$f" ] && cp "$f" "$root/etc/"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
initrd=$work/initrd.cpio
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$work/user.cpio"
# The kernel unpacks concatenated archives in turn.
cat "$kcache/modules.cpio" "$work/user.cpio" >"$initrd"

# --- boot --------------------------------------------------------------------
# KVM where it works: /dev/kvm opens and the CPU says it can virtualise
# (vmx or svm). A nested guest can have a /dev/kvm that opens while its CPU
# has neither flag; a VM started there hangs at its first instructions.
# VM_ACCEL=kvm or tcg decides instead.
accel=${VM_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if grep -qwE 'vmx|svm' /proc/cpuinfo && { exec 3<>/dev/kvm; } 2>/dev/null; then
		exec 3>&-
		accel=kvm
	fi
fi
if [ "$accel" = kvm ]; then
	accelflags=(-enable-kvm -cpu host)
else
	accelflags=(-accel tcg,thread=multi)
	say "no usable KVM here (/dev/kvm, vmx/svm): emulating with TCG, several times slower"
fi
mkdir -p "$(dirname "$log")"
pidfile=$work/qemu.pid
# boot runs the VM once, its console to stdout and $log; 125 if the console
# stayed silent for silent_timeout (the VM is killed, by its pid).
boot() {
	: >"$log"
	rm -f "$pidfile"
	timeout --foreground "$timeout" qemu-system-x86_64 "${accelflags[@]}" -smp 2 -m 1536 \
		-nodefaults -no-user-config -display none -no-reboot -nic none -pidfile "$pidfile" \
		-serial stdio -kernel "$kcache/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all panic=-1 quiet loglevel=4 ${VM_TESTARGS:+mydocker.testargs=$VM_TESTARGS}" \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" &
	local vm=$! silent=0 size=0 now
	while kill -0 "$vm" 2>/dev/null; do # until it ends: its log says how
		now=$(stat -c %s "$log")
		if [ "$now" != "$size" ]; then
			size=$now silent=0
		elif [ "$silent" -ge "$silent_timeout" ]; then
			say "the VM's console was silent for $silent_timeout s: killing it"
			[ ! -s "$pidfile" ] || kill "$(cat "$pidfile")" 2>/dev/null || true
			wait "$vm" || true
			return 125
		fi
		sleep 1
		silent=$((silent + 1))
	done
	wait "$vm"
}
say "booting $pkg $ver (${accelflags[*]}), 2 vCPUs; the console goes to $log"
start=$(date +%s)
set +e
boot
qemu=$?
if [ "$qemu" = 125 ]; then
	say "running it again"
	boot
	qemu=$?
fi
set -e
took=$(($(date +%s) - start))
result=$(grep -a '^MYDOCKER-VM-RESULT ' "$log" | tail -n 1 || true)
if [ -z "$result" ]; then
	say "FAIL: the VM gave no result (exit $qemu after $took s; 124 is the $timeout s timeout, 125 silent twice)"
	exit 1
fi
code=$(echo "$result" | awk '{print $3}')
say "$(echo "$result" | awk '{print $2}') (test binary exit $code), VM ran $took s"
exit "$code"

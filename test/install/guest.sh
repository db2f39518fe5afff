#!/bin/bash
# usage: run by toa-install-test.service in the guest at each boot, from the share test/install/run.sh made
# Boot 1 installs toa as README.md says, then twice more as the one-liner, then a kernel upgrade. Boot 2,
# on the new kernel, checks DKMS's toa came back by itself, serves a TOA client, uninstalls, installs by
# method 2 with an rc.local. Boot 3 checks method 2 came back with its kinds, serves a kind 200 client,
# uninstalls, installs the toa-dkms .deb, then a third kernel. Boot 4 checks the .deb's toa came back,
# serves a TOA client, purges the package.
set -u

share=/mnt/toa-test
state=/var/lib/toa-install-test	# on the guest's disk: it has to outlive the reboot
logs=$share/logs
kver=$(uname -r)
kver1=$(cat "$share/kver1")	# the kernel boot 1 runs
kver2=$(cat "$share/kver2")	# the kernel boot 1 installs and boots 2 to 4 run
kver3=$(cat "$share/kver3")	# the kernel boot 3 installs after the .deb
deb=$(cd "$share/dist" && echo toa-dkms_*_all.deb)
mkdir -p "$state" "$logs"
boot=$(($(cat "$state/boot" 2>/dev/null || echo 0) + 1))
echo "$boot" >"$state/boot"
n=$(cat "$state/count" 2>/dev/null || echo 0)
server_pid=
# However this script ends, the boot ends with it, and QEMU with the boot (run.sh).
next=reboot
[ "$boot" != 4 ] || next=poweroff
trap 'systemctl "$next" --no-block' EXIT

now() { cut -d' ' -f1 /proc/uptime; }

# tap NAME CMD...: one TAP line in the share's tap.txt (and on the console) for CMD's status;
# CMD's output goes to the boot's log.
tap() {
	local name=$1 line
	shift
	n=$((n + 1))
	echo "$n" >"$state/count"
	echo "=== $n $name (at $(now)s)" >>"$logs/boot$boot.log"
	if "$@" >>"$logs/boot$boot.log" 2>&1; then line="ok $n $name"; else line="not ok $n $name"; fi
	echo "$line" | tee -a "$share/tap.txt"
	sync
}

# The counter $1 of /proc/net/toa_stats summed over the CPUs, as README.md reads it.
stat_total() {
	awk -v name="$1" 'NR > 1 { s = 0; for (i = 2; i <= NF; i++) s += $i; sub(/:$/, "", $1) }
		NR > 1 && $1 == name { print s }' /proc/net/toa_stats
}

toa_loaded() { lsmod | grep -q '^toa '; }
toa_not_loaded() { ! toa_loaded; }

# Files on the root file system changed since the file $1, leaving out logs and scratch space.
changed_since() {
	find / -xdev \( -path /tmp -o -path /var/tmp -o -path /var/log -o -path "$state" \) -prune -o \
		-newer "$1" -print
}

# changes_nothing SAYS SCRIPT: README's one-liner, bash -c "$SCRIPT", run again where toa is installed
# says a line starting SAYS, succeeds, and leaves the module loaded as it was and every file as it was.
# The script is fetched first: bash -c "" would pass with nothing run.
changes_nothing() {
	local says=$1 script=$2 before after changed status
	touch "$state/mark"
	sleep 1
	before="$(lsmod | grep '^toa ') $(stat -c %i /sys/module/toa)"
	[ -n "$script" ] || return 1
	(cd / && bash -c "$script") >"$state/one-liner.log" 2>&1
	status=$?
	cat "$state/one-liner.log"
	[ "$status" = 0 ] && grep -q "^install_toa.sh: $says" "$state/one-liner.log" || return 1
	after="$(lsmod | grep '^toa ') $(stat -c %i /sys/module/toa)"
	changed=$(changed_since "$state/mark")
	echo "module before: $before; after: $after; files changed: ${changed:-none}"
	[ "$before" = "$after" ] && [ -z "$changed" ]
}

# The second run: file:// stands in for where the script and the tarball are hosted.
second_run_changes_nothing() {
	TOA_SOURCE_URL=file://$share/toa.tar.gz changes_nothing \
		"downloading the toa source from file://" "$(curl -fsSL "file://$share/install_toa.sh")"
}

# The third: make dist's install_toa.sh, the source in it, from a web server (here on loopback) as
# the guide's one-liner has it, checked against its .sha256 first as README says.
self_contained_changes_nothing() {
	local server status
	(cd "$share/dist" && sha256sum -c install_toa.sh.sha256) || return 1
	python3 -m http.server 8080 --bind 127.0.0.1 --directory "$share/dist" >"$logs/dist-server.log" 2>&1 &
	server=$!
	for _ in $(seq 100); do
		ss -Hltn 'sport = 8080' | grep -q . && break
		sleep 0.2
	done
	changes_nothing "using the toa source embedded in this script" \
		"$(curl -fsSL http://127.0.0.1:8080/install_toa.sh)"
	status=$?
	kill "$server"
	wait "$server"
	return "$status"
}

# install_kernel DIR: what a kernel upgrade does, with the kernel and headers rootfs.sh downloaded
# into DIR. INITRD=No: the host made boot 2's initramfs, which would take minutes under TCG.
install_kernel() {
	INITRD=No dpkg -i "$1"/*.deb
}

# The user's server, on the server end of a veth pair (its own network namespace).
start_server() {
	ip netns add toa-srv &&
		ip link add cli0 type veth peer name srv0 netns toa-srv &&
		ip addr add 10.88.0.1/24 dev cli0 && ip link set cli0 up &&
		ip -n toa-srv addr add 10.88.0.2/24 dev srv0 && ip -n toa-srv link set srv0 up &&
		ip -n toa-srv link set lo up || return 1
	ip netns exec toa-srv python3 -m http.server 10000 >"$logs/http.server-boot$boot.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		ip netns exec toa-srv ss -Hltn 'sport = 10000' | grep -q . && return 0
		sleep 0.2
	done
	return 1
}

# attach_client KIND IP: the proxy: the client kernel puts option KIND (hex), length 8, port 4660
# and the IP's bytes (hex) on its SYN and ACK (test/toa_client.bpf.c).
attach_client() {
	# struct toa_client_opt (test/toa_client.h): len, on_syn, on_ack, pad, then 40 option bytes.
	local kind=$1 ip
	read -ra ip <<<"$2"
	local value=(08 01 01 00 "$kind" 08 12 34 "${ip[@]}")
	while [ "${#value[@]}" -lt 44 ]; do value+=(00); done
	bpftool prog load "$share/toa_client.bpf.o" /sys/fs/bpf/toa_client type sockops pinmaps /sys/fs/bpf &&
		mkdir -p /sys/fs/cgroup/toa-client &&
		bpftool cgroup attach /sys/fs/cgroup/toa-client sock_ops pinned /sys/fs/bpf/toa_client &&
		bpftool map update pinned /sys/fs/bpf/toa_client_opt key hex 00 00 00 00 \
			value hex "${value[@]}"
}

# curl, as README.md's Verify does, from inside the proxy's cgroup.
client_request() {
	# shellcheck disable=SC2016 # $$ is the inner shell's pid
	sh -c 'echo $$ >/sys/fs/cgroup/toa-client/cgroup.procs && exec curl -sS -o /dev/null -w "%{http_code}\n" http://10.88.0.2:10000/' |
		grep -x 200
}

stop_test_setup() {
	[ -n "$server_pid" ] && kill "$server_pid" && { wait "$server_pid" || true; }
	bpftool cgroup detach /sys/fs/cgroup/toa-client sock_ops pinned /sys/fs/bpf/toa_client &&
		rm -f /sys/fs/bpf/toa_client /sys/fs/bpf/toa_client_opt &&
		rmdir /sys/fs/cgroup/toa-client && ip netns del toa-srv
}

# served IP: the server's log has a request from IP.
served() {
	grep -F "$1 - - " "$logs/http.server-boot$boot.log" | grep -q '"GET / HTTP'
}

kinds_are() { grep -qx "$1" /sys/module/toa/parameters/kinds; }

# Method 2's trusted list: the client's 10.88.0.1 is in it, so TOA is still used.
trusted=10.88.0.0/24,2001:db8:1::/48
trusted_in_force() { [ "$(paste -sd, - </proc/net/toa_trusted)" = "$trusted" ]; }

# An rc.local of the user's, before method 2 adds its line; kept to compare after --uninstall.
make_rc_local() {
	printf '%s\n' '#!/bin/sh -e' "touch /run/rc.local-ran" 'exit 0' >/etc/rc.local &&
		chmod 755 /etc/rc.local && cp -p /etc/rc.local "$state/rc.local.user"
}

# The rc.local line by itself: unloaded, then rc.local run as the boot runs it.
rc_local_loads_toa() {
	rmmod toa && toa_not_loaded && /etc/rc.local && toa_loaded && kinds_are 254,253,200
}

nothing_left() {
	toa_not_loaded &&
		[ ! -e /etc/modules-load.d/toa.conf ] && [ ! -e /etc/modprobe.d/toa.conf ] &&
		[ ! -e /usr/lib/modules-load.d/toa.conf ] && ! dpkg -s toa-dkms >/dev/null 2>&1 &&
		[ -z "$(dkms status toa)" ] && [ ! -e /var/lib/dkms/toa ] &&
		[ -z "$(find /lib/modules /usr/src -name 'toa*')" ] && [ ! -e /var/lib/toa ]
}

# kernel_log_errors, beside this script in the share
# shellcheck source=test/kernel-log.sh
. "$share/kernel-log.sh"
dmesg_clean() {
	! dmesg | kernel_log_errors -
}

echo "# boot $boot: kernel $kver, test started at $(now)s" | tee -a "$share/tap.txt"
case $boot in
1)
	tap "toa is not loaded before the install" toa_not_loaded
	tap "unpack the source tarball" tar -xzf "$share/toa.tar.gz" -C /root
	tap "install_toa.sh installs (offline)" sh -c 'cd /root/toa && ./scripts/install_toa.sh'
	tap "lsmod | grep toa" toa_loaded
	tap "dkms has toa installed for $kver" sh -c "dkms status toa | grep -F '$kver' | grep -q ': installed'"
	tap "autoload: /etc/modules-load.d/toa.conf" grep -qx toa /etc/modules-load.d/toa.conf
	tap "second run, as the curl one-liner, changes nothing" second_run_changes_nothing
	tap "third run, make dist's install_toa.sh as the one-liner from a web server, changes nothing" \
		self_contained_changes_nothing
	tap "kernel upgrade: dpkg -i $kver2 and its headers" install_kernel /root/second-kernel
	tap "dkms built and installed toa for $kver2 by itself" \
		sh -c "dkms status toa -k '$kver2' | grep -q ': installed'"
	tap "modinfo -k $kver2 toa: built for $kver2" \
		sh -c "modinfo -k '$kver2' -F vermagic toa | grep -q '^$kver2 '"
	tap "dmesg clean (boot 1)" dmesg_clean
	;;
2)
	tap "booted the new kernel $kver2" test "$kver" = "$kver2"
	tap "toa loaded at boot by itself" toa_loaded
	tap "toa loaded by systemd-modules-load" sh -c "journalctl -b -o cat | grep -x \"Inserted module 'toa'\""
	tap "python3 -m http.server 10000 listens" start_server
	tap "TOA client attached (BPF sock_ops on a cgroup)" attach_client fe "c0 00 02 07"
	tap "curl through the TOA client gets 200" client_request
	tap "server log shows 192.0.2.7" served 192.0.2.7
	tap "toa_stats: syn_recv_sock_toa >= 1" test "$(stat_total syn_recv_sock_toa)" -ge 1
	tap "toa_stats: getname_toa_ok >= 1" test "$(stat_total getname_toa_ok)" -ge 1
	cat /proc/net/toa_stats >>"$logs/boot2.log"
	tap "server and client stopped" stop_test_setup
	tap "install_toa.sh --uninstall" sh -c 'cd /root/toa && ./scripts/install_toa.sh --uninstall'
	tap "nothing of toa left, for either kernel" nothing_left
	tap "an executable /etc/rc.local of the user's" make_rc_local
	tap "compile_install_toa.sh --kinds 254,253,200 --trust ... (method 2)" \
		sh -c "cd /root/toa && ./scripts/compile_install_toa.sh --kinds 254,253,200 --trust $trusted"
	tap "method 2: the trusted list in force now" trusted_in_force
	tap "method 2: toa.ko in kernel/net/netfilter/ipvs, not in DKMS" sh -c \
		"test -f /lib/modules/$kver/kernel/net/netfilter/ipvs/toa.ko && test -z \"\$(dkms status toa)\""
	tap "method 2: loaded with kinds 254,253,200" kinds_are 254,253,200
	tap "method 2: autoload in modules-load.d and rc.local" sh -c \
		"grep -qx toa /etc/modules-load.d/toa.conf && grep -q '^/sbin/modprobe toa ' /etc/rc.local"
	tap "dmesg clean (boot 2)" dmesg_clean
	;;
3)
	tap "toa loaded at boot by itself (method 2)" toa_loaded
	tap "kinds 254,253,200 at boot (modprobe.d)" kinds_are 254,253,200
	tap "the trusted list in force at boot (modprobe.d)" trusted_in_force
	tap "rc-local.service ran rc.local" test -e /run/rc.local-ran
	tap "python3 -m http.server 10000 listens" start_server
	tap "kind 200 TOA client attached" attach_client c8 "c0 00 02 08"
	tap "curl through the kind 200 client gets 200" client_request
	tap "server log shows 192.0.2.8" served 192.0.2.8
	cat /proc/net/toa_stats >>"$logs/boot3.log"
	tap "server and client stopped" stop_test_setup
	tap "rc.local's line loads toa with its kinds" rc_local_loads_toa
	tap "compile_install_toa.sh --uninstall" sh -c 'cd /root/toa && ./scripts/compile_install_toa.sh --uninstall'
	tap "nothing of toa left" nothing_left
	tap "rc.local is the user's again" cmp /etc/rc.local "$state/rc.local.user"
	tap "apt-get install ./$deb (offline)" sh -c "cd '$share/dist' && apt-get -o DPkg::Lock::Timeout=600 install -y './$deb'"
	tap "toa-dkms: toa loaded now" toa_loaded
	tap "toa-dkms: DKMS built toa for $kver2 and $kver1" sh -c \
		"dkms status toa -k '$kver2' | grep -q ': installed' && dkms status toa -k '$kver1' | grep -q ': installed'"
	tap "toa-dkms: loaded at boot by /usr/lib/modules-load.d/toa.conf" \
		grep -qx toa /usr/lib/modules-load.d/toa.conf
	tap "a kernel installed after the package: dpkg -i $kver3 and its headers" \
		install_kernel /root/third-kernel
	tap "dkms built and installed toa for $kver3 by itself" \
		sh -c "dkms status toa -k '$kver3' | grep -q ': installed'"
	tap "modinfo -k $kver3 toa: built for $kver3" \
		sh -c "modinfo -k '$kver3' -F vermagic toa | grep -q '^$kver3 '"
	tap "dmesg clean (boot 3)" dmesg_clean
	;;
4)
	tap "toa-dkms: toa loaded at boot by itself" toa_loaded
	tap "toa-dkms: loaded by systemd-modules-load" sh -c "journalctl -b -o cat | grep -x \"Inserted module 'toa'\""
	tap "python3 -m http.server 10000 listens" start_server
	tap "TOA client attached" attach_client fe "c0 00 02 09"
	tap "curl through the TOA client gets 200" client_request
	tap "server log shows 192.0.2.9" served 192.0.2.9
	cat /proc/net/toa_stats >>"$logs/boot4.log"
	tap "server and client stopped" stop_test_setup
	tap "apt-get purge toa-dkms" apt-get -o DPkg::Lock::Timeout=600 purge -y toa-dkms
	tap "nothing of toa left, for every kernel" nothing_left
	tap "dmesg clean (boot 4)" dmesg_clean
	echo "1..$n" >>"$share/tap.txt"
	;;
esac
journalctl -b -o short-monotonic >"$logs/journal-boot$boot.txt"

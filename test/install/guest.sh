#!/bin/bash
# usage: run by toa-install-test.service in the guest at each boot, from the share test/install/run.sh made
# Boot 1 installs toa as INSTALL.md says, twice; boot 2 checks it came back by itself, serves a TOA client, uninstalls.
set -u

share=/mnt/toa-test
state=/var/lib/toa-install-test	# on the guest's disk: it has to outlive the reboot
logs=$share/logs
kver=$(uname -r)
mkdir -p "$state" "$logs"
boot=$(($(cat "$state/boot" 2>/dev/null || echo 0) + 1))
echo "$boot" >"$state/boot"
n=$(cat "$state/count" 2>/dev/null || echo 0)
server_pid=
# However this script ends, the boot ends with it, and QEMU with the boot (run.sh).
next=poweroff
[ "$boot" != 1 ] || next=reboot
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

# The counter $1 of /proc/net/toa_stats summed over the CPUs, as INSTALL.md reads it.
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

second_run_changes_nothing() {
	local before after changed
	touch "$state/mark"
	sleep 1
	before="$(lsmod | grep '^toa ') $(stat -c %i /sys/module/toa)"
	(cd /root/toa && ./scripts/install_toa.sh) || return 1
	after="$(lsmod | grep '^toa ') $(stat -c %i /sys/module/toa)"
	changed=$(changed_since "$state/mark")
	echo "module before: $before; after: $after; files changed: ${changed:-none}"
	[ "$before" = "$after" ] && [ -z "$changed" ]
}

# The user's server, on the server end of a veth pair (its own network namespace).
start_server() {
	ip netns add toa-srv &&
		ip link add cli0 type veth peer name srv0 netns toa-srv &&
		ip addr add 10.88.0.1/24 dev cli0 && ip link set cli0 up &&
		ip -n toa-srv addr add 10.88.0.2/24 dev srv0 && ip -n toa-srv link set srv0 up &&
		ip -n toa-srv link set lo up || return 1
	ip netns exec toa-srv python3 -m http.server 10000 >"$logs/http.server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		ip netns exec toa-srv ss -Hltn 'sport = 10000' | grep -q . && return 0
		sleep 0.2
	done
	return 1
}

# The proxy: the client kernel puts 254/8 192.0.2.7:4660 on its SYN and ACK (test/toa_client.bpf.c).
attach_client() {
	# struct toa_client_opt (test/toa_client.h): len, on_syn, on_ack, pad, then 40 option bytes.
	local value=(08 01 01 00 fe 08 12 34 c0 00 02 07)
	while [ "${#value[@]}" -lt 44 ]; do value+=(00); done
	bpftool prog load "$share/toa_client.bpf.o" /sys/fs/bpf/toa_client type sockops pinmaps /sys/fs/bpf &&
		mkdir -p /sys/fs/cgroup/toa-client &&
		bpftool cgroup attach /sys/fs/cgroup/toa-client sock_ops pinned /sys/fs/bpf/toa_client &&
		bpftool map update pinned /sys/fs/bpf/toa_client_opt key hex 00 00 00 00 \
			value hex "${value[@]}"
}

# curl, as INSTALL.md's Verify does, from inside the proxy's cgroup.
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

nothing_left() {
	toa_not_loaded &&
		[ ! -e /etc/modules-load.d/toa.conf ] && [ ! -e /etc/modprobe.d/toa.conf ] &&
		[ -z "$(dkms status toa)" ] && [ ! -e /var/lib/dkms/toa ] &&
		[ -z "$(find /lib/modules /usr/src -name 'toa*')" ] && [ ! -e /var/lib/toa ]
}

dmesg_clean() {
	! dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|refcount_t:'
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
	tap "second install_toa.sh run changes nothing" second_run_changes_nothing
	tap "dmesg clean (boot 1)" dmesg_clean
	;;
2)
	tap "toa loaded at boot by itself" toa_loaded
	tap "toa loaded by systemd-modules-load" sh -c "journalctl -b -o cat | grep -x \"Inserted module 'toa'\""
	tap "python3 -m http.server 10000 listens" start_server
	tap "TOA client attached (BPF sock_ops on a cgroup)" attach_client
	tap "curl through the TOA client gets 200" client_request
	tap "server log shows 192.0.2.7" grep -q '^192\.0\.2\.7 .*"GET / HTTP' "$logs/http.server.log"
	tap "toa_stats: syn_recv_sock_toa >= 1" test "$(stat_total syn_recv_sock_toa)" -ge 1
	tap "toa_stats: getname_toa_ok >= 1" test "$(stat_total getname_toa_ok)" -ge 1
	cat /proc/net/toa_stats >>"$logs/boot2.log"
	tap "server and client stopped" stop_test_setup
	tap "install_toa.sh --uninstall" sh -c 'cd /root/toa && ./scripts/install_toa.sh --uninstall'
	tap "nothing of toa left" nothing_left
	tap "dmesg clean (boot 2)" dmesg_clean
	echo "1..$n" >>"$share/tap.txt"
	;;
esac
journalctl -b -o short-monotonic >"$logs/journal-boot$boot.txt"

# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the lab's VM scripts that run libvirt (libvirt.sh,
# admin_tools.sh): links Debian's unpacked root $R into the busybox VM
# and configures libvirt for a VM without cgroups, namespaces, labels or
# virtlogd. Fails (returns 1) if the root cannot be linked.

libvirt_root_setup() {
	ln -s $R/lib /lib || return 1
	mkdir -p /usr /var/lib/libvirt /var/log/libvirt/qemu /var/cache/libvirt \
		/run/libvirt /etc
	ln -s /run /var/run
	for d in bin sbin lib libexec share; do
		ln -s $R/usr/$d /usr/$d
	done
	cp -a $R/etc/libvirt /etc/libvirt
	# libvirt resolves its default QEMU user and group even when told "root"
	printf 'root:x:0:0:root:/root:/bin/sh\nlibvirt-qemu:x:64055:993::/var/lib/libvirt:/bin/false\n' > /etc/passwd
	printf 'root:x:0:\nkvm:x:993:\nlibvirt-qemu:x:64055:\nlibvirt:x:994:\n' > /etc/group
	# QEMU runs as root with its console log in a file.
	cat > /etc/libvirt/qemu.conf <<EOF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
EOF
	echo 'log_outputs="2:stderr"' >> /etc/libvirt/libvirtd.conf
}

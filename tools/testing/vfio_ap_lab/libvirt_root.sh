# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the lab's VM scripts that run libvirt (libvirt.sh,
# admin_tools.sh, seed_migrate.sh): links Debian's unpacked root $R into
# the busybox VM and configures libvirt for a VM without cgroups,
# namespaces, labels or virtlogd (libvirt_root_setup returns 1 if the root
# cannot be linked), and writes the guest and hostdev XML they define.

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

# The <hostdev> element of vfio_ap mdev $1, as attach-device takes it.
vfio_ap_hostdev_xml() {
	cat <<XML
<hostdev mode='subsystem' type='mdev' model='vfio-ap'>
  <source>
    <address uuid='$1'/>
  </source>
</hostdev>
XML
}

# Guest $1 for the lab's KVM, with vfio_ap mdev $2 as its one device.
vfio_ap_guest_xml() {
	cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os>
  <cpu mode='host-passthrough'/>
  <devices>
    <emulator>/usr/bin/qemu-system-s390x</emulator>
$(vfio_ap_hostdev_xml "$2" | sed 's/^/    /')
  </devices>
</domain>
XML
}

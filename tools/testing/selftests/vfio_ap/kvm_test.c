// SPDX-License-Identifier: GPL-2.0
/*
 * The guest side, driven the way QEMU drives it: a KVM VM with one vCPU
 * (never run: the lab's KVM has no SIE), the mdev in a VFIO container
 * through its group, the group on the VM's KVM-VFIO device, the device
 * opened by UUID and both eventfds registered. The guest's CRYCB masks
 * are read from the lab kernel's debugfs (kvm/<pid>-<fd>/crycb, see the
 * lab's patches/0001-kvm-s390-lab-no-sie.patch).
 *
 * Host: adapters 5 and 6 (vfio_ap) and 7 (cex4queue), domains 4, 0x47,
 * 0xab and 0xff, control domains the same. A: 5,6 x 4,0xab, control
 * domain 0xab. Every sysfs and simulator write is synchronous, so each
 * change is complete, CRYCB and eventfd included, when the write returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <linux/kvm.h>
#include <linux/types.h>
#include <linux/vfio.h>

#include "vfio_ap_expect.h"

/* Older UAPI headers (the cross toolchain's) lack these. */
#ifndef KVM_DEV_VFIO_FILE
#define KVM_DEV_VFIO_FILE		KVM_DEV_VFIO_GROUP
#define KVM_DEV_VFIO_FILE_ADD		KVM_DEV_VFIO_GROUP_ADD
#endif
#ifndef VFIO_AP_REQ_IRQ_INDEX
#define VFIO_AP_REQ_IRQ_INDEX		0
#endif
#ifndef VFIO_AP_CFG_CHG_IRQ_INDEX
#define VFIO_AP_CFG_CHG_IRQ_INDEX	1
#endif

#define KVM_DEBUGFS	"/sys/kernel/debug/kvm"
#define GUEST_A		"05.0004\n05.00ab\n06.0004\n06.00ab\n"
/* Bound on waiting for the REQ eventfd; not a synchronisation delay. */
#define REQ_TIMEOUT_MS	60000

struct vm {
	int kvm, vm, vcpu, kvm_vfio;
	char dbg[64];
};

struct vdev {
	int container, group, dev;
	int req, cfg;
	int cfg_err;	/* SET_IRQS of the CFG_CHG eventfd: 0 or -errno */
};

static void vm_init(struct vm *vm)
{
	vm->kvm = -1;
	vm->vm = -1;
	vm->vcpu = -1;
	vm->kvm_vfio = -1;
	vm->dbg[0] = '\0';
}

static void vdev_init(struct vdev *d)
{
	d->container = -1;
	d->group = -1;
	d->dev = -1;
	d->req = -1;
	d->cfg = -1;
	d->cfg_err = 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * KVM_CREATE_VM needs an mm with page status extensions (PGSTE), which only
 * a process started after vm.allocate_pgste was set (or a binary linked
 * with --s390-pgste, as QEMU is) has. The harness forks every test from the
 * main process, and a forked mm follows the sysctl, so setting it here,
 * before any fork, is enough.
 */
static int pgste_sysctl_err;

static void __attribute__((constructor)) pgste_enable(void)
{
	pgste_sysctl_err = sysfs_write("/proc/sys/vm/allocate_pgste", "1");
}

/* A VM as QEMU makes one for an s390 guest with AP pass-through. */
static int vm_create(struct vm *vm, const char **step)
{
	struct kvm_device_attr apie = {
		.group = KVM_S390_VM_CRYPTO,
		.attr = KVM_S390_VM_CRYPTO_ENABLE_APIE,
	};
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };

	*step = "allocate_pgste";
	if (pgste_sysctl_err)
		return pgste_sysctl_err;
	*step = "open /dev/kvm";
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return -errno;
	*step = "KVM_CREATE_VM";
	vm->vm = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->vm < 0)
		return -errno;
	snprintf(vm->dbg, sizeof(vm->dbg), KVM_DEBUGFS "/%d-%d", getpid(),
		 vm->vm);
	*step = "KVM_HAS_DEVICE_ATTR APIE";
	if (ioctl(vm->vm, KVM_HAS_DEVICE_ATTR, &apie))
		return -errno;
	*step = "KVM_SET_DEVICE_ATTR APIE";
	if (ioctl(vm->vm, KVM_SET_DEVICE_ATTR, &apie))
		return -errno;
	*step = "KVM_CREATE_VCPU";
	vm->vcpu = ioctl(vm->vm, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		return -errno;
	*step = "KVM_CREATE_DEVICE VFIO";
	if (ioctl(vm->vm, KVM_CREATE_DEVICE, &cd))
		return -errno;
	vm->kvm_vfio = cd.fd;
	return 0;
}

static void vm_destroy(struct vm *vm)
{
	close_fd(&vm->kvm_vfio);
	close_fd(&vm->vcpu);
	close_fd(&vm->vm);
	close_fd(&vm->kvm);
}

static int group_number(const char *uuid)
{
	char path[128], link[256], *slash;
	ssize_t n;

	snprintf(path, sizeof(path), MATRIX_DIR "/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	slash = strrchr(link, '/');
	return slash ? atoi(slash + 1) : -EINVAL;
}

/*
 * The group of mdev @uuid into a container (@container, or a new type1
 * container if it is -1) and, unless @vm is NULL, onto the VM's KVM-VFIO
 * device; that is all QEMU does before it asks for the device.
 */
static int vdev_group(struct vdev *d, struct vm *vm, const char *uuid,
		      int container, const char **step)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct kvm_device_attr add = {
		.group = KVM_DEV_VFIO_FILE,
		.attr = KVM_DEV_VFIO_FILE_ADD,
	};
	char path[64];
	int nr;

	*step = "iommu_group link";
	nr = group_number(uuid);
	if (nr < 0)
		return nr;
	*step = "open group";
	snprintf(path, sizeof(path), "/dev/vfio/%d", nr);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		return -errno;
	*step = "VFIO_GROUP_GET_STATUS";
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st))
		return -errno;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EBUSY;
	if (container < 0) {
		*step = "open /dev/vfio/vfio";
		d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		if (d->container < 0)
			return -errno;
		*step = "VFIO_GET_API_VERSION";
		if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
			return -EPROTO;
		*step = "VFIO_CHECK_EXTENSION type1v2";
		if (ioctl(d->container, VFIO_CHECK_EXTENSION,
			  VFIO_TYPE1v2_IOMMU) != 1)
			return -ENODEV;
		container = d->container;
	}
	*step = "VFIO_GROUP_SET_CONTAINER";
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &container))
		return -errno;
	if (d->container >= 0) {
		*step = "VFIO_SET_IOMMU type1v2";
		if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
			return -errno;
	}
	if (vm) {
		*step = "KVM_DEV_VFIO_FILE_ADD";
		add.addr = (uintptr_t)&d->group;
		if (ioctl(vm->kvm_vfio, KVM_SET_DEVICE_ATTR, &add))
			return -errno;
	}
	return 0;
}

static int set_irq(int dev, unsigned int index, int fd)
{
	struct {
		struct vfio_irq_set hdr;
		__s32 fd;
	} s = {
		.hdr = {
			.argsz = sizeof(s),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = index,
			.start = 0,
			.count = 1,
		},
		.fd = fd,
	};

	return ioctl(dev, VFIO_DEVICE_SET_IRQS, &s) ? -errno : 0;
}

/* The device of group @d opened by UUID, with both eventfds registered. */
static int vdev_get(struct vdev *d, const char *uuid, const char **step)
{
	int rc;

	*step = "VFIO_GROUP_GET_DEVICE_FD";
	d->dev = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (d->dev < 0)
		return -errno;
	*step = "eventfd";
	if (d->req < 0)
		d->req = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->cfg < 0)
		d->cfg = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->req < 0 || d->cfg < 0)
		return -errno;
	*step = "SET_IRQS REQ";
	rc = set_irq(d->dev, VFIO_AP_REQ_IRQ_INDEX, d->req);
	if (rc)
		return rc;
	/*
	 * Without CFG_CHG (Linux 6.12's own vfio_ap lacks it) the device is
	 * still usable; the checks of CFG_CHG fail on their own.
	 */
	d->cfg_err = set_irq(d->dev, VFIO_AP_CFG_CHG_IRQ_INDEX, d->cfg);
	return 0;
}

/* QEMU's way to the device: group, container, KVM-VFIO, device. */
static int vdev_open(struct vdev *d, struct vm *vm, const char *uuid,
		     const char **step)
{
	int rc;

	rc = vdev_group(d, vm, uuid, -1, step);
	return rc ? rc : vdev_get(d, uuid, step);
}

static void vdev_close(struct vdev *d)
{
	close_fd(&d->dev);
	close_fd(&d->group);
	close_fd(&d->container);
	close_fd(&d->req);
	close_fd(&d->cfg);
}

/* Signals on eventfd @fd since it was last read: 0 if none, -1 on error. */
static long efd_take(int fd)
{
	__u64 v;
	ssize_t n;

	n = read(fd, &v, sizeof(v));
	if (n == sizeof(v))
		return (long)v;
	return n < 0 && errno == EAGAIN ? 0 : -1;
}

static int crycb_read(const struct vm *vm, char *buf, size_t size)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/crycb", vm->dbg);
	n = sysfs_read(path, buf, size);
	return n < 0 ? n : 0;
}

static int pqap_hook_read(const struct vm *vm)
{
	char path[128], buf[16];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/pqap_hook", vm->dbg);
	n = sysfs_read(path, buf, sizeof(buf));
	return n < 0 ? n : atoi(buf);
}

/*
 * The CRYCB the driver's sysfs promises for @uuid: the adapters and
 * domains of guest_matrix, and the assigned control domains the host has.
 */
static int crycb_from_sysfs(const char *uuid, struct ap_matrix *mx)
{
	char buf[16384], *line, *save, *dot;
	struct ap_matrix host;
	struct ap_mask cd;
	ssize_t n;

	memset(mx, 0, sizeof(*mx));
	n = mdev_read(uuid, "guest_matrix", buf, sizeof(buf));
	if (n < 0)
		return n;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		dot = strchr(line, '.');
		if (!dot)
			return -EINVAL;
		if (dot != line)
			mask_set(&mx->apm, strtoul(line, NULL, 16));
		if (dot[1])
			mask_set(&mx->aqm, strtoul(dot + 1, NULL, 16));
	}
	n = mdev_read(uuid, "control_domains", buf, sizeof(buf));
	if (n < 0)
		return n;
	mask_clear(&cd);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		mask_set(&cd, strtoul(line, NULL, 16));
	n = sim_host(&host);
	if (n < 0)
		return n;
	mask_and(&mx->adm, &cd, &host.adm);
	return 0;
}

/*
 * The guest's CRYCB holds adapters @apm, domains @aqm and control domains
 * @adm (ID lists), and, if @uuid is not NULL, agrees with that mdev's
 * guest_matrix and control domains.
 */
static void expect_crycb(struct __test_metadata *_metadata,
			 const struct vm *vm, const char *uuid,
			 const char *apm, const char *aqm, const char *adm)
{
	char want[256], from_sysfs[256], got[512];
	struct ap_matrix mx;

	ASSERT_EQ(0, ids_parse(apm, &mx.apm));
	ASSERT_EQ(0, ids_parse(aqm, &mx.aqm));
	ASSERT_EQ(0, ids_parse(adm, &mx.adm));
	matrix_fmt_crycb(&mx, want);
	ASSERT_EQ(0, crycb_read(vm, got, sizeof(got)))
		TH_LOG("no crycb in %s: is the lab's KVM patch applied?",
		       vm->dbg);
	EXPECT_STREQ(want, got) TH_LOG("CRYCB APM/AQM/ADM of the guest");
	if (!uuid)
		return;
	ASSERT_EQ(0, crycb_from_sysfs(uuid, &mx));
	matrix_fmt_crycb(&mx, from_sysfs);
	EXPECT_STREQ(from_sysfs, got)
		TH_LOG("CRYCB against guest_matrix/control_domains of %s",
		       uuid);
}

static void expect_crycb_clear(struct __test_metadata *_metadata,
			       const struct vm *vm)
{
	expect_crycb(_metadata, vm, NULL, "", "", "");
}

/* CFG_CHG of @d was signalled @n times since the last look. */
static void expect_cfg_chg(struct __test_metadata *_metadata,
			   const struct vdev *d, long n, int line)
{
	if (d->cfg_err) {
		EXPECT_EQ(0, d->cfg_err)
			TH_LOG("line %d: no CFG_CHG eventfd: SET_IRQS: %s",
			       line, strerror(-d->cfg_err));
		return;
	}
	EXPECT_EQ(n, efd_take(d->cfg))
		TH_LOG("CFG_CHG signals at line %d", line);
}

#define EXPECT_CFG_CHG(d, n)	expect_cfg_chg(_metadata, d, n, __LINE__)

FIXTURE(kvm) {
	struct vm vm;
	struct vdev a;
	struct ap_counters c;
	int kmsg;
};

FIXTURE_SETUP(kvm)
{
	const char *step = "";
	int rc;

	vm_init(&self->vm);
	vdev_init(&self->a);
	self->kmsg = kmsg_open();
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xab"));
	expect_attr(_metadata, UUID_A, "guest_matrix", GUEST_A);
	rc = vm_create(&self->vm, &step);
	ASSERT_EQ(0, rc) TH_LOG("VM: %s: %s", step, strerror(-rc));
	rc = vdev_open(&self->a, &self->vm, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("mdev A: %s: %s", step, strerror(-rc));
	ASSERT_EQ(0, counters_zero());
}

FIXTURE_TEARDOWN(kvm)
{
	vdev_close(&self->a);
	vm_destroy(&self->vm);
	world_std();
	queues_rebind_withheld(self->kmsg);
	if (self->kmsg >= 0)
		close(self->kmsg);
}

#define ZAPQ(a, d)	counters_zapq(&self->c, a, d)
#define SNAP()		ASSERT_EQ(0, counters_snap(&self->c))

TEST_F(kvm, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_irq_info irq;
	unsigned int i;

	ASSERT_EQ(0, ioctl(self->a.dev, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ((__u32)(VFIO_DEVICE_FLAGS_AP | VFIO_DEVICE_FLAGS_RESET),
		  info.flags);
	EXPECT_EQ(0U, info.num_regions);
	EXPECT_EQ(2U, info.num_irqs);
	EXPECT_EQ(0, self->a.cfg_err) TH_LOG("SET_IRQS of CFG_CHG failed");
	for (i = 0; i < 2; i++) {
		memset(&irq, 0, sizeof(irq));
		irq.argsz = sizeof(irq);
		irq.index = i;
		ASSERT_EQ(0, ioctl(self->a.dev, VFIO_DEVICE_GET_IRQ_INFO, &irq))
			TH_LOG("index %u", i);
		EXPECT_EQ((__u32)VFIO_IRQ_INFO_EVENTFD, irq.flags);
		EXPECT_EQ(1U, irq.count);
	}
	memset(&irq, 0, sizeof(irq));
	irq.argsz = sizeof(irq);
	irq.index = 2;
	EXPECT_EQ(-1, ioctl(self->a.dev, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(kvm, open_sets_crycb_and_hook)
{
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");
	EXPECT_EQ(1, pqap_hook_read(&self->vm));
	expect_status(_metadata, 5, 4, "in use\n");
	expect_status(_metadata, 6, 0xab, "in use\n");
	expect_status(_metadata, 5, 0x47, "unassigned\n");
	EXPECT_CFG_CHG(&self->a, 0);
	EXPECT_EQ(0, efd_take(self->a.req));
}

TEST_F(kvm, set_irqs_replace_and_release)
{
	int e2 = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	ASSERT_LE(0, e2);
	ASSERT_EQ(0, set_irq(self->a.dev, VFIO_AP_CFG_CHG_IRQ_INDEX, e2));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	EXPECT_EQ(1, efd_take(e2));
	EXPECT_CFG_CHG(&self->a, 0);
	EXPECT_EQ(0, efd_take(self->a.req));

	ASSERT_EQ(0, set_irq(self->a.dev, VFIO_AP_CFG_CHG_IRQ_INDEX, -1));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "0x47"));
	EXPECT_EQ(0, efd_take(e2));
	EXPECT_CFG_CHG(&self->a, 0);
	/* no eventfd, but the guest is still updated */
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");

	ASSERT_EQ(0, set_irq(self->a.dev, VFIO_AP_CFG_CHG_IRQ_INDEX,
			     self->a.cfg));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	EXPECT_CFG_CHG(&self->a, 1);
	EXPECT_EQ(0, efd_take(e2));
	close(e2);
}

TEST_F(kvm, set_irqs_bad_arguments)
{
	struct {
		struct vfio_irq_set hdr;
		__s32 fd;
	} s = {
		.hdr = {
			.argsz = sizeof(s),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = 2,
			.count = 1,
		},
		.fd = self->a.cfg,
	};

	EXPECT_EQ(-1, ioctl(self->a.dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	s.hdr.index = VFIO_AP_CFG_CHG_IRQ_INDEX;
	s.hdr.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	EXPECT_EQ(-1, ioctl(self->a.dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	/* the registered eventfd survived the failed calls */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	EXPECT_CFG_CHG(&self->a, 1);
}

TEST_F(kvm, assign_and_unassign_update_guest)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0x47,0xab",
		     "0xab");
	expect_status(_metadata, 5, 0x47, "in use\n");

	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0x47,0xab",
		     "4,0xab");

	ASSERT_EQ(0, counters_zero());
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_adapter", "6"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5", "4,0x47,0xab",
		     "4,0xab");
	SNAP();
	EXPECT_LE(1U, ZAPQ(6, 4));
	EXPECT_LE(1U, ZAPQ(6, 0x47));
	EXPECT_LE(1U, ZAPQ(6, 0xab));
	EXPECT_EQ(0U, ZAPQ(5, 4));
	EXPECT_EQ(0U, ZAPQ(5, 0xab));
	expect_status(_metadata, 6, 4, "unassigned\n");

	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5", "0x47,0xab",
		     "4,0xab");
	EXPECT_EQ(0, efd_take(self->a.req));
}

TEST_F(kvm, no_signal_without_guest_change)
{
	struct ap_matrix mx;
	char cfg[256];

	/* adapter 8 is not in the host: nothing for the guest yet */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	EXPECT_CFG_CHG(&self->a, 0);
	/* the same configuration again */
	ASSERT_EQ(0, mdev_config(UUID_A, &mx));
	matrix_fmt_config(&mx, cfg);
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", cfg));
	EXPECT_CFG_CHG(&self->a, 0);
	/* the host gains what no mdev has */
	ASSERT_EQ(0, sim_write("add_adapter", "9"));
	ASSERT_EQ(0, sim_write("add_adapter", "10"));
	ASSERT_EQ(0, sim_write("add_domain", "3"));
	EXPECT_CFG_CHG(&self->a, 0);
	/* another mdev's assignments */
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "9"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "4"));
	EXPECT_CFG_CHG(&self->a, 0);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");
}

TEST_F(kvm, host_adapter_changes)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	EXPECT_CFG_CHG(&self->a, 0);
	ASSERT_EQ(0, sim_write("add_adapter", "8"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6,8", "4,0xab", "0xab");
	expect_status(_metadata, 8, 0xab, "in use\n");

	ASSERT_EQ(0, counters_zero());
	ASSERT_EQ(0, sim_write("remove_adapter", "6"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,8", "4,0xab", "0xab");
	SNAP();
	EXPECT_EQ(0U, ZAPQ(5, 4));
	EXPECT_EQ(0U, ZAPQ(8, 0xab));

	ASSERT_EQ(0, sim_write("add_adapter", "6"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6,8", "4,0xab", "0xab");
}

TEST_F(kvm, host_domain_changes)
{
	ASSERT_EQ(0, sim_write("remove_domain", "0xab"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4", "0xab");
	ASSERT_EQ(0, counters_zero());
	ASSERT_EQ(0, sim_write("add_domain", "0xab"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");
	/* an arriving domain takes nothing away: the guest's queues stay */
	SNAP();
	EXPECT_EQ(0U, ZAPQ(5, 4));
	EXPECT_EQ(0U, ZAPQ(6, 4));
}

TEST_F(kvm, host_control_domain_changes)
{
	ASSERT_EQ(0, sim_write("remove_control_domain", "0xab"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "");
	ASSERT_EQ(0, sim_write("add_control_domain", "0xab"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");
}

TEST_F(kvm, queue_unbind_withholds_adapter)
{
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "6", "4,0xab", "0xab");
	SNAP();
	/* the queue of adapter 5 the guest lost without an unbind */
	EXPECT_LE(1U, ZAPQ(5, 0xab));
	EXPECT_EQ(0U, ZAPQ(6, 4));
	EXPECT_EQ(0U, ZAPQ(6, 0xab));

	ASSERT_EQ(0, queue_bind_vfio(5, 4));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");
	expect_status(_metadata, 5, 4, "in use\n");
}

TEST_F(kvm, second_mdev_same_vm_is_refused)
{
	struct vdev b;
	const char *step = "";
	int rc, fd;

	vdev_init(&b);
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	/* as QEMU does: same container, group on the same KVM-VFIO device */
	rc = vdev_group(&b, &self->vm, UUID_B, self->a.container, &step);
	ASSERT_EQ(0, rc) TH_LOG("mdev B: %s: %s", step, strerror(-rc));
	fd = ioctl(b.group, VFIO_GROUP_GET_DEVICE_FD, UUID_B);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EPERM, errno);
	if (fd >= 0)
		close(fd);
	vdev_close(&b);

	EXPECT_CFG_CHG(&self->a, 0);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");
	EXPECT_EQ(1, pqap_hook_read(&self->vm));
	expect_status(_metadata, 5, 0x47, "assigned\n");
	/* A still serves the guest */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xff"));
	EXPECT_CFG_CHG(&self->a, 1);
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab,0xff",
		     "0xab");
}

TEST_F(kvm, second_vm_gets_its_own_mdev)
{
	struct vm vm2;
	struct vdev b;
	const char *step = "";
	int rc;

	vm_init(&vm2);
	vdev_init(&b);
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	rc = vm_create(&vm2, &step);
	ASSERT_EQ(0, rc) TH_LOG("VM 2: %s: %s", step, strerror(-rc));
	rc = vdev_open(&b, &vm2, UUID_B, &step);
	ASSERT_EQ(0, rc) TH_LOG("mdev B: %s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &vm2, UUID_B, "5", "0x47", "");
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");
	EXPECT_EQ(1, pqap_hook_read(&vm2));

	/* a host change reaches both, each with its own view */
	ASSERT_EQ(0, sim_write("remove_adapter", "5"));
	EXPECT_CFG_CHG(&self->a, 1);
	EXPECT_CFG_CHG(&b, 1);
	expect_crycb(_metadata, &vm2, UUID_B, "", "0x47", "");
	expect_crycb(_metadata, &self->vm, UUID_A, "6", "4,0xab", "0xab");

	vdev_close(&b);
	expect_crycb_clear(_metadata, &vm2);
	EXPECT_EQ(0, pqap_hook_read(&vm2));
	expect_crycb(_metadata, &self->vm, UUID_A, "6", "4,0xab", "0xab");
	vm_destroy(&vm2);
}

TEST_F(kvm, open_without_kvm_fails)
{
	struct vdev b;
	const char *step = "";
	int rc, fd;

	vdev_init(&b);
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	rc = vdev_group(&b, NULL, UUID_B, -1, &step);
	ASSERT_EQ(0, rc) TH_LOG("mdev B: %s: %s", step, strerror(-rc));
	fd = ioctl(b.group, VFIO_GROUP_GET_DEVICE_FD, UUID_B);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EINVAL, errno);
	if (fd >= 0)
		close(fd);
	vdev_close(&b);
	expect_status(_metadata, 5, 0x47, "assigned\n");
}

TEST_F(kvm, device_reset_resets_guest_queues)
{
	ASSERT_EQ(0, ioctl(self->a.dev, VFIO_DEVICE_RESET));
	SNAP();
	EXPECT_LE(1U, ZAPQ(5, 4));
	EXPECT_LE(1U, ZAPQ(5, 0xab));
	EXPECT_LE(1U, ZAPQ(6, 4));
	EXPECT_LE(1U, ZAPQ(6, 0xab));
	EXPECT_EQ(0U, ZAPQ(5, 0x47));
	EXPECT_EQ(0U, ZAPQ(7, 4));
	/* the guest keeps its configuration */
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0xab", "0xab");
	EXPECT_CFG_CHG(&self->a, 0);
	EXPECT_EQ(1, pqap_hook_read(&self->vm));
}

TEST_F(kvm, close_resets_and_clears)
{
	close_fd(&self->a.dev);
	SNAP();
	EXPECT_LE(1U, ZAPQ(5, 4));
	EXPECT_LE(1U, ZAPQ(5, 0xab));
	EXPECT_LE(1U, ZAPQ(6, 4));
	EXPECT_LE(1U, ZAPQ(6, 0xab));
	EXPECT_EQ(0U, ZAPQ(5, 0x47));
	EXPECT_EQ(0U, ZAPQ(7, 4));
	expect_crycb_clear(_metadata, &self->vm);
	EXPECT_EQ(0, pqap_hook_read(&self->vm));
	expect_status(_metadata, 5, 4, "assigned\n");
	expect_status(_metadata, 6, 0xab, "assigned\n");
	EXPECT_CFG_CHG(&self->a, 0);
	/* changes reach neither the closed device's eventfd nor the CRYCB */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	EXPECT_CFG_CHG(&self->a, 0);
	expect_crycb_clear(_metadata, &self->vm);
}

TEST_F(kvm, reopen_after_close)
{
	const char *step = "";
	int rc;

	/* the group stays with the container and the KVM-VFIO device */
	close_fd(&self->a.dev);
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	EXPECT_CFG_CHG(&self->a, 0);
	rc = vdev_get(&self->a, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("mdev A again: %s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->vm, UUID_A, "5,6", "4,0x47,0xab",
		     "0xab");
	EXPECT_EQ(1, pqap_hook_read(&self->vm));
	expect_status(_metadata, 5, 0x47, "in use\n");
}

/* The remover: no VFIO or KVM file of ours may keep the device open. */
static pid_t remove_in_child(struct vdev *d, struct vm *vm)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	vdev_close(d);
	vm_destroy(vm);
	_exit(mdev_remove(UUID_A) ? 1 : 0);
}

/*
 * abi.md 8: removing an mdev the guest still holds takes its adapters,
 * domains and control domains away at once (APCB cleared, CFG_CHG
 * signalled, the queues reset) and only then asks the VMM through REQ,
 * so a slow or hung VMM keeps nothing. The removal itself waits for the
 * close. The driver core has taken the mdev's attributes away by the time
 * the driver's remove runs, so guest_matrix is gone or, if a kernel kept
 * it, empty; the queues' status shows what the guest has.
 */
TEST_F(kvm, remove_while_open_asks_and_waits)
{
	struct pollfd p = { .fd = self->a.req, .events = POLLIN };
	unsigned int zapq[4];
	char buf[256];
	ssize_t n;
	int status;
	pid_t pid;

	pid = remove_in_child(&self->a, &self->vm);
	ASSERT_LT(0, pid);
	ASSERT_EQ(1, poll(&p, 1, REQ_TIMEOUT_MS))
		TH_LOG("no REQ signal within %d ms", REQ_TIMEOUT_MS);
	EXPECT_LE(1, efd_take(self->a.req));
	/* everything below happened before REQ was signalled */
	expect_crycb_clear(_metadata, &self->vm);
	EXPECT_CFG_CHG(&self->a, 1);
	n = mdev_read(UUID_A, "guest_matrix", buf, sizeof(buf));
	EXPECT_TRUE(n == -ENOENT || n == 0)
		TH_LOG("guest_matrix: %zd '%.*s'", n, (int)(n > 0 ? n : 0), buf);
	expect_status(_metadata, 5, 4, "assigned\n");
	expect_status(_metadata, 6, 0xab, "assigned\n");
	SNAP();
	zapq[0] = ZAPQ(5, 4);
	zapq[1] = ZAPQ(5, 0xab);
	zapq[2] = ZAPQ(6, 4);
	zapq[3] = ZAPQ(6, 0xab);
	EXPECT_LE(1U, zapq[0]) TH_LOG("05.0004 not reset");
	EXPECT_LE(1U, zapq[1]) TH_LOG("05.00ab not reset");
	EXPECT_LE(1U, zapq[2]) TH_LOG("06.0004 not reset");
	EXPECT_LE(1U, zapq[3]) TH_LOG("06.00ab not reset");
	EXPECT_EQ(0U, ZAPQ(5, 0x47));
	EXPECT_EQ(0U, ZAPQ(7, 4));
	/* the removal waits for us */
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	EXPECT_TRUE(mdev_exists(UUID_A));

	close_fd(&self->a.dev);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("mdev removal failed (status 0x%x)", status);
	EXPECT_FALSE(mdev_exists(UUID_A));
	expect_crycb_clear(_metadata, &self->vm);
	EXPECT_EQ(0, pqap_hook_read(&self->vm));
	EXPECT_CFG_CHG(&self->a, 0);
	/* the guest had nothing left: close and removal reset nothing more */
	SNAP();
	EXPECT_EQ(zapq[0], ZAPQ(5, 4));
	EXPECT_EQ(zapq[1], ZAPQ(5, 0xab));
	EXPECT_EQ(zapq[2], ZAPQ(6, 4));
	EXPECT_EQ(zapq[3], ZAPQ(6, 0xab));
	expect_status(_metadata, 5, 4, "unassigned\n");
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * A guest as QEMU builds one for vfio-ap; see vfio_ap_kvm.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#include <linux/vfio.h>

#include "vfio_ap_kvm.h"

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

/* KVM on s390 wants memory slots on segment (1 MiB) boundaries. */
#define SEGMENT_SIZE			(1024UL * 1024)

void kvm_guest_init(struct kvm_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->kvm = -1;
	g->vm = -1;
	g->vcpu = -1;
	g->kvm_vfio = -1;
}

void kvm_vdev_init(struct kvm_vdev *d)
{
	d->container = -1;
	d->group = -1;
	d->dev = -1;
	d->req = -1;
	d->cfg = -1;
}

void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* KVM_CREATE_VM needs PGSTE, which a process started after this has. */
static int pgste_err;

static void __attribute__((constructor)) kvm_pgste_enable(void)
{
	pgste_err = sysfs_write("/proc/sys/vm/allocate_pgste", "1");
}

static int vm_attr(int vm, __u32 group, __u64 attr, void *data, bool set)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uintptr_t)data,
	};

	return ioctl(vm, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR, &a) ?
	       -errno : 0;
}

/* -cpu host: every facility the machine offers, AP interrupts (65) too. */
static int vm_cpu_model_host(int vm)
{
	struct kvm_s390_vm_cpu_machine mach;
	struct kvm_s390_vm_cpu_processor proc;
	int rc;

	rc = vm_attr(vm, KVM_S390_VM_CPU_MODEL, KVM_S390_VM_CPU_MACHINE,
		     &mach, false);
	if (rc)
		return rc;
	memset(&proc, 0, sizeof(proc));
	proc.cpuid = mach.cpuid;
	proc.ibc = mach.ibc;
	memcpy(proc.fac_list, mach.fac_mask, sizeof(proc.fac_list));
	return vm_attr(vm, KVM_S390_VM_CPU_MODEL, KVM_S390_VM_CPU_PROCESSOR,
		       &proc, true);
}

/* @size bytes at a segment boundary, zeroed. */
static void *segment_alloc(size_t size)
{
	size_t len = size + SEGMENT_SIZE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + SEGMENT_SIZE - 1) & ~(SEGMENT_SIZE - 1);
	memset((void *)a, 0, size);
	return (void *)a;
}

int kvm_guest_create(struct kvm_guest *g, const char **step)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	struct kvm_userspace_memory_region slot = { .slot = 0 };
	int rc;

	*step = "allocate_pgste";
	if (pgste_err)
		return pgste_err;
	*step = "open /dev/kvm";
	g->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm < 0)
		return -errno;
	*step = "KVM_CREATE_VM";
	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		return -errno;
	snprintf(g->dbg, sizeof(g->dbg), KVM_DEBUGFS "/%d-%d", getpid(),
		 g->vm);
	*step = "CPU model";
	rc = vm_cpu_model_host(g->vm);
	if (rc)
		return rc;
	*step = "APIE";
	rc = vm_attr(g->vm, KVM_S390_VM_CRYPTO,
		     KVM_S390_VM_CRYPTO_ENABLE_APIE, NULL, true);
	if (rc)
		return rc;
	*step = "guest memory";
	g->mem = segment_alloc(GUEST_MEM_SIZE);
	g->foreign = segment_alloc(GUEST_MEM_SIZE);
	if (!g->mem || !g->foreign)
		return -ENOMEM;
	slot.memory_size = GUEST_MEM_SIZE;
	slot.userspace_addr = (uintptr_t)g->mem;
	*step = "KVM_SET_USER_MEMORY_REGION";
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return -errno;
	*step = "KVM_CREATE_VCPU";
	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		return -errno;
	*step = "KVM_CREATE_DEVICE VFIO";
	if (ioctl(g->vm, KVM_CREATE_DEVICE, &cd))
		return -errno;
	g->kvm_vfio = cd.fd;
	return 0;
}

void kvm_guest_destroy(struct kvm_guest *g)
{
	close_fd(&g->kvm_vfio);
	close_fd(&g->vcpu);
	close_fd(&g->vm);
	close_fd(&g->kvm);
}

static int group_of(const char *uuid)
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

static int dma_map(int container, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

int kvm_vdev_unmap(struct kvm_vdev *d, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	return ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

static int set_eventfd(int dev, unsigned int index, int fd)
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
			.count = 1,
		},
		.fd = fd,
	};

	return ioctl(dev, VFIO_DEVICE_SET_IRQS, &s) ? -errno : 0;
}

static int vdev_container(struct kvm_vdev *d, struct kvm_guest *g,
			  const char **step)
{
	int rc;

	*step = "open /dev/vfio/vfio";
	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		return -errno;
	*step = "VFIO_GROUP_SET_CONTAINER";
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container))
		return -errno;
	*step = "VFIO_SET_IOMMU type1v2";
	if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	*step = "VFIO_IOMMU_MAP_DMA";
	rc = dma_map(d->container, g->mem, 0, GUEST_MEM_SIZE);
	return rc ? rc : dma_map(d->container, g->foreign, FOREIGN_IOVA,
				 GUEST_MEM_SIZE);
}

int kvm_vdev_open(struct kvm_vdev *d, struct kvm_guest *g, const char *uuid,
		  const char **step)
{
	struct kvm_device_attr add = {
		.group = KVM_DEV_VFIO_FILE,
		.attr = KVM_DEV_VFIO_FILE_ADD,
	};
	char path[64];
	int nr, rc;

	*step = "iommu_group";
	nr = group_of(uuid);
	if (nr < 0)
		return nr;
	snprintf(path, sizeof(path), "/dev/vfio/%d", nr);
	*step = "open group";
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		return -errno;
	rc = vdev_container(d, g, step);
	if (rc)
		return rc;
	*step = "KVM_DEV_VFIO_FILE_ADD";
	add.addr = (uintptr_t)&d->group;
	if (ioctl(g->kvm_vfio, KVM_SET_DEVICE_ATTR, &add))
		return -errno;
	*step = "VFIO_GROUP_GET_DEVICE_FD";
	d->dev = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (d->dev < 0)
		return -errno;
	*step = "eventfds";
	d->req = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->cfg = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->req < 0 || d->cfg < 0)
		return -errno;
	rc = set_eventfd(d->dev, VFIO_AP_REQ_IRQ_INDEX, d->req);
	/* The reference module (6.12) has no CFG_CHG: not needed here. */
	set_eventfd(d->dev, VFIO_AP_CFG_CHG_IRQ_INDEX, d->cfg);
	return rc;
}

void kvm_vdev_close(struct kvm_vdev *d)
{
	close_fd(&d->dev);
	close_fd(&d->group);
	close_fd(&d->container);
	close_fd(&d->req);
	close_fd(&d->cfg);
}

static int dbg_path(const struct kvm_guest *g, const char *file, char *out,
		    size_t size)
{
	int n = snprintf(out, size, "%s/%s", g->dbg, file);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int pqap(const struct kvm_guest *g, uint64_t gr0, uint64_t gr1, uint64_t gr2,
	 bool pstate, struct pqap_result *res)
{
	char path[128], cmd[128], out[128];
	unsigned long long r1;
	int fd, n, rc = 0;
	ssize_t len;

	if (dbg_path(g, "pqap", path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(cmd, sizeof(cmd), "0 0x%llx 0x%llx 0x%llx %d",
		     (unsigned long long)gr0, (unsigned long long)gr1,
		     (unsigned long long)gr2, pstate ? 1 : 0);
	if (write(fd, cmd, n) != n) {
		rc = -errno;
		goto out;
	}
	len = read(fd, out, sizeof(out) - 1);
	if (len <= 0) {
		rc = len < 0 ? -errno : -EIO;
		goto out;
	}
	out[len] = '\0';
	if (sscanf(out, "ret=%d cc=%u gr1=0x%llx pgm=0x%x", &res->ret,
		   &res->cc, &r1, &res->pgm) != 4)
		rc = -EPROTO;
	res->gr1 = r1;
out:
	close(fd);
	return rc;
}

int gisa_read(const struct kvm_guest *g, struct gisa_info *gi)
{
	char path[128], buf[256];
	unsigned long long origin;
	unsigned int mask;
	ssize_t n;

	if (dbg_path(g, "gisa", path, sizeof(path)))
		return -ENAMETOOLONG;
	n = sysfs_read(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (sscanf(buf, "origin=0x%llx format=%u mask=0x%x refs=%u,%u,%u,%u,%u,%u,%u,%u",
		   &origin, &gi->format, &mask, &gi->refs[0], &gi->refs[1],
		   &gi->refs[2], &gi->refs[3], &gi->refs[4], &gi->refs[5],
		   &gi->refs[6], &gi->refs[7]) != 11)
		return -EPROTO;
	gi->origin = origin;
	return 0;
}

int aiv_set(const struct kvm_guest *g, bool on)
{
	char path[128];

	if (dbg_path(g, "aiv", path, sizeof(path)))
		return -ENAMETOOLONG;
	return sysfs_write(path, on ? "0 1" : "0 0");
}

long pinned_pages(void)
{
	char buf[32];
	ssize_t n = sysfs_read(PINNED_FILE, buf, sizeof(buf));

	return n < 0 ? n : strtol(buf, NULL, 10);
}

uint64_t guest_phys_to_host(const struct kvm_guest *g, uint64_t gpa)
{
	uintptr_t va = (uintptr_t)g->mem + gpa;
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t entry;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  (va / psize) * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	/* bit 63: present; bits 0-54: the page frame number */
	if (!(entry >> 63))
		return 0;
	return (entry & ((1ULL << 55) - 1)) * psize + va % psize;
}

static int counters_read(char *buf, size_t size)
{
	ssize_t n = sysfs_read(AP_SIM_DIR "/counters", buf, size);

	return n < 0 ? (int)n : 0;
}

static const char *counters_line(const char *buf, unsigned int apid,
				 unsigned int apqi)
{
	char name[16];
	const char *p;

	snprintf(name, sizeof(name), "%02x.%04x ", apid, apqi);
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, strlen(name)))
			return p;
	return NULL;
}

static unsigned long long field(const char *line, const char *key)
{
	const char *end = strchr(line, '\n');
	const char *p = strstr(line, key);

	if (!p || (end && p > end))
		return 0;
	return strtoull(p + strlen(key), NULL, 0);
}

int sim_irq_get(unsigned int apid, unsigned int apqi, struct sim_irq *si)
{
	static char buf[1 << 20];
	const char *line;
	int rc = counters_read(buf, sizeof(buf));

	memset(si, 0, sizeof(*si));
	if (rc)
		return rc;
	line = counters_line(buf, apid, apqi);
	if (!line)
		return 0;
	si->on = field(line, " irq=");
	si->isc = field(line, " isc=");
	si->gisc = field(line, " gisc=");
	si->gf = field(line, " gf=");
	si->gisa = field(line, " gisa=");
	si->nib = field(line, " nib=");
	return 0;
}

int sim_guest_irqs(void)
{
	static char buf[1 << 20];
	const char *p;
	int n = 0, rc = counters_read(buf, sizeof(buf));

	if (rc)
		return rc;
	/* The AP bus enables interrupts of its own queues without a GISA. */
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (field(p, " irq=") && field(p, " gisa="))
			n++;
	return n;
}

long sim_zapq(unsigned int apid, unsigned int apqi)
{
	static char buf[1 << 20];
	const char *line;
	int rc = counters_read(buf, sizeof(buf));

	if (rc)
		return rc;
	line = counters_line(buf, apid, apqi);
	return line ? (long)field(line, " zapq=") : 0;
}

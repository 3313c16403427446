/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest as QEMU builds one for vfio-ap, for tests that act as the VMM:
 * a KVM VM with the host's CPU model, one vCPU (never run: the lab's KVM
 * has no SIE), guest memory in a KVM memory slot that the VFIO container
 * maps at the same addresses, and the mdev opened through its group.
 *
 * The lab kernel's debugfs (patches/0002-kvm-s390-lab-pqap-gisa.patch)
 * lets such a test run KVM's PQAP intercept on the vCPU and see the
 * GISA's guest ISC registrations and the pages VFIO has pinned.
 */
#ifndef VFIO_AP_KVM_H
#define VFIO_AP_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "vfio_ap_util.h"

#define KVM_DEBUGFS		"/sys/kernel/debug/kvm"
#define GISC_FAIL_FILE		"/sys/kernel/debug/kvm_s390_lab_gisc_fail"
#define PINNED_FILE		"/sys/kernel/debug/vfio_type1_lab_pinned"

/* Guest memory: one KVM slot at guest address 0, mapped for DMA too. */
#define GUEST_MEM_SIZE		(1024UL * 1024)
/* A DMA mapping that is no guest memory: not in any KVM memory slot. */
#define FOREIGN_IOVA		(16UL << 20)

struct kvm_guest {
	int kvm, vm, vcpu, kvm_vfio;
	void *mem;		/* GUEST_MEM_SIZE bytes at guest address 0 */
	void *foreign;		/* GUEST_MEM_SIZE bytes at FOREIGN_IOVA */
	char dbg[64];
};

struct kvm_vdev {
	int container, group, dev;
	int req, cfg;
};

/* What KVM's PQAP intercept handler left behind. */
struct pqap_result {
	int ret;		/* handle_pqap()'s return value */
	unsigned int cc;	/* condition code */
	uint64_t gr1;		/* GR1: the AP queue status in bits 32-63 */
	unsigned int pgm;	/* program interruption injected, 0 if none */
};

/* The guest ISC registrations of a VM's GISA. */
struct gisa_info {
	uint64_t origin;
	unsigned int format;
	unsigned int refs[8];
};

/* What the simulator shows of one queue's interruption controls. */
struct sim_irq {
	bool on;
	unsigned int isc, gisc, gf;
	uint64_t gisa, nib;
};

/* GR0 of PQAP(AQIC) for APQN @apid.@apqi. */
#define AQIC_GR0(apid, apqi)	((3UL << 24) | ((apid) << 8) | (apqi))
/* GR1 of PQAP(AQIC): enable (ir) with guest ISC @isc, or disable. */
#define AQIC_GR1_ON(isc)	((1UL << 47) | (isc))
#define AQIC_GR1_OFF		0UL
#define GR1_RC(gr1)		((unsigned int)((gr1) >> 16) & 0xff)
#define GR1_IRQ(gr1)		((unsigned int)((gr1) >> 24) & 1)

void kvm_guest_init(struct kvm_guest *g);
void kvm_vdev_init(struct kvm_vdev *d);
void close_fd(int *fd);

/* VM, host CPU model, vCPU 0, memory, KVM-VFIO device; @step says where. */
int kvm_guest_create(struct kvm_guest *g, const char **step);
void kvm_guest_destroy(struct kvm_guest *g);

/*
 * mdev @uuid's group into a new type1 container, guest memory and the
 * foreign range mapped for DMA, the group on the VM's KVM-VFIO device, the
 * device opened and REQ and CFG_CHG eventfds registered.
 */
int kvm_vdev_open(struct kvm_vdev *d, struct kvm_guest *g, const char *uuid,
		  const char **step);
void kvm_vdev_close(struct kvm_vdev *d);
int kvm_vdev_unmap(struct kvm_vdev *d, uint64_t iova, uint64_t size);

/* Run PQAP on vCPU 0 with @gr0..@gr2, in problem state if @pstate. */
int pqap(const struct kvm_guest *g, uint64_t gr0, uint64_t gr1, uint64_t gr2,
	 bool pstate, struct pqap_result *res);
int gisa_read(const struct kvm_guest *g, struct gisa_info *gi);
int aiv_set(const struct kvm_guest *g, bool on);
/* Pages VFIO has pinned for emulated devices, machine-wide; -errno. */
long pinned_pages(void);
/* Host physical address of the guest address @gpa (pagemap); 0 if none. */
uint64_t guest_phys_to_host(const struct kvm_guest *g, uint64_t gpa);

int sim_irq_get(unsigned int apid, unsigned int apqi, struct sim_irq *si);
/* Queues whose interrupts a guest (a GISA) enabled in the simulator. */
int sim_guest_irqs(void);
/* ZAPQs issued to @apid.@apqi since the counters were zeroed; -errno. */
long sim_zapq(unsigned int apid, unsigned int apqi);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * The PQAP hook: where KVM enters vfio_ap when a guest's vCPU issues
 * PQAP(AQIC).  It only decodes the registers and writes back the status;
 * what the instruction does to a queue is vfio_ap_irq.c's business.
 */

#include <linux/kvm_host.h>
#include <linux/lockdep.h>
#include <asm/ap.h>

#include "vfio_ap_private.h"
#include "vfio_ap_trace.h"

/* GR0 of PQAP: function code in bits 32-39, APQN in bits 48-63. */
#define VFIO_AP_PQAP_APQN_MASK	0xffffUL

static void vfio_ap_set_gr1_status(struct kvm_vcpu *vcpu,
				   struct ap_queue_status status)
{
	union ap_queue_status_reg reg;

	/* The status word is the low half of GR1; the high half is kept. */
	reg.value = vcpu->run->s.regs.gprs[1];
	reg.status = status;
	vcpu->run->s.regs.gprs[1] = reg.value;
}

/**
 * vfio_ap_pqap_hook() - handle a guest's PQAP(AQIC)
 * @vcpu: the vCPU that issued it
 *
 * KVM calls this with pqap_hook_rwsem read-held, after checking the
 * instruction's specification.  GR0 names the queue, GR1 holds the
 * interruption controls, GR2 the guest address of the NIB.  The status goes
 * back in GR1, from which KVM sets the condition code.
 *
 * Context: vCPU thread, kvm->srcu read-held; takes state_lock (in
 * vfio_ap_irq_aqic()).
 * Return: 0, the instruction is always handled here.
 */
int vfio_ap_pqap_hook(struct kvm_vcpu *vcpu)
{
	struct vfio_ap_mdev *m = container_of(vcpu->kvm->arch.crypto.pqap_hook,
					      struct vfio_ap_mdev, pqap_hook);
	unsigned long apqn = vcpu->run->s.regs.gprs[0] & VFIO_AP_PQAP_APQN_MASK;
	union ap_qirq_ctrl ctrl = { .value = vcpu->run->s.regs.gprs[1] };
	dma_addr_t nib = vcpu->run->s.regs.gprs[2];
	struct ap_queue_status status;

	lockdep_assert_held_read(&vcpu->kvm->arch.crypto.pqap_hook_rwsem);
	status = vfio_ap_irq_aqic(m, vcpu, apqn, ctrl, nib);

	trace_vfio_ap_irq(apqn, ctrl.ir, status.response_code);
	vfio_ap_set_gr1_status(vcpu, status);

	return 0;
}

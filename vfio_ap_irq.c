// SPDX-License-Identifier: GPL-2.0
/*
 * AP queue interrupts of a guest: what a PQAP(AQIC) asks of a queue (the
 * hook that decodes the instruction is in vfio_ap_pqap.c), and the NIB page
 * pin and guest ISC registration that back an enabled queue until it is
 * disabled, reset, unmapped or removed.
 *
 * VFIO calls the dma_unmap callback with its own locks held, and those
 * locks nest the other way round inside vfio_pin_pages() and
 * vfio_unpin_pages().  So state_lock, which dma_unmap needs, is never held
 * across a pin or an unpin: records are changed under state_lock, and the
 * page is pinned or unpinned after it is dropped.  Meanwhile the queue is
 * marked busy and the driver-wide count of such operations is raised;
 * dma_unmap and queue removal wait for that count to drop to zero.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/kvm_host.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/vfio.h>
#include <linux/wait.h>
#include <asm/ap.h>
#include <asm/kvm_host.h>
#include <asm/sclp.h>
#include <asm/uv.h>

#include "vfio_ap_private.h"
#include "vfio_ap_trace.h"

/*
 * NIB pins and unpins under way outside state_lock, and the waiters for
 * the count to drop to zero (dma_unmap, queue removal).
 */
static atomic_t vfio_ap_nib_pending = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(vfio_ap_nib_wait);

static struct ap_queue_status vfio_ap_status_rc(u8 response_code)
{
	struct ap_queue_status status = {};

	status.response_code = response_code;
	return status;
}

/* A pin or an unpin of @q's NIB is about to run outside state_lock. */
static void vfio_ap_nib_busy(struct vfio_ap_queue *q)
{
	q->irq_busy = true;
	atomic_inc(&vfio_ap_nib_pending);
}

static void vfio_ap_nib_idle(void)
{
	if (atomic_dec_and_test(&vfio_ap_nib_pending))
		wake_up_all(&vfio_ap_nib_wait);
}

/* Unpin @iova of @m once state_lock is dropped; see vfio_ap_irq_unpin(). */
static void vfio_ap_unpin_later(struct vfio_ap_queue *q, struct vfio_ap_mdev *m,
				dma_addr_t iova, struct list_head *unpins)
{
	q->unpin_mdev = m;
	q->unpin_iova = ALIGN_DOWN(iova, PAGE_SIZE);
	vfio_ap_nib_busy(q);
	list_add_tail(&q->unpin_node, unpins);
}

/**
 * vfio_ap_irq_release() - drop a queue's NIB pin and GISC registration
 * @q: the queue; nothing happens if its interrupts are not ours
 * @unpins: collects the NIB page for vfio_ap_irq_unpin()
 *
 * Call only once the queue's interrupts are off (reset, AQIC disable) or
 * the queue is gone: the machine may store into the NIB until then.
 *
 * Context: state_lock held.
 */
void vfio_ap_irq_release(struct vfio_ap_queue *q, struct list_head *unpins)
{
	struct vfio_ap_mdev *m = q->irq_mdev;

	vfio_ap_assert_state_locked();
	if (!m)
		return;
	kvm_s390_gisc_unregister(q->irq_kvm, q->gisc);
	list_del_init(&q->irq_node);
	vfio_ap_unpin_later(q, m, q->nib_iova, unpins);
	q->irq_mdev = NULL;
	q->irq_kvm = NULL;
	q->nib_iova = 0;
	trace_vfio_ap_irq(q->qid, false, AP_RESPONSE_NORMAL);
}

/**
 * vfio_ap_irq_unpin() - unpin the NIB pages vfio_ap_irq_release() collected
 * @unpins: the list; empty afterwards
 *
 * The queues stay allocated until this is done: removal waits for it.
 *
 * Context: state_lock not held; takes it.
 */
void vfio_ap_irq_unpin(struct list_head *unpins)
{
	struct vfio_ap_queue *q, *tmp;

	if (list_empty(unpins))
		return;
	list_for_each_entry(q, unpins, unpin_node)
		vfio_unpin_pages(&q->unpin_mdev->vdev, q->unpin_iova, 1);
	mutex_lock(&vfio_ap_drv.state_lock);
	list_for_each_entry_safe(q, tmp, unpins, unpin_node) {
		list_del_init(&q->unpin_node);
		q->unpin_mdev = NULL;
		q->irq_busy = false;
		vfio_ap_nib_idle();
	}
	mutex_unlock(&vfio_ap_drv.state_lock);
}

/**
 * vfio_ap_irq_wait_idle() - wait until no NIB is being pinned or unpinned
 *
 * Context: state_lock not held; sleeps.
 */
void vfio_ap_irq_wait_idle(void)
{
	wait_event(vfio_ap_nib_wait, !atomic_read(&vfio_ap_nib_pending));
}

/**
 * vfio_ap_irq_release_all() - release the interrupts of all of a guest's queues
 * @m: the mdev, whose guest is going away
 * @unpins: collects the NIB pages for vfio_ap_irq_unpin()
 *
 * Whatever is left here could not be confirmed off by a reset; the pins
 * must go all the same, because VFIO cannot outlive the guest's mappings.
 *
 * Context: state_lock held.
 */
void vfio_ap_irq_release_all(struct vfio_ap_mdev *m, struct list_head *unpins)
{
	struct vfio_ap_queue *q, *tmp;

	vfio_ap_assert_state_locked();
	list_for_each_entry_safe(q, tmp, &m->irq_queues, irq_node) {
		dev_warn(vfio_ap_mdev_dev(m),
			 "queue %02x.%04x: releasing the NIB page of interrupts not confirmed off\n",
			 vfio_ap_qid_apid(q->qid), vfio_ap_qid_apqi(q->qid));
		vfio_ap_irq_release(q, unpins);
	}
}

/**
 * vfio_ap_irq_get() - what a guest enabled on a queue's interrupts
 * @q: the queue
 * @m: the mdev whose guest is asked about
 * @gisc: gets the guest ISC the guest enabled them with
 * @nib: gets the guest address of the NIB
 *
 * Context: state_lock held.
 * Return: true if the guest of @m has the queue's interrupts on.
 */
bool vfio_ap_irq_get(const struct vfio_ap_queue *q,
		     const struct vfio_ap_mdev *m, u8 *gisc, dma_addr_t *nib)
{
	vfio_ap_assert_state_locked();
	if (q->irq_mdev != m)
		return false;
	*gisc = q->gisc;
	*nib = q->nib_iova;

	return true;
}

static void vfio_ap_irq_record(struct vfio_ap_queue *q, struct vfio_ap_mdev *m,
			       dma_addr_t nib, u8 gisc)
{
	vfio_ap_assert_state_locked();
	q->irq_mdev = m;
	q->irq_kvm = m->kvm;
	q->nib_iova = nib;
	q->gisc = gisc;
	list_add_tail(&q->irq_node, &m->irq_queues);
}

static union ap_qirq_ctrl vfio_ap_irq_ctrl(struct kvm *kvm, u8 gisc, int nisc)
{
	union ap_qirq_ctrl ctrl = {};

	ctrl.ir = 1;
	ctrl.isc = nisc;
	ctrl.gisc = gisc;
	ctrl.gf = sclp.has_gisaf ? 1 : 0;
	/* The GISA lies below 2 GiB; AQIC takes its origin in 16-byte units. */
	ctrl.gisa = (u32)virt_to_phys(kvm->arch.gisa_int.origin) >> 4;

	return ctrl;
}

/*
 * The guest resets queues itself (ZAPQ and RAPQ are not intercepted), which
 * turns their interrupts off behind our back.  If so, what we still hold
 * for the old enablement is stale: detach it so the guest can enable again;
 * *@stale gets the mdev whose NIB page the caller must unpin.
 */
static struct ap_queue_status vfio_ap_irq_stale_check(struct vfio_ap_queue *q,
						      struct vfio_ap_mdev **stale,
						      dma_addr_t *stale_iova)
{
	struct ap_queue_status status = ap_tapq(q->qid, NULL);

	vfio_ap_assert_state_locked();
	if (status.response_code != AP_RESPONSE_NORMAL)
		return status;
	if (status.irq_enabled)
		return vfio_ap_status_rc(AP_RESPONSE_OTHERWISE_CHANGED);
	*stale = q->irq_mdev;
	*stale_iova = q->nib_iova;
	kvm_s390_gisc_unregister(q->irq_kvm, q->gisc);
	list_del_init(&q->irq_node);
	q->irq_mdev = NULL;
	q->irq_kvm = NULL;
	q->nib_iova = 0;
	trace_vfio_ap_irq(q->qid, false, AP_RESPONSE_NORMAL);

	return status;
}

/*
 * Without adapter-interruption virtualization on the vCPU there is no GISA
 * path to deliver through.
 */
static bool vfio_ap_vcpu_has_aiv(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.sie_block->eca & ECA_AIV;
}

/* The NIB must be guest memory, or the pin would hand out a foreign page. */
static bool vfio_ap_nib_valid(struct kvm *kvm, dma_addr_t nib)
{
	return nib && kvm_is_gpa_in_memslot(kvm, nib);
}

/*
 * A Secure Execution guest's page is secure unless it shared it; the
 * adapter must never store into a secure page.
 */
static bool vfio_ap_nib_page_usable(struct kvm *kvm, struct page *page)
{
	if (!READ_ONCE(kvm->arch.pv.handle))
		return true;
	return !uv_pin_shared(page_to_phys(page));
}

/* Context: state_lock not held (see the top of this file). */
static int vfio_ap_nib_pin(struct vfio_ap_mdev *m, dma_addr_t nib,
			   struct page **page)
{
	int ret;

	ret = vfio_pin_pages(&m->vdev, ALIGN_DOWN(nib, PAGE_SIZE), 1,
			     IOMMU_READ | IOMMU_WRITE, page);
	if (ret != 1)
		return ret < 0 ? ret : -EFAULT;
	if (!vfio_ap_nib_page_usable(m->kvm, *page)) {
		vfio_unpin_pages(&m->vdev, ALIGN_DOWN(nib, PAGE_SIZE), 1);
		return -EPERM;
	}

	return 0;
}

static struct vfio_ap_queue *vfio_ap_guest_queue(struct vfio_ap_mdev *m,
						 unsigned long apqn)
{
	unsigned long apid = AP_QID_CARD(apqn), apqi = AP_QID_QUEUE(apqn);

	vfio_ap_assert_cfg_or_state_locked();
	if (!test_bit_inv(apid, m->guest.apm) ||
	    !test_bit_inv(apqi, m->guest.aqm))
		return NULL;

	return vfio_ap_queue_lookup(apid, apqi);
}

/* With the page pinned: is the queue still the guest's to enable? */
static u8 vfio_ap_irq_recheck(struct vfio_ap_queue *q, struct vfio_ap_mdev *m)
{
	if (vfio_ap_guest_queue(m, q->qid) != q)
		return AP_RESPONSE_Q_NOT_AVAIL;
	if (q->resetting)
		return AP_RESPONSE_RESET_IN_PROGRESS;
	if (q->irq_mdev)
		return AP_RESPONSE_OTHERWISE_CHANGED;

	return AP_RESPONSE_NORMAL;
}

/* Register the guest ISC and issue AQIC for a pinned NIB page. */
static struct ap_queue_status vfio_ap_irq_arm(struct vfio_ap_queue *q,
					      struct vfio_ap_mdev *m,
					      u8 gisc, dma_addr_t nib,
					      struct page *page)
{
	struct ap_queue_status status;
	int nisc;

	nisc = kvm_s390_gisc_register(m->kvm, gisc);
	if (nisc < 0)
		return vfio_ap_status_rc(AP_RESPONSE_OTHERWISE_CHANGED);

	status = ap_aqic(q->qid, vfio_ap_irq_ctrl(m->kvm, gisc, nisc),
			 page_to_phys(page) + offset_in_page(nib));
	if (status.response_code == AP_RESPONSE_NORMAL)
		vfio_ap_irq_record(q, m, nib, gisc);
	else
		kvm_s390_gisc_unregister(m->kvm, gisc);

	return status;
}

/*
 * The guest's interrupts are delivered through its GISA, into its NIB.
 * state_lock is dropped around the pin, and the queue rechecked after it;
 * the busy count keeps the queue allocated meanwhile.
 */
static struct ap_queue_status vfio_ap_irq_enable(struct vfio_ap_queue *q,
						 struct vfio_ap_mdev *m,
						 bool aiv, u8 gisc, dma_addr_t nib,
						 struct list_head *unpins)
{
	struct vfio_ap_mdev *stale = NULL;
	struct ap_queue_status status;
	dma_addr_t stale_iova = 0;
	struct page *page;
	int ret;

	vfio_ap_assert_state_locked();
	if (q->irq_mdev) {
		status = vfio_ap_irq_stale_check(q, &stale, &stale_iova);
		if (status.response_code != AP_RESPONSE_NORMAL)
			return status;
	}
	if (!aiv)
		status = vfio_ap_status_rc(AP_RESPONSE_OTHERWISE_CHANGED);
	else if (!vfio_ap_nib_valid(m->kvm, nib))
		status = vfio_ap_status_rc(AP_RESPONSE_INVALID_ADDRESS);
	else
		status = vfio_ap_status_rc(AP_RESPONSE_NORMAL);
	if (status.response_code != AP_RESPONSE_NORMAL) {
		if (stale)
			vfio_ap_unpin_later(q, stale, stale_iova, unpins);
		return status;
	}

	vfio_ap_nib_busy(q);
	mutex_unlock(&vfio_ap_drv.state_lock);
	if (stale)
		vfio_unpin_pages(&stale->vdev, ALIGN_DOWN(stale_iova, PAGE_SIZE),
				 1);
	ret = vfio_ap_nib_pin(m, nib, &page);
	mutex_lock(&vfio_ap_drv.state_lock);
	q->irq_busy = false;

	if (ret) {
		status = vfio_ap_status_rc(AP_RESPONSE_INVALID_ADDRESS);
	} else {
		status = vfio_ap_status_rc(vfio_ap_irq_recheck(q, m));
		if (status.response_code == AP_RESPONSE_NORMAL)
			status = vfio_ap_irq_arm(q, m, gisc, nib, page);
		if (status.response_code != AP_RESPONSE_NORMAL)
			vfio_ap_unpin_later(q, m, nib, unpins);
	}
	/* Last: once the count drops, a removal may free the queue. */
	vfio_ap_nib_idle();

	return status;
}

/* AQIC only starts the disablement; the NIB stays live until it is done. */
static bool vfio_ap_irq_wait_off(struct vfio_ap_queue *q)
{
	struct ap_queue_status status;
	int i;

	vfio_ap_assert_state_locked();
	for (i = 0; i < VFIO_AP_IRQ_OFF_POLLS; i++) {
		status = ap_tapq(q->qid, NULL);
		if (status.response_code != AP_RESPONSE_NORMAL &&
		    status.response_code != AP_RESPONSE_BUSY &&
		    status.response_code != AP_RESPONSE_RESET_IN_PROGRESS)
			return true;
		if (!status.irq_enabled)
			return true;
		msleep(VFIO_AP_IRQ_OFF_POLL_MS);
	}

	return false;
}

static struct ap_queue_status vfio_ap_irq_disable(struct vfio_ap_queue *q,
						  struct list_head *unpins)
{
	union ap_qirq_ctrl ctrl = {};
	struct ap_queue_status status;

	vfio_ap_assert_state_locked();
	status = ap_aqic(q->qid, ctrl, 0);
	switch (status.response_code) {
	case AP_RESPONSE_NORMAL:
	case AP_RESPONSE_OTHERWISE_CHANGED:
		/* If it never turns off, a reset or close releases it. */
		if (vfio_ap_irq_wait_off(q))
			vfio_ap_irq_release(q, unpins);
		break;
	case AP_RESPONSE_Q_NOT_AVAIL:
	case AP_RESPONSE_DECONFIGURED:
	case AP_RESPONSE_CHECKSTOPPED:
		/* No queue left to store into the NIB. */
		vfio_ap_irq_release(q, unpins);
		break;
	default:
		break;
	}

	return status;
}

/**
 * vfio_ap_irq_release_if_off() - release a queue's interrupts if it turns them off
 * @q: a queue whose reset did not complete
 * @unpins: collects the NIB page for vfio_ap_irq_unpin()
 *
 * Context: state_lock held; sleeps for up to 100 ms.
 * Return: true if nothing of the guest's interrupts is held any more.
 */
bool vfio_ap_irq_release_if_off(struct vfio_ap_queue *q,
				struct list_head *unpins)
{
	vfio_ap_assert_state_locked();
	if (!q->irq_mdev)
		return true;
	vfio_ap_irq_disable(q, unpins);

	return !q->irq_mdev;
}

/**
 * vfio_ap_irq_dma_unmap() - stop interrupts whose NIB userspace unmaps
 * @m: the mdev
 * @iova: start of the unmapped range
 * @length: its length
 *
 * The pin must go whatever the queue answers: VFIO waits for it.  Pins
 * still being taken or dropped are waited for first, so that none in the
 * range is missed.
 *
 * Context: VFIO's device list lock held; takes state_lock.
 */
void vfio_ap_irq_dma_unmap(struct vfio_ap_mdev *m, u64 iova, u64 length)
{
	struct vfio_ap_queue *q, *tmp;
	LIST_HEAD(unpins);
	u64 nib_page;

	vfio_ap_irq_wait_idle();
	mutex_lock(&vfio_ap_drv.state_lock);
	list_for_each_entry_safe(q, tmp, &m->irq_queues, irq_node) {
		nib_page = ALIGN_DOWN(q->nib_iova, PAGE_SIZE);
		if (nib_page + PAGE_SIZE <= iova || nib_page >= iova + length)
			continue;
		vfio_ap_irq_disable(q, &unpins);
		vfio_ap_irq_release(q, &unpins);
	}
	mutex_unlock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_unpin(&unpins);
}

static struct ap_queue_status vfio_ap_irq_aqic_locked(struct vfio_ap_mdev *m,
						      struct kvm_vcpu *vcpu,
						      unsigned long apqn,
						      union ap_qirq_ctrl ctrl,
						      dma_addr_t nib,
						      struct list_head *unpins)
{
	struct vfio_ap_queue *q;

	q = m->kvm == vcpu->kvm ? vfio_ap_guest_queue(m, apqn) : NULL;
	if (!q)
		return vfio_ap_status_rc(AP_RESPONSE_Q_NOT_AVAIL);
	/* As the queue itself would answer; the guest asks again. */
	if (q->resetting)
		return vfio_ap_status_rc(AP_RESPONSE_RESET_IN_PROGRESS);
	/* Another vCPU's AQIC on this queue is still pinning or unpinning. */
	if (q->irq_busy)
		return vfio_ap_status_rc(AP_RESPONSE_BUSY);
	if (ctrl.ir)
		return vfio_ap_irq_enable(q, m, vfio_ap_vcpu_has_aiv(vcpu),
					  ctrl.isc, nib, unpins);

	return vfio_ap_irq_disable(q, unpins);
}

/**
 * vfio_ap_irq_aqic() - carry out a guest's PQAP(AQIC) on one of its queues
 * @m: the mdev whose hook the vCPU called
 * @vcpu: the vCPU that issued the instruction
 * @apqn: the queue the guest named
 * @ctrl: the interruption controls the guest passed
 * @nib: guest address of the notification indicator byte
 *
 * Enables or disables the queue's interrupts for the guest, provided the
 * queue is in the guest's configuration and the guest is still @m's.
 *
 * Context: vCPU thread; takes state_lock, and drops it around NIB pins.
 * Return: the status the guest gets back.
 */
struct ap_queue_status vfio_ap_irq_aqic(struct vfio_ap_mdev *m,
					struct kvm_vcpu *vcpu,
					unsigned long apqn,
					union ap_qirq_ctrl ctrl, dma_addr_t nib)
{
	struct ap_queue_status status;
	LIST_HEAD(unpins);

	mutex_lock(&vfio_ap_drv.state_lock);
	status = vfio_ap_irq_aqic_locked(m, vcpu, apqn, ctrl, nib, &unpins);
	mutex_unlock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_unpin(&unpins);

	return status;
}

/**
 * vfio_ap_irq_nib_in_guest() - tell whether a NIB address is guest memory
 * @kvm: the guest
 * @nib: guest address of the notification indicator byte
 *
 * Context: any that may sleep; takes kvm->srcu.
 * Return: true if @nib lies in one of the guest's memory slots.
 */
bool vfio_ap_irq_nib_in_guest(struct kvm *kvm, dma_addr_t nib)
{
	bool ok;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	ok = vfio_ap_nib_valid(kvm, nib);
	srcu_read_unlock(&kvm->srcu, idx);

	return ok;
}

/* AIV is a property of the guest: its vCPUs all have it or none does. */
static bool vfio_ap_kvm_has_aiv(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu = kvm_get_vcpu(kvm, 0);

	return vcpu && vfio_ap_vcpu_has_aiv(vcpu);
}

static struct ap_queue_status
vfio_ap_irq_restore_locked(struct vfio_ap_mdev *m, ap_qid_t qid, u8 gisc,
			   dma_addr_t nib, struct list_head *unpins)
{
	struct vfio_ap_queue *q;

	vfio_ap_assert_state_locked();
	q = vfio_ap_guest_queue(m, qid);
	if (!q)
		return vfio_ap_status_rc(AP_RESPONSE_Q_NOT_AVAIL);
	if (q->resetting)
		return vfio_ap_status_rc(AP_RESPONSE_RESET_IN_PROGRESS);
	if (q->irq_busy)
		return vfio_ap_status_rc(AP_RESPONSE_BUSY);
	/* The target's own guest has not run: anything on is not ours. */
	if (q->irq_mdev)
		return vfio_ap_status_rc(AP_RESPONSE_OTHERWISE_CHANGED);

	return vfio_ap_irq_enable(q, m, vfio_ap_kvm_has_aiv(m->kvm), gisc, nib,
				  unpins);
}

/**
 * vfio_ap_irq_restore() - enable a queue's interrupts as a migrated guest had them
 * @m: the mdev whose guest gets them
 * @qid: the queue, in the guest's configuration
 * @gisc: the guest ISC the guest enabled them with on the source
 * @nib: guest address of the notification indicator byte
 *
 * Does what the guest's PQAP(AQIC) did on the source, without a vCPU: the
 * NIB page pinned, the guest ISC registered, AQIC issued.
 *
 * Context: state_lock not held; takes it, and drops it around the pin.
 * The device is open (@m has a guest).
 * Return: the AP response code, AP_RESPONSE_NORMAL if the interrupts are on.
 */
u8 vfio_ap_irq_restore(struct vfio_ap_mdev *m, ap_qid_t qid, u8 gisc,
		       dma_addr_t nib)
{
	struct ap_queue_status status;
	LIST_HEAD(unpins);
	int idx;

	/* As a vCPU holds it when it issues AQIC: for the memslot lookup. */
	idx = srcu_read_lock(&m->kvm->srcu);
	mutex_lock(&vfio_ap_drv.state_lock);
	status = vfio_ap_irq_restore_locked(m, qid, gisc, nib, &unpins);
	mutex_unlock(&vfio_ap_drv.state_lock);
	srcu_read_unlock(&m->kvm->srcu, idx);
	vfio_ap_irq_unpin(&unpins);

	return status.response_code;
}

/**
 * vfio_ap_irq_unrestore() - turn off what vfio_ap_irq_restore() turned on
 * @m: the mdev
 * @qid: the queue
 *
 * Context: state_lock not held; takes it.
 */
void vfio_ap_irq_unrestore(struct vfio_ap_mdev *m, ap_qid_t qid)
{
	struct vfio_ap_queue *q;
	LIST_HEAD(unpins);

	mutex_lock(&vfio_ap_drv.state_lock);
	q = vfio_ap_guest_queue(m, qid);
	if (q && q->irq_mdev == m) {
		vfio_ap_irq_disable(q, &unpins);
		/* Whether or not the queue confirmed: the pin must go. */
		vfio_ap_irq_release(q, &unpins);
	}
	mutex_unlock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_unpin(&unpins);
}

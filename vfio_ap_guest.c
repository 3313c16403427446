// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of vfio_ap: applies the hot-plug engine's decisions to the
 * guest's CRYCB, tells the VMM through its eventfds, attaches and detaches
 * guests, and hands the queues a guest loses to the reset engine.
 */

#include <linux/eventfd.h>
#include <linux/kvm_host.h>
#include <linux/list.h>
#include <linux/mutex.h>

#include "vfio_ap_private.h"
#include "vfio_ap_trace.h"

/* --- the VMM's eventfds --- */

static struct eventfd_ctx **vfio_ap_trigger(struct vfio_ap_mdev *m,
					    unsigned int index)
{
	return index == VFIO_AP_REQ_IRQ_INDEX ? &m->req_trigger :
						&m->cfg_chg_trigger;
}

/**
 * vfio_ap_trigger_replace() - set or clear one of an mdev's eventfds
 * @m: the mdev
 * @index: VFIO_AP_REQ_IRQ_INDEX or VFIO_AP_CFG_CHG_IRQ_INDEX
 * @ctx: the new eventfd context, or NULL; @m owns its reference from now on
 *
 * The old context, if any, is released.
 */
void vfio_ap_trigger_replace(struct vfio_ap_mdev *m, unsigned int index,
			     struct eventfd_ctx *ctx)
{
	struct eventfd_ctx *old;

	spin_lock(&m->trigger_lock);
	old = *vfio_ap_trigger(m, index);
	*vfio_ap_trigger(m, index) = ctx;
	spin_unlock(&m->trigger_lock);

	if (old)
		eventfd_ctx_put(old);
}

/**
 * vfio_ap_trigger_signal() - signal one of an mdev's eventfds
 * @m: the mdev
 * @index: VFIO_AP_REQ_IRQ_INDEX or VFIO_AP_CFG_CHG_IRQ_INDEX
 *
 * Return: true if userspace had set that eventfd.
 */
bool vfio_ap_trigger_signal(struct vfio_ap_mdev *m, unsigned int index)
{
	struct eventfd_ctx *ctx;

	spin_lock(&m->trigger_lock);
	ctx = *vfio_ap_trigger(m, index);
	if (ctx)
		eventfd_signal(ctx);
	spin_unlock(&m->trigger_lock);

	return !!ctx;
}

/**
 * vfio_ap_triggers_release() - drop both of an mdev's eventfds
 * @m: the mdev, being closed or released
 */
void vfio_ap_triggers_release(struct vfio_ap_mdev *m)
{
	vfio_ap_trigger_replace(m, VFIO_AP_REQ_IRQ_INDEX, NULL);
	vfio_ap_trigger_replace(m, VFIO_AP_CFG_CHG_IRQ_INDEX, NULL);
}

/* Tell userspace the guest's AP configuration changed. */
static void vfio_ap_signal_cfg_chg(struct vfio_ap_mdev *m)
{
	vfio_ap_trigger_signal(m, VFIO_AP_CFG_CHG_IRQ_INDEX);
}

/* What an mdev that is being removed grants its guest. */
static const struct vfio_ap_apcb vfio_ap_apcb_none;

static void vfio_ap_crycb_set(struct kvm *kvm, struct vfio_ap_apcb *apcb)
{
	vfio_ap_assert_cfg_locked();
	mutex_lock(&kvm->lock);
	kvm_arch_crypto_set_masks(kvm, apcb->apm, apcb->aqm, apcb->adm);
	mutex_unlock(&kvm->lock);
}

static void vfio_ap_crycb_clear(struct kvm *kvm)
{
	vfio_ap_assert_cfg_locked();
	mutex_lock(&kvm->lock);
	kvm_arch_crypto_clear_masks(kvm);
	mutex_unlock(&kvm->lock);
}

static void vfio_ap_collect_unplugged(const struct vfio_ap_apcb *old,
				      const struct vfio_ap_plug_result *res,
				      struct list_head *resets)
{
	struct vfio_ap_queue *q;
	unsigned long apid, apqi;

	vfio_ap_assert_cfg_locked();
	for_each_set_bit_inv(apid, old->apm, VFIO_AP_MAX_ADAPTERS) {
		for_each_set_bit_inv(apqi, old->aqm, VFIO_AP_MAX_DOMAINS) {
			if (!vfio_ap_apqn_unplugged(old, res, apid, apqi))
				continue;
			q = vfio_ap_queue_lookup(apid, apqi);
			if (q)
				vfio_ap_reset_batch_add(resets, q);
		}
	}
}

/**
 * vfio_ap_guest_refresh() - bring what an mdev's guest sees up to date
 * @m: the mdev
 * @resets: collects the queues the guest (attached or not) loses
 *
 * Asks the hot-plug engine what the guest should see now and, only if that
 * differs from what it sees, updates the CRYCB of an attached guest once
 * and tells userspace.  An mdev being removed grants nothing, whatever is
 * assigned.  Resetting the collected queues is left to the
 * caller so that one event resets all its queues together.
 *
 * Context: cfg_lock held.
 * Return: true if the guest's configuration changed.
 */
bool vfio_ap_guest_refresh(struct vfio_ap_mdev *m, struct list_head *resets)
{
	const struct vfio_ap_apcb *grant;
	struct vfio_ap_plug_result res;
	struct vfio_ap_apcb old;

	vfio_ap_assert_cfg_locked();
	old = m->guest;
	grant = m->removing ? &vfio_ap_apcb_none : &m->assigned;
	vfio_ap_model_compute_guest(grant, &old, &res);
	if (!res.changed)
		return false;

	mutex_lock(&vfio_ap_drv.state_lock);
	m->guest = res.guest;
	mutex_unlock(&vfio_ap_drv.state_lock);
	trace_vfio_ap_guest_update(vfio_ap_mdev_uuid(m), !!m->kvm, &old,
				   &res.guest);

	if (m->kvm) {
		vfio_ap_crycb_set(m->kvm, &m->guest);
		vfio_ap_signal_cfg_chg(m);
	}
	/*
	 * One rule, guest or not: a queue that leaves what the mdev grants
	 * is reset, so it never carries state to whoever gets it next.
	 */
	vfio_ap_collect_unplugged(&old, &res, resets);

	return true;
}

/**
 * vfio_ap_guest_run_resets() - reset a batch of queues and apply the outcome
 * @resets: queues added with vfio_ap_reset_batch_add(); emptied
 *
 * Resets that break queues change what guests may get: every guest is
 * refreshed then, and the queues they lose by it are reset in turn.
 *
 * Context: cfg_lock held; sleeps.
 * Return: the number of queues the resets withheld from guests.
 */
unsigned int vfio_ap_guest_run_resets(struct list_head *resets)
{
	struct vfio_ap_mdev *m;
	unsigned int withheld;

	vfio_ap_assert_cfg_locked();
	withheld = vfio_ap_reset_batch_run(resets);
	if (!withheld)
		return 0;

	for (m = vfio_ap_mdev_first(); m; m = vfio_ap_mdev_next(m))
		vfio_ap_guest_refresh(m, resets);
	/* A second round of failures waits for the next event. */
	return withheld + vfio_ap_reset_batch_run(resets);
}

/**
 * vfio_ap_guest_apply() - refresh one mdev's guest and reset what it lost
 * @m: the mdev whose assignment or queues changed
 *
 * Context: cfg_lock held.
 */
void vfio_ap_guest_apply(struct vfio_ap_mdev *m)
{
	LIST_HEAD(resets);

	vfio_ap_assert_cfg_locked();
	vfio_ap_guest_refresh(m, &resets);
	vfio_ap_guest_run_resets(&resets);
}

/* Whether a host change of the resources in @changed can concern @m. */
static bool vfio_ap_mdev_affected(const struct vfio_ap_mdev *m,
				  const struct vfio_ap_apcb *changed)
{
	return bitmap_intersects(m->assigned.apm, changed->apm,
				 VFIO_AP_MAX_ADAPTERS) ||
	       bitmap_intersects(m->assigned.aqm, changed->aqm,
				 VFIO_AP_MAX_DOMAINS) ||
	       bitmap_intersects(m->assigned.adm, changed->adm,
				 VFIO_AP_MAX_DOMAINS);
}

/**
 * vfio_ap_guest_apply_affected() - refresh the guests a host change concerns
 * @changed: the adapters, domains and control domains the host lost or
 *	     gained
 *
 * A guest sees what is assigned and in the host configuration, so only
 * the mdevs with something assigned in @changed can see a difference;
 * they, and the mdevs that vfio_ap_guest_refresh_later() marked, are
 * refreshed, each once.  Each guest gets at most one CRYCB update; the
 * queues all guests lose are reset in one batch.
 *
 * Context: cfg_lock held.
 */
void vfio_ap_guest_apply_affected(const struct vfio_ap_apcb *changed)
{
	struct vfio_ap_mdev *m;
	LIST_HEAD(resets);

	vfio_ap_assert_cfg_locked();
	for (m = vfio_ap_mdev_first(); m; m = vfio_ap_mdev_next(m)) {
		if (!m->refresh_pending && !vfio_ap_mdev_affected(m, changed))
			continue;
		m->refresh_pending = false;
		vfio_ap_guest_refresh(m, &resets);
	}
	vfio_ap_guest_run_resets(&resets);
}

/**
 * vfio_ap_guest_refresh_later() - have the next host change refresh an mdev
 * @m: the mdev, one of whose queues the AP bus bound during its scan
 *
 * Context: cfg_lock held.
 */
void vfio_ap_guest_refresh_later(struct vfio_ap_mdev *m)
{
	vfio_ap_assert_cfg_locked();
	m->refresh_pending = true;
}

/**
 * vfio_ap_guest_has_queue() - tell whether a guest sees a queue
 * @m: the mdev
 * @qid: the queue's APQN
 *
 * A queue the guest does not see can come or go without changing what
 * the guest sees.
 *
 * Context: cfg_lock or state_lock held.
 * Return: true if the guest's APCB holds the APQN.
 */
bool vfio_ap_guest_has_queue(const struct vfio_ap_mdev *m, ap_qid_t qid)
{
	vfio_ap_assert_cfg_or_state_locked();
	return test_bit_inv(vfio_ap_qid_apid(qid), m->guest.apm) &&
	       test_bit_inv(vfio_ap_qid_apqi(qid), m->guest.aqm);
}

/**
 * vfio_ap_guest_collect_queues() - add every queue a guest sees to a batch
 * @m: the mdev
 * @resets: the reset batch
 *
 * Context: cfg_lock held.
 */
void vfio_ap_guest_collect_queues(struct vfio_ap_mdev *m,
				  struct list_head *resets)
{
	struct vfio_ap_queue *q;
	unsigned long apid, apqi;

	vfio_ap_assert_cfg_locked();
	for_each_set_bit_inv(apid, m->guest.apm, VFIO_AP_MAX_ADAPTERS)
		for_each_set_bit_inv(apqi, m->guest.aqm, VFIO_AP_MAX_DOMAINS) {
			q = vfio_ap_queue_lookup(apid, apqi);
			if (q)
				vfio_ap_reset_batch_add(resets, q);
		}
}

static bool vfio_ap_kvm_is_served(struct kvm *kvm)
{
	struct vfio_ap_mdev *m;

	vfio_ap_assert_cfg_or_state_locked();
	for (m = vfio_ap_mdev_first(); m; m = vfio_ap_mdev_next(m))
		if (m->kvm == kvm)
			return true;

	return false;
}

static bool vfio_ap_hook_install(struct vfio_ap_mdev *m, struct kvm *kvm)
{
	bool installed = false;

	/* cfg_lock makes the check for another mdev and the install one step. */
	vfio_ap_assert_cfg_locked();
	down_write(&kvm->arch.crypto.pqap_hook_rwsem);
	if (!kvm->arch.crypto.pqap_hook) {
		kvm->arch.crypto.pqap_hook = &m->pqap_hook;
		installed = true;
	}
	up_write(&kvm->arch.crypto.pqap_hook_rwsem);

	return installed;
}

/* Once this returns no vCPU is in, or will enter, the hook of @m. */
static void vfio_ap_hook_remove(struct kvm *kvm)
{
	vfio_ap_assert_cfg_locked();
	down_write(&kvm->arch.crypto.pqap_hook_rwsem);
	kvm->arch.crypto.pqap_hook = NULL;
	up_write(&kvm->arch.crypto.pqap_hook_rwsem);
}

/**
 * vfio_ap_guest_attach() - give a guest its AP configuration
 * @m: the mdev being opened
 * @kvm: the guest
 *
 * Return: 0, or -EPERM if another mdev already serves @kvm; then nothing
 * has changed.
 */
int vfio_ap_guest_attach(struct vfio_ap_mdev *m, struct kvm *kvm)
{
	int ret = 0;

	mutex_lock(&vfio_ap_drv.cfg_lock);
	if (vfio_ap_kvm_is_served(kvm) || !vfio_ap_hook_install(m, kvm)) {
		ret = -EPERM;
		goto out;
	}

	mutex_lock(&vfio_ap_drv.state_lock);
	m->kvm = kvm;
	mutex_unlock(&vfio_ap_drv.state_lock);
	trace_vfio_ap_guest_update(vfio_ap_mdev_uuid(m), true, NULL, &m->guest);
	vfio_ap_crycb_set(kvm, &m->guest);
out:
	mutex_unlock(&vfio_ap_drv.cfg_lock);
	return ret;
}

/**
 * vfio_ap_guest_detach() - take everything away from a guest
 * @m: the mdev being closed
 *
 * Clears the CRYCB, resets every queue the guest saw and releases its
 * interrupt resources.
 */
void vfio_ap_guest_detach(struct vfio_ap_mdev *m)
{
	struct kvm *kvm;
	LIST_HEAD(resets);
	LIST_HEAD(unpins);

	mutex_lock(&vfio_ap_drv.cfg_lock);
	kvm = m->kvm;
	if (!kvm)
		goto out;

	vfio_ap_hook_remove(kvm);
	vfio_ap_crycb_clear(kvm);
	trace_vfio_ap_guest_update(vfio_ap_mdev_uuid(m), false, &m->guest,
				   NULL);
	/* From here on refreshes leave this guest's CRYCB alone. */
	mutex_lock(&vfio_ap_drv.state_lock);
	m->kvm = NULL;
	mutex_unlock(&vfio_ap_drv.state_lock);

	vfio_ap_guest_collect_queues(m, &resets);
	vfio_ap_guest_run_resets(&resets);

	/* Interrupts a failed reset could not confirm off. */
	mutex_lock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_release_all(m, &unpins);
	mutex_unlock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_unpin(&unpins);
out:
	mutex_unlock(&vfio_ap_drv.cfg_lock);
}

/**
 * vfio_ap_guest_reset() - reset every queue a guest sees
 * @m: the mdev (VFIO_DEVICE_RESET)
 *
 * The guest keeps its configuration, minus queues the reset found broken.
 */
void vfio_ap_guest_reset(struct vfio_ap_mdev *m)
{
	LIST_HEAD(resets);

	mutex_lock(&vfio_ap_drv.cfg_lock);
	vfio_ap_guest_collect_queues(m, &resets);
	vfio_ap_guest_run_resets(&resets);
	mutex_unlock(&vfio_ap_drv.cfg_lock);
}

/**
 * vfio_ap_guest_withdraw() - take everything away from an mdev for good
 * @m: the mdev being removed
 *
 * From now on the guest of @m, attached or not, gets nothing.  That is
 * applied like any other change: one CRYCB update, CFG_CHG, and a reset
 * of every queue the guest loses, done when this returns.  Calling it
 * again changes nothing.
 */
void vfio_ap_guest_withdraw(struct vfio_ap_mdev *m)
{
	mutex_lock(&vfio_ap_drv.cfg_lock);
	if (!m->removing) {
		mutex_lock(&vfio_ap_drv.state_lock);
		m->removing = true;
		mutex_unlock(&vfio_ap_drv.state_lock);
		vfio_ap_guest_apply(m);
	}
	mutex_unlock(&vfio_ap_drv.cfg_lock);
}

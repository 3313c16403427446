// SPDX-License-Identifier: GPL-2.0
/*
 * Queue reset engine: zeroizes a batch of AP queues in parallel (all ZAPQs
 * first, then one TAPQ poll over the whole batch per round) within a fixed
 * time bound, and releases the queues' interrupt resources afterwards.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/printk.h>
#include <asm/ap.h>

#include "vfio_ap_private.h"
#include "vfio_ap_trace.h"

/**
 * enum vfio_ap_reset_outcome - how a queue's reset ended
 * @VFIO_AP_RESET_OK: the reset completed, or there was nothing to reset
 * @VFIO_AP_RESET_BROKEN: the queue answered deconfigured or checkstopped;
 *			  the AP bus tracks that state, so we keep out of it
 * @VFIO_AP_RESET_FAILED: an unexpected response code; the queue's state
 *			  is unknown
 * @VFIO_AP_RESET_TIMEOUT: the reset did not complete in time
 */
enum vfio_ap_reset_outcome {
	VFIO_AP_RESET_OK,
	VFIO_AP_RESET_BROKEN,
	VFIO_AP_RESET_FAILED,
	VFIO_AP_RESET_TIMEOUT,
};

/* The vfio_ap_reset_done tracepoint prints these by value. */
static_assert(VFIO_AP_RESET_OK == 0 && VFIO_AP_RESET_BROKEN == 1 &&
	      VFIO_AP_RESET_FAILED == 2 && VFIO_AP_RESET_TIMEOUT == 3);

/**
 * vfio_ap_reset_batch_add() - add a queue to a reset batch
 * @batch: the batch, a list of queues
 * @q: the queue; ignored if it already is in a batch
 *
 * Context: cfg_lock held.
 */
void vfio_ap_reset_batch_add(struct list_head *batch, struct vfio_ap_queue *q)
{
	vfio_ap_assert_cfg_locked();
	if (!list_empty(&q->reset_node))
		return;
	q->reset_step = VFIO_AP_RESET_ZAPQ;
	q->reset_rc = AP_RESPONSE_NORMAL;
	list_add_tail(&q->reset_node, batch);
}

/* A queue that may still hold a guest's state must not reach another. */
static void vfio_ap_reset_withhold(struct vfio_ap_queue *q,
				   enum vfio_ap_reset_outcome outcome)
{
	if (outcome == VFIO_AP_RESET_TIMEOUT)
		pr_warn("reset of queue %02x.%04x did not complete within %u ms (response code 0x%02x); the queue is withheld from guests until it is bound again\n",
			vfio_ap_qid_apid(q->qid), vfio_ap_qid_apqi(q->qid),
			VFIO_AP_RESET_TIMEOUT_MS, q->reset_rc);
	else
		pr_warn("reset of queue %02x.%04x failed with response code 0x%02x; the queue is withheld from guests until it is bound again\n",
			vfio_ap_qid_apid(q->qid), vfio_ap_qid_apqi(q->qid),
			q->reset_rc);
	q->reset_stuck = true;
	q->stuck_rc = q->reset_rc;
	q->stuck_outcome = outcome;
	vfio_ap_queue_set_unusable(q);
}

static void vfio_ap_reset_finish(struct vfio_ap_queue *q,
				 enum vfio_ap_reset_outcome outcome,
				 unsigned int *unusable)
{
	vfio_ap_assert_cfg_locked();
	q->reset_step = VFIO_AP_RESET_DONE;
	q->reset_outcome = outcome;
	trace_vfio_ap_reset_done(q->qid, q->reset_rc, outcome);
	if (outcome == VFIO_AP_RESET_FAILED || outcome == VFIO_AP_RESET_TIMEOUT) {
		vfio_ap_reset_withhold(q, outcome);
		(*unusable)++;
	}
}

/* Response codes shared by ZAPQ and TAPQ that end the reset. */
static bool vfio_ap_reset_final_rc(struct vfio_ap_queue *q, u8 rc,
				   unsigned int *unusable)
{
	switch (rc) {
	case AP_RESPONSE_Q_NOT_AVAIL:
		/* The APQN is gone: there is nothing left to reset. */
		vfio_ap_reset_finish(q, VFIO_AP_RESET_OK, unusable);
		return true;
	case AP_RESPONSE_DECONFIGURED:
	case AP_RESPONSE_CHECKSTOPPED:
		vfio_ap_reset_finish(q, VFIO_AP_RESET_BROKEN, unusable);
		return true;
	default:
		return false;
	}
}

static void vfio_ap_reset_issue(struct vfio_ap_queue *q, unsigned int *unusable)
{
	struct ap_queue_status status = ap_zapq(q->qid, 0);

	vfio_ap_assert_cfg_locked();
	q->reset_rc = status.response_code;
	switch (status.response_code) {
	case AP_RESPONSE_NORMAL:
		q->reset_step = VFIO_AP_RESET_VERIFY;
		break;
	case AP_RESPONSE_RESET_IN_PROGRESS:
	case AP_RESPONSE_BUSY:
	case AP_RESPONSE_STATE_CHANGE_IN_PROGRESS:
	case AP_RESPONSE_ASSOC_SECRET_NOT_UNIQUE:
	case AP_RESPONSE_ASSOC_FAILED:
		/*
		 * Not taken: issue the ZAPQ again next round.  An SE
		 * association error reported by ZAPQ is cleared only by a
		 * reset that is accepted after it.
		 */
		break;
	default:
		if (!vfio_ap_reset_final_rc(q, status.response_code, unusable))
			vfio_ap_reset_finish(q, VFIO_AP_RESET_FAILED, unusable);
	}
}

static void vfio_ap_reset_verify(struct vfio_ap_queue *q,
				 unsigned int *unusable)
{
	struct ap_queue_status status = ap_tapq(q->qid, NULL);

	vfio_ap_assert_cfg_locked();
	q->reset_rc = status.response_code;
	switch (status.response_code) {
	case AP_RESPONSE_NORMAL:
		/*
		 * A queue answers 02 until its reset is over, so normal
		 * status ends it, and the guest's interrupts with it.  Work
		 * on the queue now was enqueued after the reset (the guest
		 * keeps its queues across VFIO_DEVICE_RESET), and interrupts
		 * on now are the AP bus's, which it enables after a reset.
		 */
		vfio_ap_reset_finish(q, VFIO_AP_RESET_OK, unusable);
		break;
	case AP_RESPONSE_ASSOC_SECRET_NOT_UNIQUE:
	case AP_RESPONSE_ASSOC_FAILED:
		/* An association error after the ZAPQ: zeroize again. */
		q->reset_step = VFIO_AP_RESET_ZAPQ;
		break;
	case AP_RESPONSE_RESET_IN_PROGRESS:
	case AP_RESPONSE_BUSY:
	case AP_RESPONSE_STATE_CHANGE_IN_PROGRESS:
		break;
	default:
		if (!vfio_ap_reset_final_rc(q, status.response_code, unusable))
			vfio_ap_reset_finish(q, VFIO_AP_RESET_FAILED, unusable);
	}
}

static void vfio_ap_reset_step(struct vfio_ap_queue *q, unsigned int *unusable)
{
	if (q->reset_step == VFIO_AP_RESET_ZAPQ)
		vfio_ap_reset_issue(q, unusable);
	else if (q->reset_step == VFIO_AP_RESET_VERIFY)
		vfio_ap_reset_verify(q, unusable);
}

/* One pass over the batch; returns how many queues are still resetting. */
static unsigned int vfio_ap_reset_round(struct list_head *batch,
					unsigned int *unusable)
{
	struct vfio_ap_queue *q;
	unsigned int pending = 0;

	list_for_each_entry(q, batch, reset_node) {
		vfio_ap_reset_step(q, unusable);
		if (q->reset_step != VFIO_AP_RESET_DONE)
			pending++;
	}

	return pending;
}

/* A queue the host no longer has cannot be reset, and need not be. */
static void vfio_ap_reset_start(struct vfio_ap_queue *q,
				unsigned int *unusable)
{
	vfio_ap_assert_cfg_locked();
	trace_vfio_ap_reset_start(q->qid);
	if (!vfio_ap_host_has_queue(q->qid)) {
		q->reset_rc = AP_RESPONSE_Q_NOT_AVAIL;
		vfio_ap_reset_finish(q, VFIO_AP_RESET_OK, unusable);
	}
}

/* From here until the batch ends the hook leaves the queues alone. */
static void vfio_ap_reset_hold(struct list_head *batch)
{
	struct vfio_ap_queue *q;

	mutex_lock(&vfio_ap_drv.state_lock);
	list_for_each_entry(q, batch, reset_node)
		q->resetting = true;
	mutex_unlock(&vfio_ap_drv.state_lock);
}

/*
 * A reset that completed, or a queue that is gone or broken, leaves no
 * interrupts behind.  After a failed or timed-out reset they may still be
 * on, and the machine may still store into the NIB: the pin then stays
 * unless the queue confirms it turned them off.
 */
static void vfio_ap_reset_release_irq(struct vfio_ap_queue *q,
				      struct list_head *unpins)
{
	if (q->reset_outcome == VFIO_AP_RESET_OK ||
	    q->reset_outcome == VFIO_AP_RESET_BROKEN) {
		vfio_ap_irq_release(q, unpins);
		return;
	}
	if (!vfio_ap_irq_release_if_off(q, unpins))
		pr_warn("queue %02x.%04x: interrupts still on after its reset failed; its NIB page stays pinned\n",
			vfio_ap_qid_apid(q->qid), vfio_ap_qid_apqi(q->qid));
}

static void vfio_ap_reset_release(struct list_head *batch,
				  unsigned int *unusable)
{
	struct vfio_ap_queue *q, *tmp;
	LIST_HEAD(unpins);

	mutex_lock(&vfio_ap_drv.state_lock);
	list_for_each_entry_safe(q, tmp, batch, reset_node) {
		if (q->reset_step != VFIO_AP_RESET_DONE)
			vfio_ap_reset_finish(q, VFIO_AP_RESET_TIMEOUT, unusable);
		vfio_ap_reset_release_irq(q, &unpins);
		q->resetting = false;
		list_del_init(&q->reset_node);
	}
	mutex_unlock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_unpin(&unpins);
}

/**
 * vfio_ap_reset_withheld() - tell whether a failed reset withholds a queue
 * @q: the queue
 * @rc: gets the response code the failed reset last saw
 * @timed_out: gets whether it did not complete in time rather than
 *	       answered an unexpected code
 *
 * Context: cfg_lock held.
 * Return: true if @q is withheld from guests until it is bound again;
 * then @rc and @timed_out are set.
 */
bool vfio_ap_reset_withheld(const struct vfio_ap_queue *q, u8 *rc,
			    bool *timed_out)
{
	vfio_ap_assert_cfg_locked();
	if (!q->reset_stuck)
		return false;
	*rc = q->stuck_rc;
	*timed_out = q->stuck_outcome == VFIO_AP_RESET_TIMEOUT;
	return true;
}

/**
 * vfio_ap_reset_batch_run() - reset a batch of queues and empty it
 * @batch: queues added with vfio_ap_reset_batch_add()
 *
 * Issues ZAPQ to every queue, then polls them all with TAPQ until each has
 * completed its reset or VFIO_AP_RESET_TIMEOUT_MS have passed.  Queues that
 * time out or answer an unexpected response code are withheld from guests
 * until they are bound again.  A queue's interrupt resources are released
 * once its interrupts are known to be off; the guest's PQAP(AQIC) on a
 * queue of the batch answers "reset in progress" until the batch ends.
 *
 * Context: cfg_lock held; sleeps.
 * Return: the number of queues newly withheld.
 */
unsigned int vfio_ap_reset_batch_run(struct list_head *batch)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(VFIO_AP_RESET_TIMEOUT_MS);
	struct vfio_ap_queue *q;
	unsigned int unusable = 0;

	vfio_ap_assert_cfg_locked();
	if (list_empty(batch))
		return 0;

	vfio_ap_reset_hold(batch);
	list_for_each_entry(q, batch, reset_node)
		vfio_ap_reset_start(q, &unusable);
	while (vfio_ap_reset_round(batch, &unusable) &&
	       time_before(jiffies, deadline))
		msleep(VFIO_AP_RESET_POLL_MS);
	vfio_ap_reset_release(batch, &unusable);

	return unusable;
}

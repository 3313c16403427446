// SPDX-License-Identifier: GPL-2.0
/*
 * The model: the state every other part of vfio_ap reads.  The host's AP
 * configuration, the table of queues bound to us, which of them a guest
 * may get, the mdevs and which of them an APQN is assigned to.  Other
 * files reach it only through the functions here, each of which checks
 * the lock it needs; the hot-plug engine is run on it from here.
 */

#include <linux/bitmap.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <asm/ap.h>

#include "vfio_ap_private.h"
#include "vfio_ap_trace.h"

/* Without the APXA facility APIDs are 6 bits and APQIs 4 bits wide. */
#define VFIO_AP_NO_APXA_MAX_APID	63
#define VFIO_AP_NO_APXA_MAX_APQI	15

/* Every layer takes these, so they live in the lowest one that keeps state. */
struct vfio_ap_drv vfio_ap_drv = {
	.cfg_lock = __MUTEX_INITIALIZER(vfio_ap_drv.cfg_lock),
	.state_lock = __MUTEX_INITIALIZER(vfio_ap_drv.state_lock),
};

/**
 * struct vfio_ap_model - what the model keeps
 * @mdevs: all mdevs (written under both locks)
 * @queues: bound queues indexed by APQN (written under both locks)
 * @host: the host's AP configuration from QCI (cfg_lock)
 * @queue_map: which bound queues a guest may get (cfg_lock)
 * @max_apid: highest adapter number the machine supports (WRITE_ONCE under
 *	      cfg_lock; READ_ONCE without a lock, see vfio_ap_max_apid())
 * @max_apqi: highest domain number the machine supports (as @max_apid)
 */
struct vfio_ap_model {
	struct list_head mdevs;
	struct xarray queues;
	struct vfio_ap_apcb host;
	struct vfio_ap_queue_map queue_map;
	unsigned int max_apid;
	unsigned int max_apqi;
};

static struct vfio_ap_model vfio_ap_model = {
	.mdevs = LIST_HEAD_INIT(vfio_ap_model.mdevs),
	.queues = XARRAY_INIT(vfio_ap_model.queues, 0),
};

/* --- the host configuration --- */

static void vfio_ap_apcb_from_qci(struct vfio_ap_apcb *apcb,
				  const struct ap_config_info *qci)
{
	/* QCI and our bitmaps share the MSB-0 layout: a copy converts. */
	memcpy(apcb->apm, qci->apm, sizeof(qci->apm));
	memcpy(apcb->aqm, qci->aqm, sizeof(qci->aqm));
	memcpy(apcb->adm, qci->adm, sizeof(qci->adm));
}

/* Sysfs writes read the limits without a lock: see vfio_ap_max_apid(). */
static void vfio_ap_set_max_ids(const struct ap_config_info *qci)
{
	vfio_ap_assert_cfg_locked();
	WRITE_ONCE(vfio_ap_model.max_apid, qci->apxa && qci->na ? qci->na :
		   VFIO_AP_NO_APXA_MAX_APID);
	WRITE_ONCE(vfio_ap_model.max_apqi, qci->apxa && qci->nd ? qci->nd :
		   VFIO_AP_NO_APXA_MAX_APQI);
}

/* Record @host; @diff (if not NULL) gets what is in @a and not in @b. */
static void vfio_ap_host_set(const struct vfio_ap_apcb *host,
			     struct vfio_ap_apcb *diff,
			     const struct vfio_ap_apcb *a,
			     const struct vfio_ap_apcb *b)
{
	vfio_ap_assert_cfg_locked();
	if (diff) {
		bitmap_andnot(diff->apm, a->apm, b->apm, VFIO_AP_MAX_ADAPTERS);
		bitmap_andnot(diff->aqm, a->aqm, b->aqm, VFIO_AP_MAX_DOMAINS);
		bitmap_andnot(diff->adm, a->adm, b->adm, VFIO_AP_MAX_DOMAINS);
	}
	trace_vfio_ap_host_config(&vfio_ap_model.host, host);
	vfio_ap_model.host = *host;
}

/**
 * vfio_ap_host_config_set() - record the host's AP configuration
 * @qci: the configuration, as QCI returned it
 * @gained: if not NULL, gets what the configuration has and the recorded
 *	    one had not
 *
 * Also records the highest adapter and domain numbers the machine allows.
 *
 * Context: cfg_lock held.
 */
void vfio_ap_host_config_set(const struct ap_config_info *qci,
			     struct vfio_ap_apcb *gained)
{
	struct vfio_ap_apcb host;

	vfio_ap_assert_cfg_locked();
	vfio_ap_apcb_from_qci(&host, qci);
	vfio_ap_host_set(&host, gained, &host, &vfio_ap_model.host);
	vfio_ap_set_max_ids(qci);
}

/**
 * vfio_ap_host_config_shrink() - keep only what a new configuration still has
 * @qci: the new configuration, as QCI returned it
 * @lost: gets what the recorded configuration had and @qci has not
 *
 * The recorded configuration becomes what it shares with @qci: what the
 * host lost goes, what it gained is not recorded yet.
 *
 * Context: cfg_lock held.
 */
void vfio_ap_host_config_shrink(const struct ap_config_info *qci,
				struct vfio_ap_apcb *lost)
{
	const struct vfio_ap_apcb *cur = &vfio_ap_model.host;
	struct vfio_ap_apcb host;

	vfio_ap_assert_cfg_locked();
	vfio_ap_apcb_from_qci(&host, qci);
	bitmap_and(host.apm, host.apm, cur->apm, VFIO_AP_MAX_ADAPTERS);
	bitmap_and(host.aqm, host.aqm, cur->aqm, VFIO_AP_MAX_DOMAINS);
	bitmap_and(host.adm, host.adm, cur->adm, VFIO_AP_MAX_DOMAINS);
	vfio_ap_host_set(&host, lost, cur, &host);
}

/**
 * vfio_ap_host_config() - the host's AP configuration as recorded
 *
 * Context: cfg_lock held, for as long as the result is used.
 * Return: the configuration; callers must not change it.
 */
const struct vfio_ap_apcb *vfio_ap_host_config(void)
{
	vfio_ap_assert_cfg_locked();
	return &vfio_ap_model.host;
}

/**
 * vfio_ap_host_has_queue() - tell whether the host configuration has a queue
 * @qid: the APQN
 *
 * Context: cfg_lock held.
 * Return: true if both the adapter and the usage domain are configured.
 */
bool vfio_ap_host_has_queue(ap_qid_t qid)
{
	vfio_ap_assert_cfg_locked();
	return test_bit_inv(vfio_ap_qid_apid(qid), vfio_ap_model.host.apm) &&
	       test_bit_inv(vfio_ap_qid_apqi(qid), vfio_ap_model.host.aqm);
}

/**
 * vfio_ap_max_apid() - the highest adapter number the machine supports
 *
 * The limits change only with the host configuration and only gate input,
 * so a reader without cfg_lock gets the old or the new value, as it would
 * a moment earlier or later.  READ_ONCE() pairs with WRITE_ONCE() in
 * vfio_ap_set_max_ids().
 *
 * Context: any; no lock needed.
 * Return: the number.
 */
unsigned int vfio_ap_max_apid(void)
{
	return READ_ONCE(vfio_ap_model.max_apid);
}

/**
 * vfio_ap_max_apqi() - the highest domain number the machine supports
 *
 * Read without a lock, as vfio_ap_max_apid().
 *
 * Context: any; no lock needed.
 * Return: the number.
 */
unsigned int vfio_ap_max_apqi(void)
{
	return READ_ONCE(vfio_ap_model.max_apqi);
}

/* --- the queue table and which queues are usable --- */

/**
 * vfio_ap_mdev_owning() - find the mdev an APQN is assigned to
 * @apid: adapter number
 * @apqi: domain number
 *
 * Assignments never overlap, so there is at most one.
 *
 * Context: cfg_lock or state_lock held.
 * Return: the mdev, or NULL if no mdev has APQN (@apid, @apqi).
 */
static struct vfio_ap_mdev *vfio_ap_mdev_owning(unsigned long apid,
						unsigned long apqi)
{
	struct vfio_ap_mdev *m;

	vfio_ap_assert_cfg_or_state_locked();
	list_for_each_entry(m, &vfio_ap_model.mdevs, node)
		if (test_bit_inv(apid, m->assigned.apm) &&
		    test_bit_inv(apqi, m->assigned.aqm))
			return m;

	return NULL;
}

/**
 * vfio_ap_queue_add() - enter a newly bound queue in the queue table
 * @q: the queue; it is not usable until vfio_ap_queue_set_usable() says so
 *
 * Context: cfg_lock held; takes state_lock.
 * Return: 0, or the error of xa_insert() (-EBUSY if the APQN is in the
 * table already).
 */
int vfio_ap_queue_add(struct vfio_ap_queue *q)
{
	int ret;

	vfio_ap_assert_cfg_locked();
	mutex_lock(&vfio_ap_drv.state_lock);
	/* The one search of the mdevs: from now on assignments keep it. */
	q->owner = vfio_ap_mdev_owning(vfio_ap_qid_apid(q->qid),
				       vfio_ap_qid_apqi(q->qid));
	ret = xa_insert(&vfio_ap_model.queues, q->qid, q, GFP_KERNEL);
	mutex_unlock(&vfio_ap_drv.state_lock);

	return ret;
}

/**
 * vfio_ap_queue_del() - take a queue that is being unbound out of the table
 * @q: the queue
 *
 * The caller holds state_lock across this and the release of the queue's
 * interrupts, so the PQAP hook never finds a queue half gone.
 *
 * Context: cfg_lock and state_lock held.
 */
void vfio_ap_queue_del(struct vfio_ap_queue *q)
{
	vfio_ap_assert_cfg_locked();
	vfio_ap_assert_state_locked();
	xa_erase(&vfio_ap_model.queues, q->qid);
}

/**
 * vfio_ap_queue_lookup() - find a queue bound to vfio_ap
 * @apid: adapter number
 * @apqi: domain number
 *
 * Context: cfg_lock or state_lock held.
 * Return: the queue, or NULL if APQN (@apid, @apqi) is not bound to us.
 */
struct vfio_ap_queue *vfio_ap_queue_lookup(unsigned long apid,
					   unsigned long apqi)
{
	vfio_ap_assert_cfg_or_state_locked();
	return xa_load(&vfio_ap_model.queues, AP_MKQID(apid, apqi));
}

/**
 * vfio_ap_queue_set_usable() - record that a guest may get a newly bound queue
 * @q: the queue
 *
 * Takes effect at the next guest refresh.
 *
 * Context: cfg_lock held; may sleep.
 * Return: 0, or -ENOMEM if the queue map could not grow.
 */
int vfio_ap_queue_set_usable(struct vfio_ap_queue *q)
{
	vfio_ap_assert_cfg_locked();
	return vfio_ap_queue_map_add(&vfio_ap_model.queue_map,
				     vfio_ap_qid_apid(q->qid),
				     vfio_ap_qid_apqi(q->qid));
}

/**
 * vfio_ap_queue_set_unusable() - record that a guest may not get a queue
 * @q: the queue; it goes, or a reset could not bring it to a clean state
 *
 * Takes effect at the next guest refresh.
 *
 * Context: cfg_lock held.
 */
void vfio_ap_queue_set_unusable(struct vfio_ap_queue *q)
{
	vfio_ap_assert_cfg_locked();
	vfio_ap_queue_map_remove(&vfio_ap_model.queue_map,
				 vfio_ap_qid_apid(q->qid),
				 vfio_ap_qid_apqi(q->qid));
}

/**
 * vfio_ap_queue_usable() - tell whether a guest may get a bound queue
 * @q: the queue
 *
 * Context: cfg_lock held.
 * Return: false if the queue is being unbound or a reset left it broken.
 */
bool vfio_ap_queue_usable(const struct vfio_ap_queue *q)
{
	vfio_ap_assert_cfg_locked();
	return vfio_ap_queue_map_test(&vfio_ap_model.queue_map,
				      vfio_ap_qid_apid(q->qid),
				      vfio_ap_qid_apqi(q->qid));
}

/* --- the mdevs and what is assigned to them --- */

/**
 * vfio_ap_mdev_add() - enter a new mdev in the list of mdevs
 * @m: the mdev
 *
 * Context: cfg_lock held; takes state_lock.
 */
void vfio_ap_mdev_add(struct vfio_ap_mdev *m)
{
	vfio_ap_assert_cfg_locked();
	mutex_lock(&vfio_ap_drv.state_lock);
	list_add_tail(&m->node, &vfio_ap_model.mdevs);
	mutex_unlock(&vfio_ap_drv.state_lock);
}

/* Point the bound queue @apid.@apqi at @m if @new has it, else away from @m. */
static void vfio_ap_owner_update(struct vfio_ap_mdev *m,
				 const struct vfio_ap_apcb *new,
				 struct vfio_ap_queue *q)
{
	if (test_bit_inv(vfio_ap_qid_apid(q->qid), new->apm) &&
	    test_bit_inv(vfio_ap_qid_apqi(q->qid), new->aqm))
		q->owner = m;
	else if (q->owner == m)
		q->owner = NULL;
}

/*
 * With the same domains only queues of adapters that came or went can
 * change owner, else those of any adapter @m had or has.  Visiting the
 * bound ones costs no more than the queues that exist, under state_lock.
 */
static void vfio_ap_owners_update(struct vfio_ap_mdev *m,
				  const struct vfio_ap_apcb *old,
				  const struct vfio_ap_apcb *new)
{
	DECLARE_BITMAP(apm, VFIO_AP_MAX_ADAPTERS);
	struct vfio_ap_queue *q;
	unsigned long apid, qid;

	vfio_ap_assert_cfg_locked();
	vfio_ap_assert_state_locked();
	if (bitmap_equal(old->aqm, new->aqm, VFIO_AP_MAX_DOMAINS))
		bitmap_xor(apm, old->apm, new->apm, VFIO_AP_MAX_ADAPTERS);
	else
		bitmap_or(apm, old->apm, new->apm, VFIO_AP_MAX_ADAPTERS);
	for_each_set_bit_inv(apid, apm, VFIO_AP_MAX_ADAPTERS)
		xa_for_each_range(&vfio_ap_model.queues, qid, q,
				  AP_MKQID(apid, 0),
				  AP_MKQID(apid, VFIO_AP_MAX_DOMAINS - 1))
			vfio_ap_owner_update(m, new, q);
}

/**
 * vfio_ap_mdev_del() - take an mdev out of the list of mdevs
 * @m: the mdev
 *
 * Its queues are left without an owner.
 *
 * Context: cfg_lock held; takes state_lock.
 */
void vfio_ap_mdev_del(struct vfio_ap_mdev *m)
{
	static const struct vfio_ap_apcb none;

	vfio_ap_assert_cfg_locked();
	mutex_lock(&vfio_ap_drv.state_lock);
	vfio_ap_owners_update(m, &m->assigned, &none);
	list_del_init(&m->node);
	mutex_unlock(&vfio_ap_drv.state_lock);
}

/* The mdev after list position @pos, or NULL at the end. */
static struct vfio_ap_mdev *vfio_ap_mdev_after(struct list_head *pos)
{
	vfio_ap_assert_cfg_or_state_locked();
	if (pos->next == &vfio_ap_model.mdevs)
		return NULL;
	return list_entry(pos->next, struct vfio_ap_mdev, node);
}

/**
 * vfio_ap_mdev_first() - start a walk over all mdevs
 *
 * for (m = vfio_ap_mdev_first(); m; m = vfio_ap_mdev_next(m)) visits each
 * mdev once, in the order they were created.
 *
 * Context: cfg_lock or state_lock held for the whole walk.
 * Return: the first mdev, or NULL if there is none.
 */
struct vfio_ap_mdev *vfio_ap_mdev_first(void)
{
	return vfio_ap_mdev_after(&vfio_ap_model.mdevs);
}

/**
 * vfio_ap_mdev_next() - continue a walk over all mdevs
 * @m: the mdev the walk is at
 *
 * Context: cfg_lock or state_lock held for the whole walk.
 * Return: the mdev after @m, or NULL at the end.
 */
struct vfio_ap_mdev *vfio_ap_mdev_next(struct vfio_ap_mdev *m)
{
	return vfio_ap_mdev_after(&m->node);
}

/**
 * vfio_ap_mdev_set_assigned() - store what is assigned to an mdev
 * @m: the mdev
 * @assigned: the new assignment, already checked against the AP bus masks
 *	      and the other mdevs
 *
 * Context: cfg_lock held; takes state_lock.
 */
void vfio_ap_mdev_set_assigned(struct vfio_ap_mdev *m,
			       const struct vfio_ap_apcb *assigned)
{
	vfio_ap_assert_cfg_locked();
	mutex_lock(&vfio_ap_drv.state_lock);
	vfio_ap_owners_update(m, &m->assigned, assigned);
	m->assigned = *assigned;
	mutex_unlock(&vfio_ap_drv.state_lock);
}

/**
 * vfio_ap_queue_owner() - the mdev a bound queue is assigned to
 * @q: the queue
 *
 * Context: cfg_lock or state_lock held.
 * Return: the mdev, or NULL if no mdev has the queue's APQN.
 */
struct vfio_ap_mdev *vfio_ap_queue_owner(const struct vfio_ap_queue *q)
{
	vfio_ap_assert_cfg_or_state_locked();
	return q->owner;
}

/* --- what a guest may see --- */

/**
 * vfio_ap_model_compute_guest() - run the hot-plug engine on the model
 * @grant: what the mdev grants its guest
 * @old_guest: what the guest sees now
 * @res: the engine's decision
 *
 * See vfio_ap_compute_guest(); the host configuration and the usable
 * queues are the model's.
 *
 * Context: cfg_lock held.
 */
void vfio_ap_model_compute_guest(const struct vfio_ap_apcb *grant,
				 const struct vfio_ap_apcb *old_guest,
				 struct vfio_ap_plug_result *res)
{
	vfio_ap_assert_cfg_locked();
	vfio_ap_compute_guest(grant, &vfio_ap_model.host,
			      &vfio_ap_model.queue_map, old_guest, res);
}

/**
 * vfio_ap_model_explain_missing() - tell why a guest lacks what is assigned
 * @assigned: what is assigned to the mdev
 * @guest: what its guest sees
 * @why: the answer
 *
 * See vfio_ap_explain_missing(); the host configuration and the usable
 * queues are the model's.
 *
 * Context: cfg_lock held.
 */
void vfio_ap_model_explain_missing(const struct vfio_ap_apcb *assigned,
				   const struct vfio_ap_apcb *guest,
				   struct vfio_ap_missing *why)
{
	vfio_ap_assert_cfg_locked();
	vfio_ap_explain_missing(assigned, &vfio_ap_model.host,
				&vfio_ap_model.queue_map, guest, why);
}

/**
 * vfio_ap_model_missing_queues() - the queues that keep an adapter out
 * @apid: the adapter
 * @aqm: the guest's domains
 * @missing: gets the domains in @aqm whose queue on @apid is not usable
 *
 * Context: cfg_lock held.
 */
void vfio_ap_model_missing_queues(unsigned int apid, const unsigned long *aqm,
				  unsigned long *missing)
{
	vfio_ap_assert_cfg_locked();
	vfio_ap_missing_queues(&vfio_ap_model.queue_map, apid, aqm, missing);
}

/**
 * vfio_ap_model_exit() - free what the model holds, at module exit
 *
 * Every queue and mdev is gone by then.
 */
void vfio_ap_model_exit(void)
{
	xa_destroy(&vfio_ap_model.queues);
	vfio_ap_queue_map_release(&vfio_ap_model.queue_map);
}

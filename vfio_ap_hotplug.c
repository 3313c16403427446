// SPDX-License-Identifier: GPL-2.0
/*
 * Hot-plug engine: decides which adapters, domains and control domains a
 * guest sees, from what is assigned, what the host's configuration holds and
 * which queues are bound to vfio_ap.
 *
 * Everything here works on whole words of the 256-bit masks: the MSB-0 bit
 * numbering only matters when a single ID is set or tested, so word-wise
 * AND, AND NOT, subset and equality are correct as they are.
 */

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/string.h>

#include "vfio_ap_hotplug.h"

/**
 * vfio_ap_apcb_clear() - empty all three masks of an APCB
 * @apcb: the APCB to clear
 */
void vfio_ap_apcb_clear(struct vfio_ap_apcb *apcb)
{
	bitmap_zero(apcb->apm, VFIO_AP_MAX_ADAPTERS);
	bitmap_zero(apcb->aqm, VFIO_AP_MAX_DOMAINS);
	bitmap_zero(apcb->adm, VFIO_AP_MAX_DOMAINS);
}

/**
 * vfio_ap_apcb_equal() - compare two APCBs
 * @a: one APCB
 * @b: the other APCB
 *
 * Return: true if the adapter, domain and control domain masks all match.
 */
bool vfio_ap_apcb_equal(const struct vfio_ap_apcb *a,
			const struct vfio_ap_apcb *b)
{
	return bitmap_equal(a->apm, b->apm, VFIO_AP_MAX_ADAPTERS) &&
	       bitmap_equal(a->aqm, b->aqm, VFIO_AP_MAX_DOMAINS) &&
	       bitmap_equal(a->adm, b->adm, VFIO_AP_MAX_DOMAINS);
}

/**
 * vfio_ap_apcb_empty() - tell whether an APCB grants nothing
 * @apcb: the APCB to check
 *
 * Return: true if no adapter, no domain and no control domain is set.
 */
bool vfio_ap_apcb_empty(const struct vfio_ap_apcb *apcb)
{
	return bitmap_empty(apcb->apm, VFIO_AP_MAX_ADAPTERS) &&
	       bitmap_empty(apcb->aqm, VFIO_AP_MAX_DOMAINS) &&
	       bitmap_empty(apcb->adm, VFIO_AP_MAX_DOMAINS);
}

/**
 * vfio_ap_matrices_intersect() - tell whether two matrices share an APQN
 * @apm_a: adapters of the first matrix
 * @aqm_a: domains of the first matrix
 * @apm_b: adapters of the second matrix
 * @aqm_b: domains of the second matrix
 *
 * A matrix holds every APQN of its adapters crossed with its domains, so two
 * matrices share an APQN exactly when they share an adapter and a domain.
 *
 * Return: true if at least one APQN is in both matrices.
 */
bool vfio_ap_matrices_intersect(const unsigned long *apm_a,
				const unsigned long *aqm_a,
				const unsigned long *apm_b,
				const unsigned long *aqm_b)
{
	return bitmap_intersects(apm_a, apm_b, VFIO_AP_MAX_ADAPTERS) &&
	       bitmap_intersects(aqm_a, aqm_b, VFIO_AP_MAX_DOMAINS);
}

/**
 * vfio_ap_mask_highest_bit() - find the highest ID set in an MSB-0 mask
 * @mask: the mask, ID n being set_bit_inv(n)
 * @nbits: number of IDs to look at; IDs from @nbits on are ignored
 *
 * Return: the highest ID below @nbits that is set, or -1 if there is none.
 */
int vfio_ap_mask_highest_bit(const unsigned long *mask, unsigned int nbits)
{
	unsigned int word = BITS_TO_LONGS(nbits);
	unsigned int tail = nbits % BITS_PER_LONG;
	unsigned long bits;

	while (word--) {
		bits = mask[word];
		/* In MSB-0 order the IDs of a partial last word are its top bits. */
		if (tail && word == nbits / BITS_PER_LONG)
			bits &= ~0UL << (BITS_PER_LONG - tail);
		/* ...and the highest ID of a word is its least significant bit. */
		if (bits)
			return word * BITS_PER_LONG + (BITS_PER_LONG - 1 - __ffs(bits));
	}
	return -1;
}

static bool vfio_ap_queue_map_valid(unsigned int apid, unsigned int apqi)
{
	return !WARN_ON_ONCE(apid >= VFIO_AP_MAX_ADAPTERS ||
			     apqi >= VFIO_AP_MAX_DOMAINS);
}

/**
 * vfio_ap_queue_map_test() - tell whether a queue can be given to a guest
 * @map: the queue map
 * @apid: adapter number
 * @apqi: domain number
 *
 * Return: true if the queue (@apid, @apqi) is bound to vfio_ap and usable.
 */
bool vfio_ap_queue_map_test(const struct vfio_ap_queue_map *map,
			    unsigned int apid, unsigned int apqi)
{
	if (!vfio_ap_queue_map_valid(apid, apqi) || !map->rows[apid])
		return false;
	return test_bit_inv(apqi, map->rows[apid]);
}

/**
 * vfio_ap_queue_map_add() - record that a queue can be given to a guest
 * @map: the queue map
 * @apid: adapter number
 * @apqi: domain number
 *
 * The first usable queue of an adapter allocates the adapter's row.
 * Not atomic: the caller serializes all updates of @map.
 *
 * Context: may sleep.
 * Return: 0, -EINVAL for an ID out of range, or -ENOMEM with @map unchanged.
 */
int vfio_ap_queue_map_add(struct vfio_ap_queue_map *map,
			  unsigned int apid, unsigned int apqi)
{
	if (!vfio_ap_queue_map_valid(apid, apqi))
		return -EINVAL;
	if (!map->rows[apid]) {
		map->rows[apid] = bitmap_zalloc(VFIO_AP_MAX_DOMAINS, GFP_KERNEL);
		if (!map->rows[apid])
			return -ENOMEM;
	}
	__set_bit_inv(apqi, map->rows[apid]);
	return 0;
}

/**
 * vfio_ap_queue_map_remove() - record that a queue cannot go to a guest
 * @map: the queue map
 * @apid: adapter number
 * @apqi: domain number
 *
 * The last usable queue of an adapter frees the adapter's row.  Removing
 * a queue that is not in @map does nothing.  Not atomic, as
 * vfio_ap_queue_map_add().
 */
void vfio_ap_queue_map_remove(struct vfio_ap_queue_map *map,
			      unsigned int apid, unsigned int apqi)
{
	if (!vfio_ap_queue_map_valid(apid, apqi) || !map->rows[apid])
		return;
	__clear_bit_inv(apqi, map->rows[apid]);
	if (bitmap_empty(map->rows[apid], VFIO_AP_MAX_DOMAINS)) {
		bitmap_free(map->rows[apid]);
		map->rows[apid] = NULL;
	}
}

/**
 * vfio_ap_queue_map_release() - free every row of a queue map
 * @map: the queue map; empty afterwards
 */
void vfio_ap_queue_map_release(struct vfio_ap_queue_map *map)
{
	unsigned int apid;

	for (apid = 0; apid < VFIO_AP_MAX_ADAPTERS; apid++) {
		bitmap_free(map->rows[apid]);
		map->rows[apid] = NULL;
	}
}

/* Rule 1: the guest only gets assigned resources the host configuration has. */
static void vfio_ap_limit_to_host_config(struct vfio_ap_apcb *guest,
					 const struct vfio_ap_apcb *assigned,
					 const struct vfio_ap_apcb *host)
{
	bitmap_and(guest->apm, assigned->apm, host->apm, VFIO_AP_MAX_ADAPTERS);
	bitmap_and(guest->aqm, assigned->aqm, host->aqm, VFIO_AP_MAX_DOMAINS);
	bitmap_and(guest->adm, assigned->adm, host->adm, VFIO_AP_MAX_DOMAINS);
}

/*
 * The architecture cannot hide a single APQN, so an adapter can only be
 * given if every one of its queues over the guest's domains is usable.
 * With no domains there is no queue to miss: the adapter stays, and the
 * guest sees it without usage domains.
 */
static bool vfio_ap_adapter_fully_usable(const struct vfio_ap_queue_map *queues,
					 unsigned long apid,
					 const unsigned long *aqm)
{
	const unsigned long *row = queues->rows[apid];

	if (!row)
		return bitmap_empty(aqm, VFIO_AP_MAX_DOMAINS);
	return bitmap_subset(aqm, row, VFIO_AP_MAX_DOMAINS);
}

/* Rule 2: drop adapters with a missing queue; domains are never dropped. */
static void vfio_ap_drop_incomplete_adapters(struct vfio_ap_apcb *guest,
					     const struct vfio_ap_queue_map *queues)
{
	unsigned long apid;

	for_each_set_bit_inv(apid, guest->apm, VFIO_AP_MAX_ADAPTERS)
		if (!vfio_ap_adapter_fully_usable(queues, apid, guest->aqm))
			__clear_bit_inv(apid, guest->apm);
}

/**
 * vfio_ap_compute_guest() - decide what the guest of an mdev sees
 * @assigned: what is assigned to the mdev
 * @host: the host's AP configuration
 * @queues: which queues are bound to vfio_ap and usable
 * @old_guest: what the guest sees now (all zero if it sees nothing)
 * @res: where the decision is stored
 *
 * The guest gets the assigned adapters, domains and control domains that the
 * host configuration holds, minus every adapter one of whose queues over the
 * guest's domains is not usable.  @res also tells what the guest loses
 * compared with @old_guest and whether anything changed at all.
 *
 * Runs in time linear in the number of mask words plus adapters and does
 * not allocate.  @old_guest, @assigned or @host may point to @res->guest.
 */
void vfio_ap_compute_guest(const struct vfio_ap_apcb *assigned,
			   const struct vfio_ap_apcb *host,
			   const struct vfio_ap_queue_map *queues,
			   const struct vfio_ap_apcb *old_guest,
			   struct vfio_ap_plug_result *res)
{
	struct vfio_ap_apcb guest;

	vfio_ap_limit_to_host_config(&guest, assigned, host);
	vfio_ap_drop_incomplete_adapters(&guest, queues);

	/* Compare against @old_guest before @res->guest may overwrite it. */
	bitmap_andnot(res->unplugged_apm, old_guest->apm, guest.apm,
		      VFIO_AP_MAX_ADAPTERS);
	bitmap_andnot(res->unplugged_aqm, old_guest->aqm, guest.aqm,
		      VFIO_AP_MAX_DOMAINS);
	res->changed = !vfio_ap_apcb_equal(old_guest, &guest);
	res->guest = guest;
}

static bool vfio_ap_apcb_has_apqn(const struct vfio_ap_apcb *apcb,
				  unsigned int apid, unsigned int apqi)
{
	return test_bit_inv(apid, apcb->apm) && test_bit_inv(apqi, apcb->aqm);
}

/**
 * vfio_ap_apqn_unplugged() - tell whether a queue left the guest
 * @old_guest: the guest APCB before vfio_ap_compute_guest()
 * @res: the result vfio_ap_compute_guest() computed from @old_guest
 * @apid: adapter number
 * @apqi: domain number
 *
 * Return: true if the guest had the APQN (@apid, @apqi) and no longer has it.
 */
bool vfio_ap_apqn_unplugged(const struct vfio_ap_apcb *old_guest,
			    const struct vfio_ap_plug_result *res,
			    unsigned int apid, unsigned int apqi)
{
	if (apid >= VFIO_AP_MAX_ADAPTERS || apqi >= VFIO_AP_MAX_DOMAINS)
		return false;
	return vfio_ap_apcb_has_apqn(old_guest, apid, apqi) &&
	       !vfio_ap_apcb_has_apqn(&res->guest, apid, apqi);
}

/**
 * vfio_ap_id_change_shows() - tell whether one assignment change can reach
 *			       the guest
 * @host_mask: the host configuration's mask of the ID's kind
 * @guest_mask: the guest's mask of that kind
 * @id: the adapter, domain or control domain
 * @assign: @id is being assigned rather than unassigned
 *
 * The guest sees what is assigned and in the host configuration, minus
 * adapters with a queue missing over its domains.  So an ID the host
 * lacks adds nothing when it is assigned, and an ID the guest lacks takes
 * nothing away when it is unassigned (a domain outside the guest's
 * decides no adapter's fate).
 *
 * Return: false if vfio_ap_compute_guest() must give the guest what it
 * has now; true if it may differ.
 */
bool vfio_ap_id_change_shows(const unsigned long *host_mask,
			     const unsigned long *guest_mask,
			     unsigned long id, bool assign)
{
	return test_bit_inv(id, assign ? host_mask : guest_mask);
}

/**
 * vfio_ap_explain_missing() - tell why a guest lacks what is assigned
 * @assigned: what is assigned to the mdev
 * @host: the host's AP configuration
 * @queues: which queues are bound to vfio_ap and usable
 * @guest: what the guest sees
 * @why: where the answer is stored
 *
 * Every assigned ID @guest lacks lands in exactly one set of @why: the
 * host configuration lacks it (rule 1 of vfio_ap_compute_guest()), it is
 * an adapter one of whose queues over the guest's domains is not usable
 * (rule 2), or neither rule withholds it and @guest is behind the rules
 * (pending).  vfio_ap_missing_queues() names the queues of rule 2.
 */
void vfio_ap_explain_missing(const struct vfio_ap_apcb *assigned,
			     const struct vfio_ap_apcb *host,
			     const struct vfio_ap_queue_map *queues,
			     const struct vfio_ap_apcb *guest,
			     struct vfio_ap_missing *why)
{
	struct vfio_ap_apcb rules, lacks;

	vfio_ap_limit_to_host_config(&rules, assigned, host);
	bitmap_copy(why->domains, rules.aqm, VFIO_AP_MAX_DOMAINS);
	vfio_ap_drop_incomplete_adapters(&rules, queues);

	bitmap_andnot(lacks.apm, assigned->apm, guest->apm, VFIO_AP_MAX_ADAPTERS);
	bitmap_andnot(lacks.aqm, assigned->aqm, guest->aqm, VFIO_AP_MAX_DOMAINS);
	bitmap_andnot(lacks.adm, assigned->adm, guest->adm, VFIO_AP_MAX_DOMAINS);

	bitmap_andnot(why->not_in_host.apm, lacks.apm, host->apm,
		      VFIO_AP_MAX_ADAPTERS);
	bitmap_andnot(why->not_in_host.aqm, lacks.aqm, host->aqm,
		      VFIO_AP_MAX_DOMAINS);
	bitmap_andnot(why->not_in_host.adm, lacks.adm, host->adm,
		      VFIO_AP_MAX_DOMAINS);

	/* In the host, assigned, and still dropped: rule 2 took it. */
	bitmap_and(why->lacking_queue, lacks.apm, host->apm,
		   VFIO_AP_MAX_ADAPTERS);
	bitmap_andnot(why->lacking_queue, why->lacking_queue, rules.apm,
		      VFIO_AP_MAX_ADAPTERS);

	bitmap_andnot(why->pending.apm, lacks.apm, why->not_in_host.apm,
		      VFIO_AP_MAX_ADAPTERS);
	bitmap_andnot(why->pending.apm, why->pending.apm, why->lacking_queue,
		      VFIO_AP_MAX_ADAPTERS);
	bitmap_andnot(why->pending.aqm, lacks.aqm, why->not_in_host.aqm,
		      VFIO_AP_MAX_DOMAINS);
	bitmap_andnot(why->pending.adm, lacks.adm, why->not_in_host.adm,
		      VFIO_AP_MAX_DOMAINS);
}

/**
 * vfio_ap_missing_queues() - the queues that keep an adapter from a guest
 * @queues: which queues are bound to vfio_ap and usable
 * @apid: the adapter
 * @aqm: the guest's domains (&vfio_ap_missing.domains)
 * @missing: gets the domains in @aqm whose queue on @apid is not usable
 */
void vfio_ap_missing_queues(const struct vfio_ap_queue_map *queues,
			    unsigned int apid, const unsigned long *aqm,
			    unsigned long *missing)
{
	const unsigned long *row;

	if (WARN_ON_ONCE(apid >= VFIO_AP_MAX_ADAPTERS)) {
		bitmap_zero(missing, VFIO_AP_MAX_DOMAINS);
		return;
	}
	row = queues->rows[apid];
	/* An adapter without a row has no usable queue at all. */
	if (!row)
		bitmap_copy(missing, aqm, VFIO_AP_MAX_DOMAINS);
	else
		bitmap_andnot(missing, aqm, row, VFIO_AP_MAX_DOMAINS);
}

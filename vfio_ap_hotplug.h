/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hot-plug engine: the guest's AP configuration as pure functions of masks.
 *
 * Nothing declared here takes a lock, issues an AP instruction or touches
 * KVM.  Callers snapshot their state into the structures below, ask the
 * engine what the guest should see, and apply the answer once.
 */
#ifndef _VFIO_AP_HOTPLUG_H_
#define _VFIO_AP_HOTPLUG_H_

#include <linux/bitmap.h>
#include <linux/types.h>

/* Architectural limits: APIDs and APQIs are 8 bits wide. */
#define VFIO_AP_MAX_ADAPTERS	256
#define VFIO_AP_MAX_DOMAINS	256

/**
 * struct vfio_ap_apcb - the three masks of an AP control block
 * @apm: adapters, bit n = APID n
 * @aqm: usage domains, bit n = APQI n
 * @adm: control domains, bit n = domain n
 *
 * Bits are numbered MSB-0, as the architecture numbers them: ID n is
 * set_bit_inv(n).  QCI, the AP bus masks and the CRYCB use the same layout,
 * so masks move between them by copy.  The same type describes what is
 * assigned to an mdev, what the host's configuration holds and what a
 * guest sees.
 */
struct vfio_ap_apcb {
	DECLARE_BITMAP(apm, VFIO_AP_MAX_ADAPTERS);
	DECLARE_BITMAP(aqm, VFIO_AP_MAX_DOMAINS);
	DECLARE_BITMAP(adm, VFIO_AP_MAX_DOMAINS);
};

/**
 * struct vfio_ap_queue_map - which queues vfio_ap can hand to a guest
 * @rows: for each APID, NULL while none of its queues is usable, else the
 *	  APQIs (MSB-0) of its usable queues
 *
 * A host has a few adapters, so a row (32 bytes) is only allocated for an
 * adapter that has a usable queue: the map costs 2 KiB of pointers plus
 * 32 bytes per such adapter, not a full 8 KiB table.  Callers keep one
 * instance, not one per mdev, and free it with vfio_ap_queue_map_release().
 */
struct vfio_ap_queue_map {
	unsigned long *rows[VFIO_AP_MAX_ADAPTERS];
};

/**
 * struct vfio_ap_plug_result - what the engine decided for one mdev
 * @guest: the APCB the guest must see now
 * @unplugged_apm: adapters the guest had before and loses now
 * @unplugged_aqm: domains the guest had before and loses now
 * @changed: @guest differs from the previous guest APCB in any mask
 *
 * Queues that leave the guest are (@unplugged_apm x old aqm) plus
 * (kept adapters x @unplugged_aqm); vfio_ap_apqn_unplugged() tells them apart.
 */
struct vfio_ap_plug_result {
	struct vfio_ap_apcb guest;
	DECLARE_BITMAP(unplugged_apm, VFIO_AP_MAX_ADAPTERS);
	DECLARE_BITMAP(unplugged_aqm, VFIO_AP_MAX_DOMAINS);
	bool changed;
};

/**
 * struct vfio_ap_missing - what an mdev's guest lacks of its assignment, and why
 * @not_in_host: assigned adapters, domains and control domains the guest
 *		 lacks because the host configuration lacks them
 * @lacking_queue: assigned adapters of the host configuration the guest
 *		   lacks because a queue over @domains is not usable
 * @domains: the domains those queues were looked for over: the assigned
 *	     domains the host configuration has
 * @pending: assigned IDs the guest lacks for neither reason: it has not
 *	     been refreshed since they became usable (the AP bus is between
 *	     a configuration change and the end of its scan)
 *
 * The three sets partition what is assigned and not in the guest.
 */
struct vfio_ap_missing {
	struct vfio_ap_apcb not_in_host;
	DECLARE_BITMAP(lacking_queue, VFIO_AP_MAX_ADAPTERS);
	DECLARE_BITMAP(domains, VFIO_AP_MAX_DOMAINS);
	struct vfio_ap_apcb pending;
};

/* --- masks and matrices (vfio_ap_hotplug.c) --- */

void vfio_ap_apcb_clear(struct vfio_ap_apcb *apcb);
bool vfio_ap_apcb_equal(const struct vfio_ap_apcb *a,
			const struct vfio_ap_apcb *b);
bool vfio_ap_apcb_empty(const struct vfio_ap_apcb *apcb);

bool vfio_ap_matrices_intersect(const unsigned long *apm_a,
				const unsigned long *aqm_a,
				const unsigned long *apm_b,
				const unsigned long *aqm_b);

int vfio_ap_mask_highest_bit(const unsigned long *mask, unsigned int nbits);

bool vfio_ap_queue_map_test(const struct vfio_ap_queue_map *map,
			    unsigned int apid, unsigned int apqi);
int __must_check vfio_ap_queue_map_add(struct vfio_ap_queue_map *map,
				       unsigned int apid, unsigned int apqi);
void vfio_ap_queue_map_remove(struct vfio_ap_queue_map *map,
			      unsigned int apid, unsigned int apqi);
void vfio_ap_queue_map_release(struct vfio_ap_queue_map *map);

/* --- the engine (vfio_ap_hotplug.c) --- */

void vfio_ap_compute_guest(const struct vfio_ap_apcb *assigned,
			   const struct vfio_ap_apcb *host,
			   const struct vfio_ap_queue_map *queues,
			   const struct vfio_ap_apcb *old_guest,
			   struct vfio_ap_plug_result *res);

bool vfio_ap_id_change_shows(const unsigned long *host_mask,
			     const unsigned long *guest_mask,
			     unsigned long id, bool assign);

bool vfio_ap_apqn_unplugged(const struct vfio_ap_apcb *old_guest,
			    const struct vfio_ap_plug_result *res,
			    unsigned int apid, unsigned int apqi);

/* --- why an assigned ID is not in the guest (vfio_ap_hotplug.c) --- */

void vfio_ap_explain_missing(const struct vfio_ap_apcb *assigned,
			     const struct vfio_ap_apcb *host,
			     const struct vfio_ap_queue_map *queues,
			     const struct vfio_ap_apcb *guest,
			     struct vfio_ap_missing *why);

void vfio_ap_missing_queues(const struct vfio_ap_queue_map *queues,
			    unsigned int apid, const unsigned long *aqm,
			    unsigned long *missing);

#endif /* _VFIO_AP_HOTPLUG_H_ */

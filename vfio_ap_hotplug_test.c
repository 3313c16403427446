// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the hot-plug engine: the filtering rules, what is plugged
 * and unplugged when assignments, bindings or the host configuration change,
 * and the mask helpers the rest of the driver builds on.
 *
 * Expected results are written out by hand from abi.md section 5, or come
 * from a per-APQN reference model in this file that shares no code with the
 * engine.
 */

#include <kunit/test.h>
#include <linux/args.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/sprintf.h>
#include <linux/string.h>

#include "vfio_ap_hotplug.h"

#define NBITS	256

/* A few IDs (or APQNs), written IDS(1, 2, 3) in the tables. */
struct id_list {
	unsigned int n;
	u16 id[12];
};

#define IDS(...)	{ .n = COUNT_ARGS(__VA_ARGS__), .id = { __VA_ARGS__ } }
#define APQN(apid, apqi)	((apid) << 8 | (apqi))
#define APQN_APID(apqn)		((apqn) >> 8)
#define APQN_APQI(apqn)		((apqn) & 0xff)

struct apcb_ids {
	struct id_list apm;
	struct id_list aqm;
	struct id_list adm;
};

#define APCB(a, q, d)	{ .apm = a, .aqm = q, .adm = d }

static void ids_to_mask(const struct id_list *ids, unsigned long *mask)
{
	unsigned int i;

	bitmap_zero(mask, NBITS);
	for (i = 0; i < ids->n; i++)
		set_bit_inv(ids->id[i], mask);
}

static void ids_to_apcb(const struct apcb_ids *ids, struct vfio_ap_apcb *apcb)
{
	ids_to_mask(&ids->apm, apcb->apm);
	ids_to_mask(&ids->aqm, apcb->aqm);
	ids_to_mask(&ids->adm, apcb->adm);
}

/* "1,4,255": readable failure messages, and stray bits show up too. */
static const char *mask_str(struct kunit *test, const unsigned long *mask)
{
	const size_t size = 4 * NBITS + 1;
	char *buf = kunit_kzalloc(test, size, GFP_KERNEL);
	unsigned long id;
	size_t len = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for_each_set_bit_inv(id, mask, NBITS)
		len += scnprintf(buf + len, size - len, "%s%lu",
				 len ? "," : "", id);
	return buf;
}

static void expect_mask(struct kunit *test, const char *what,
			const unsigned long *got, const struct id_list *want)
{
	DECLARE_BITMAP(want_mask, NBITS);

	ids_to_mask(want, want_mask);
	KUNIT_EXPECT_STREQ_MSG(test, mask_str(test, got),
			       mask_str(test, want_mask), "%s", what);
}

static void expect_apcb(struct kunit *test, const struct vfio_ap_apcb *got,
			const struct apcb_ids *want)
{
	expect_mask(test, "adapters", got->apm, &want->apm);
	expect_mask(test, "domains", got->aqm, &want->aqm);
	expect_mask(test, "control domains", got->adm, &want->adm);
}

KUNIT_DEFINE_ACTION_WRAPPER(queue_map_release_action,
			    vfio_ap_queue_map_release,
			    struct vfio_ap_queue_map *);

/* Let the test's end free the rows of @map, whatever fails before. */
static void queue_map_release_at_end(struct kunit *test,
				     struct vfio_ap_queue_map *map)
{
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action(test,
						  queue_map_release_action,
						  map));
}

static struct vfio_ap_queue_map *queue_map_new(struct kunit *test)
{
	struct vfio_ap_queue_map *map;

	map = kunit_kzalloc(test, sizeof(*map), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, map);
	queue_map_release_at_end(test, map);
	return map;
}

static void queue_map_add(struct kunit *test, struct vfio_ap_queue_map *map,
			  unsigned int apid, unsigned int apqi)
{
	KUNIT_ASSERT_EQ(test, 0, vfio_ap_queue_map_add(map, apid, apqi));
}

/* Every queue usable except the listed APQNs. */
static struct vfio_ap_queue_map *queues_all_but(struct kunit *test,
						const struct id_list *unbound)
{
	struct vfio_ap_queue_map *map = queue_map_new(test);
	unsigned int i, apid, apqi;

	for (apid = 0; apid < VFIO_AP_MAX_ADAPTERS; apid++)
		for (apqi = 0; apqi < VFIO_AP_MAX_DOMAINS; apqi++)
			queue_map_add(test, map, apid, apqi);
	for (i = 0; i < unbound->n; i++)
		vfio_ap_queue_map_remove(map, APQN_APID(unbound->id[i]),
					 APQN_APQI(unbound->id[i]));
	return map;
}

static unsigned int queue_map_weight(const struct vfio_ap_queue_map *map)
{
	unsigned int apid, apqi, n = 0;

	for (apid = 0; apid < VFIO_AP_MAX_ADAPTERS; apid++)
		for (apqi = 0; apqi < VFIO_AP_MAX_DOMAINS; apqi++)
			n += vfio_ap_queue_map_test(map, apid, apqi);
	return n;
}

static unsigned int queue_map_rows(const struct vfio_ap_queue_map *map)
{
	unsigned int apid, n = 0;

	for (apid = 0; apid < VFIO_AP_MAX_ADAPTERS; apid++)
		n += !!map->rows[apid];
	return n;
}

/* --- the engine, case by case --- */

struct plug_case {
	const char *desc;
	struct apcb_ids assigned;
	struct apcb_ids host;
	struct id_list unbound;		/* APQNs not usable; all others are */
	struct apcb_ids old;
	struct apcb_ids guest;		/* expected */
	struct id_list unplugged_apm;	/* expected */
	struct id_list unplugged_aqm;	/* expected */
	bool changed;			/* expected */
};

static const struct plug_case plug_cases[] = {
	{
		.desc = "nothing assigned: guest gets nothing",
		.host = APCB(IDS(1, 2), IDS(4, 5), IDS(4, 5)),
	},
	{
		.desc = "assigned, configured and bound: guest gets it all",
		.assigned = APCB(IDS(1, 2), IDS(4, 5), IDS(4)),
		.host = APCB(IDS(1, 2, 3), IDS(4, 5, 6), IDS(4, 5, 6)),
		.guest = APCB(IDS(1, 2), IDS(4, 5), IDS(4)),
		.changed = true,
	},
	{
		.desc = "adapter outside the host configuration is left out",
		.assigned = APCB(IDS(1, 2), IDS(4), IDS()),
		.host = APCB(IDS(1), IDS(4), IDS()),
		.guest = APCB(IDS(1), IDS(4), IDS()),
		.changed = true,
	},
	{
		.desc = "domain outside the host configuration is left out",
		.assigned = APCB(IDS(1), IDS(4, 5), IDS()),
		.host = APCB(IDS(1), IDS(5), IDS()),
		.guest = APCB(IDS(1), IDS(5), IDS()),
		.changed = true,
	},
	{
		.desc = "control domain outside the host configuration is left out",
		.assigned = APCB(IDS(), IDS(), IDS(4, 7)),
		.host = APCB(IDS(), IDS(), IDS(7)),
		.guest = APCB(IDS(), IDS(), IDS(7)),
		.changed = true,
	},
	{
		.desc = "one unbound queue drops its whole adapter",
		.assigned = APCB(IDS(1, 2), IDS(4, 5, 6), IDS()),
		.host = APCB(IDS(1, 2), IDS(4, 5, 6), IDS()),
		.unbound = IDS(APQN(2, 5)),
		.guest = APCB(IDS(1), IDS(4, 5, 6), IDS()),
		.changed = true,
	},
	{
		.desc = "unbound queues on every adapter never drop the domain",
		.assigned = APCB(IDS(1, 2, 3), IDS(4, 5), IDS()),
		.host = APCB(IDS(1, 2, 3), IDS(4, 5), IDS()),
		.unbound = IDS(APQN(1, 5), APQN(2, 5), APQN(3, 5)),
		.guest = APCB(IDS(), IDS(4, 5), IDS()),
		.changed = true,
	},
	{
		.desc = "unbound queue outside the guest's domains is ignored",
		.assigned = APCB(IDS(1), IDS(4, 5), IDS()),
		.host = APCB(IDS(1), IDS(4), IDS()),
		.unbound = IDS(APQN(1, 5)),
		.guest = APCB(IDS(1), IDS(4), IDS()),
		.changed = true,
	},
	{
		.desc = "unbound queue of an unassigned adapter is ignored",
		.assigned = APCB(IDS(1), IDS(4), IDS()),
		.host = APCB(IDS(1, 2), IDS(4), IDS()),
		.unbound = IDS(APQN(2, 4)),
		.guest = APCB(IDS(1), IDS(4), IDS()),
		.changed = true,
	},
	{
		/* Our decision: no domain means no queue can be missing. */
		.desc = "adapters without domains stay, bound or not",
		.assigned = APCB(IDS(1, 2), IDS(), IDS()),
		.host = APCB(IDS(1, 2), IDS(4), IDS()),
		.unbound = IDS(APQN(1, 4), APQN(2, 4)),
		.guest = APCB(IDS(1, 2), IDS(), IDS()),
		.changed = true,
	},
	{
		.desc = "over-provisioned: nothing in the host configuration yet",
		.assigned = APCB(IDS(1), IDS(4), IDS(4)),
		.unbound = IDS(APQN(1, 4)),
	},
	{
		.desc = "over-provisioned resources appear and are plugged",
		.assigned = APCB(IDS(1), IDS(4), IDS(4)),
		.host = APCB(IDS(1), IDS(4), IDS(4)),
		.guest = APCB(IDS(1), IDS(4), IDS(4)),
		.changed = true,
	},
	{
		.desc = "host adds an assigned adapter: plugged",
		.assigned = APCB(IDS(1, 2), IDS(4), IDS()),
		.host = APCB(IDS(1, 2), IDS(4), IDS()),
		.old = APCB(IDS(1), IDS(4), IDS()),
		.guest = APCB(IDS(1, 2), IDS(4), IDS()),
		.changed = true,
	},
	{
		.desc = "host adds an adapter whose queue is not bound yet",
		.assigned = APCB(IDS(1, 2), IDS(4), IDS()),
		.host = APCB(IDS(1, 2), IDS(4), IDS()),
		.unbound = IDS(APQN(2, 4)),
		.old = APCB(IDS(1), IDS(4), IDS()),
		.guest = APCB(IDS(1), IDS(4), IDS()),
	},
	{
		.desc = "host removes an adapter: unplugged",
		.assigned = APCB(IDS(1, 2), IDS(4), IDS()),
		.host = APCB(IDS(1), IDS(4), IDS()),
		.old = APCB(IDS(1, 2), IDS(4), IDS()),
		.guest = APCB(IDS(1), IDS(4), IDS()),
		.unplugged_apm = IDS(2),
		.changed = true,
	},
	{
		.desc = "host removes the last adapter: domains stay",
		.assigned = APCB(IDS(1), IDS(4), IDS(4)),
		.host = APCB(IDS(), IDS(4), IDS(4)),
		.old = APCB(IDS(1), IDS(4), IDS(4)),
		.guest = APCB(IDS(), IDS(4), IDS(4)),
		.unplugged_apm = IDS(1),
		.changed = true,
	},
	{
		.desc = "host adds an assigned domain: plugged",
		.assigned = APCB(IDS(1), IDS(4, 5), IDS()),
		.host = APCB(IDS(1), IDS(4, 5), IDS()),
		.old = APCB(IDS(1), IDS(4), IDS()),
		.guest = APCB(IDS(1), IDS(4, 5), IDS()),
		.changed = true,
	},
	{
		.desc = "host adds a domain with an unbound queue: adapter leaves",
		.assigned = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.host = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.unbound = IDS(APQN(2, 5)),
		.old = APCB(IDS(1, 2), IDS(4), IDS()),
		.guest = APCB(IDS(1), IDS(4, 5), IDS()),
		.unplugged_apm = IDS(2),
		.changed = true,
	},
	{
		.desc = "host removes a domain: unplugged",
		.assigned = APCB(IDS(1), IDS(4, 5), IDS()),
		.host = APCB(IDS(1), IDS(4), IDS()),
		.old = APCB(IDS(1), IDS(4, 5), IDS()),
		.guest = APCB(IDS(1), IDS(4), IDS()),
		.unplugged_aqm = IDS(5),
		.changed = true,
	},
	{
		.desc = "host removes the last domain: adapter stays",
		.assigned = APCB(IDS(1), IDS(4), IDS()),
		.host = APCB(IDS(1), IDS(), IDS()),
		.unbound = IDS(APQN(1, 4)),
		.old = APCB(IDS(1), IDS(4), IDS()),
		.guest = APCB(IDS(1), IDS(), IDS()),
		.unplugged_aqm = IDS(4),
		.changed = true,
	},
	{
		.desc = "host adds a control domain: changed, nothing unplugged",
		.assigned = APCB(IDS(1), IDS(4), IDS(4, 9)),
		.host = APCB(IDS(1), IDS(4), IDS(4, 9)),
		.old = APCB(IDS(1), IDS(4), IDS(4)),
		.guest = APCB(IDS(1), IDS(4), IDS(4, 9)),
		.changed = true,
	},
	{
		.desc = "host removes a control domain: changed, nothing unplugged",
		.assigned = APCB(IDS(1), IDS(4), IDS(4, 9)),
		.host = APCB(IDS(1), IDS(4), IDS(4)),
		.old = APCB(IDS(1), IDS(4), IDS(4, 9)),
		.guest = APCB(IDS(1), IDS(4), IDS(4)),
		.changed = true,
	},
	{
		.desc = "host removes the last control domain",
		.assigned = APCB(IDS(1), IDS(4), IDS(9)),
		.host = APCB(IDS(1), IDS(4), IDS()),
		.old = APCB(IDS(1), IDS(4), IDS(9)),
		.guest = APCB(IDS(1), IDS(4), IDS()),
		.changed = true,
	},
	{
		.desc = "unchanged input: not changed",
		.assigned = APCB(IDS(1, 2), IDS(4, 5), IDS(4)),
		.host = APCB(IDS(1, 2, 3), IDS(4, 5, 6), IDS(4, 5)),
		.old = APCB(IDS(1, 2), IDS(4, 5), IDS(4)),
		.guest = APCB(IDS(1, 2), IDS(4, 5), IDS(4)),
	},
	{
		.desc = "unchanged filtered input: not changed",
		.assigned = APCB(IDS(1, 2), IDS(4), IDS()),
		.host = APCB(IDS(1, 2), IDS(4), IDS()),
		.unbound = IDS(APQN(2, 4)),
		.old = APCB(IDS(1), IDS(4), IDS()),
		.guest = APCB(IDS(1), IDS(4), IDS()),
	},
	{
		.desc = "queue unbound under a running guest: adapter unplugged",
		.assigned = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.host = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.unbound = IDS(APQN(1, 4)),
		.old = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.guest = APCB(IDS(2), IDS(4, 5), IDS()),
		.unplugged_apm = IDS(1),
		.changed = true,
	},
	{
		.desc = "queue bound again: adapter plugged back",
		.assigned = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.host = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.old = APCB(IDS(2), IDS(4, 5), IDS()),
		.guest = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.changed = true,
	},
	{
		.desc = "adapter unassigned: unplugged",
		.assigned = APCB(IDS(2), IDS(4), IDS()),
		.host = APCB(IDS(1, 2), IDS(4), IDS()),
		.old = APCB(IDS(1, 2), IDS(4), IDS()),
		.guest = APCB(IDS(2), IDS(4), IDS()),
		.unplugged_apm = IDS(1),
		.changed = true,
	},
	{
		.desc = "domain unassigned: unplugged from every adapter",
		.assigned = APCB(IDS(1, 2), IDS(5), IDS()),
		.host = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.old = APCB(IDS(1, 2), IDS(4, 5), IDS()),
		.guest = APCB(IDS(1, 2), IDS(5), IDS()),
		.unplugged_aqm = IDS(4),
		.changed = true,
	},
	{
		.desc = "everything replaced at once",
		.assigned = APCB(IDS(2), IDS(5), IDS(5)),
		.host = APCB(IDS(1, 2), IDS(4, 5), IDS(4, 5)),
		.old = APCB(IDS(1), IDS(4), IDS(4)),
		.guest = APCB(IDS(2), IDS(5), IDS(5)),
		.unplugged_apm = IDS(1),
		.unplugged_aqm = IDS(4),
		.changed = true,
	},
	{
		.desc = "IDs on word boundaries",
		.assigned = APCB(IDS(0, 63, 64, 127, 128, 255),
				 IDS(0, 63, 64, 255), IDS(0, 255)),
		.host = APCB(IDS(0, 63, 64, 128, 255), IDS(0, 64, 255),
			     IDS(255)),
		.unbound = IDS(APQN(128, 64), APQN(63, 63)),
		.old = APCB(IDS(127, 128), IDS(63, 64), IDS(0)),
		.guest = APCB(IDS(0, 63, 64, 255), IDS(0, 64, 255), IDS(255)),
		.unplugged_apm = IDS(127, 128),
		.unplugged_aqm = IDS(63),
		.changed = true,
	},
};

KUNIT_ARRAY_PARAM_DESC(plug, plug_cases, desc);

static void compute_guest_test(struct kunit *test)
{
	const struct plug_case *c = test->param_value;
	struct vfio_ap_apcb assigned, host, old;
	struct vfio_ap_plug_result res;
	struct vfio_ap_queue_map *queues;

	ids_to_apcb(&c->assigned, &assigned);
	ids_to_apcb(&c->host, &host);
	ids_to_apcb(&c->old, &old);
	queues = queues_all_but(test, &c->unbound);
	/* The engine must overwrite every field, whatever was there. */
	memset(&res, 0xa5, sizeof(res));

	vfio_ap_compute_guest(&assigned, &host, queues, &old, &res);

	expect_apcb(test, &res.guest, &c->guest);
	expect_mask(test, "unplugged adapters", res.unplugged_apm,
		    &c->unplugged_apm);
	expect_mask(test, "unplugged domains", res.unplugged_aqm,
		    &c->unplugged_aqm);
	KUNIT_EXPECT_EQ(test, res.changed, c->changed);
}

/* --- the engine against a per-APQN reference, exhaustively --- */

/*
 * A 3 x 3 world: adapters and domains chosen to straddle word boundaries.
 * Small masks below are plain bit sets over the indexes 0..2, and "bound"
 * has bit 3 * a + d set when queue (adapter a, domain d) is usable.
 */
static const u8 small_apid[3] = { 0, 64, 255 };
static const u8 small_apqi[3] = { 1, 63, 128 };

struct small_guest {
	unsigned int apm;
	unsigned int aqm;
};

static bool small_has(unsigned int set, unsigned int i)
{
	return set & (1U << i);
}

/* abi.md section 5, one APQN at a time. */
static struct small_guest ref_guest(unsigned int assigned_apm,
				    unsigned int assigned_aqm,
				    unsigned int host_apm,
				    unsigned int host_aqm,
				    unsigned int bound)
{
	struct small_guest g = {};
	unsigned int a, d;
	bool keep;

	for (d = 0; d < 3; d++)
		if (small_has(assigned_aqm, d) && small_has(host_aqm, d))
			g.aqm |= 1U << d;
	for (a = 0; a < 3; a++) {
		if (!small_has(assigned_apm, a) || !small_has(host_apm, a))
			continue;
		keep = true;
		for (d = 0; d < 3; d++)
			if (small_has(g.aqm, d) && !small_has(bound, 3 * a + d))
				keep = false;
		if (keep)
			g.apm |= 1U << a;
	}
	return g;
}

static bool ref_has_apqn(struct small_guest g, unsigned int a, unsigned int d)
{
	return small_has(g.apm, a) && small_has(g.aqm, d);
}

static void small_to_mask(unsigned int set, const u8 *ids, unsigned long *mask)
{
	unsigned int i;

	bitmap_zero(mask, NBITS);
	for (i = 0; i < 3; i++)
		if (small_has(set, i))
			__set_bit_inv(ids[i], mask);
}

/* Does @mask hold exactly the small set @set? */
static bool mask_is_small(const unsigned long *mask, unsigned int set,
			  const u8 *ids)
{
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (test_bit_inv(ids[i], mask) != small_has(set, i))
			return false;
	return bitmap_weight(mask, NBITS) == hweight32(set);
}

struct small_run {
	struct vfio_ap_apcb assigned, host, old;
	struct vfio_ap_plug_result res;
	struct vfio_ap_queue_map queues;
};

/*
 * A queue on domain 200, outside the small world, keeps each adapter's row
 * allocated: the 2M binding patterns then cost no allocation, and a usable
 * queue the guest has no domain for must not matter to the engine.
 */
#define SMALL_SPARE_APQI	200

static void small_init_queues(struct kunit *test, struct small_run *run)
{
	unsigned int a;

	queue_map_release_at_end(test, &run->queues);
	for (a = 0; a < 3; a++)
		queue_map_add(test, &run->queues, small_apid[a],
			      SMALL_SPARE_APQI);
}

static void small_set_queues(struct kunit *test, struct vfio_ap_queue_map *map,
			     unsigned int bound)
{
	unsigned int a, d;

	for (a = 0; a < 3; a++)
		for (d = 0; d < 3; d++)
			if (small_has(bound, 3 * a + d))
				queue_map_add(test, map, small_apid[a],
					      small_apqi[d]);
			else
				vfio_ap_queue_map_remove(map, small_apid[a],
							 small_apqi[d]);
}

/* Compare one engine result with the model; false and a message if not. */
static bool small_check(struct kunit *test, struct small_run *run,
			struct small_guest old, struct small_guest want)
{
	unsigned int unplugged = 0, walked = 0, a, d;
	unsigned long apid, apqi;
	bool ok = true;

	ok &= mask_is_small(run->res.guest.apm, want.apm, small_apid);
	ok &= mask_is_small(run->res.guest.aqm, want.aqm, small_apqi);
	ok &= mask_is_small(run->res.unplugged_apm, old.apm & ~want.apm,
			    small_apid);
	ok &= mask_is_small(run->res.unplugged_aqm, old.aqm & ~want.aqm,
			    small_apqi);
	ok &= run->res.changed == (old.apm != want.apm || old.aqm != want.aqm);

	for (a = 0; a < 3; a++) {
		for (d = 0; d < 3; d++) {
			bool gone = ref_has_apqn(old, a, d) &&
				    !ref_has_apqn(want, a, d);

			unplugged += gone;
			ok &= vfio_ap_apqn_unplugged(&run->old, &run->res,
						     small_apid[a],
						     small_apqi[d]) == gone;
		}
	}
	for_each_set_bit_inv(apid, run->old.apm, VFIO_AP_MAX_ADAPTERS)
		for_each_set_bit_inv(apqi, run->old.aqm, VFIO_AP_MAX_DOMAINS)
			walked += vfio_ap_apqn_unplugged(&run->old, &run->res,
							 apid, apqi);
	ok &= walked == unplugged;
	return ok;
}

/*
 * Every assignment and host configuration of the 3 x 3 world (4096, one
 * small set per 3 bits of @config), each under every binding pattern (512).
 */
static void compute_guest_exhaustive_test(struct kunit *test)
{
	unsigned int asg_apm, asg_aqm, host_apm, host_aqm, config, bound;
	struct small_guest old = {}, want;
	struct small_run *run;

	run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run);
	small_init_queues(test, run);

	for (config = 0; config < 4096; config++) {
		asg_apm = config & 7;
		asg_aqm = (config >> 3) & 7;
		host_apm = (config >> 6) & 7;
		host_aqm = (config >> 9) & 7;
		small_to_mask(asg_apm, small_apid, run->assigned.apm);
		small_to_mask(asg_aqm, small_apqi, run->assigned.aqm);
		small_to_mask(host_apm, small_apid, run->host.apm);
		small_to_mask(host_aqm, small_apqi, run->host.aqm);

		for (bound = 0; bound < 512; bound++) {
			small_to_mask(old.apm, small_apid, run->old.apm);
			small_to_mask(old.aqm, small_apqi, run->old.aqm);
			small_set_queues(test, &run->queues, bound);

			vfio_ap_compute_guest(&run->assigned, &run->host,
					      &run->queues, &run->old,
					      &run->res);
			want = ref_guest(asg_apm, asg_aqm, host_apm, host_aqm,
					 bound);

			if (!small_check(test, run, old, want)) {
				KUNIT_FAIL(test,
					   "assigned %x/%x host %x/%x bound %03x old %x/%x: guest %s x %s, want %x/%x",
					   asg_apm, asg_aqm, host_apm, host_aqm,
					   bound, old.apm, old.aqm,
					   mask_str(test, run->res.guest.apm),
					   mask_str(test, run->res.guest.aqm),
					   want.apm, want.aqm);
				return;
			}
			/* Chain the guests: every step is a transition. */
			old = want;
		}
	}
}

/*
 * Control domains are not filtered by binding, so the 3 x 3 world above
 * leaves them out; here every assigned and host set of three of them.
 */
static void control_domains_exhaustive_test(struct kunit *test)
{
	unsigned int asg_adm, host_adm, d, count;
	struct small_run *run;
	bool want;

	run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run);

	for (asg_adm = 0; asg_adm < 8; asg_adm++) {
		for (host_adm = 0; host_adm < 8; host_adm++) {
			small_to_mask(asg_adm, small_apqi, run->assigned.adm);
			small_to_mask(host_adm, small_apqi, run->host.adm);
			bitmap_zero(run->old.adm, NBITS);

			vfio_ap_compute_guest(&run->assigned, &run->host,
					      &run->queues, &run->old,
					      &run->res);

			count = 0;
			for (d = 0; d < 3; d++) {
				want = small_has(asg_adm, d) &&
				       small_has(host_adm, d);
				count += want;
				KUNIT_EXPECT_EQ_MSG(test,
						    test_bit_inv(small_apqi[d],
								 run->res.guest.adm),
						    want,
						    "assigned %x host %x domain %u",
						    asg_adm, host_adm, d);
			}
			KUNIT_EXPECT_EQ(test,
					bitmap_weight(run->res.guest.adm, NBITS),
					count);
			KUNIT_EXPECT_EQ(test, run->res.changed, count != 0);

			/* Computing again from the result changes nothing. */
			run->old = run->res.guest;
			vfio_ap_compute_guest(&run->assigned, &run->host,
					      &run->queues, &run->old,
					      &run->res);
			KUNIT_EXPECT_FALSE(test, run->res.changed);
		}
	}
}

static void expect_queue_maps_equal(struct kunit *test,
				    const struct vfio_ap_queue_map *a,
				    const struct vfio_ap_queue_map *b)
{
	unsigned int apid, apqi;

	for (apid = 0; apid < VFIO_AP_MAX_ADAPTERS; apid++)
		for (apqi = 0; apqi < VFIO_AP_MAX_DOMAINS; apqi++)
			KUNIT_EXPECT_EQ_MSG(test,
					    vfio_ap_queue_map_test(a, apid, apqi),
					    vfio_ap_queue_map_test(b, apid, apqi),
					    "queue %02x.%04x", apid, apqi);
}

/* --- several mdevs, one host --- */

static void shared_host_test(struct kunit *test)
{
	static const struct apcb_ids mdev_ids[] = {
		APCB(IDS(1), IDS(4, 5), IDS(4)),
		APCB(IDS(2), IDS(4, 5), IDS(5)),
		APCB(IDS(1, 2), IDS(6), IDS(4)),
	};
	static const struct apcb_ids want_before[] = {
		APCB(IDS(1), IDS(4, 5), IDS(4)),
		APCB(IDS(), IDS(4, 5), IDS(5)),
		APCB(IDS(1, 2), IDS(6), IDS(4)),
	};
	static const struct apcb_ids want_after[] = {
		APCB(IDS(), IDS(4, 5), IDS(4)),
		APCB(IDS(), IDS(4, 5), IDS(5)),
		APCB(IDS(2), IDS(6), IDS(4)),
	};
	static const struct apcb_ids host_ids =
		APCB(IDS(1, 2), IDS(4, 5, 6), IDS(4, 5));
	static const struct id_list unbound = IDS(APQN(2, 5));
	static const struct id_list adapter_1 = IDS(1), none = IDS();
	static const bool changed_after[] = { true, false, true };
	struct vfio_ap_queue_map *queues, *queues_copy;
	struct vfio_ap_apcb assigned, host, host_copy;
	struct vfio_ap_apcb guests[ARRAY_SIZE(mdev_ids)] = {};
	struct vfio_ap_plug_result res;
	unsigned int i;

	ids_to_apcb(&host_ids, &host);
	queues = queues_all_but(test, &unbound);
	queues_copy = queues_all_but(test, &unbound);
	host_copy = host;

	for (i = 0; i < ARRAY_SIZE(mdev_ids); i++) {
		ids_to_apcb(&mdev_ids[i], &assigned);
		vfio_ap_compute_guest(&assigned, &host, queues, &guests[i],
				      &res);
		expect_apcb(test, &res.guest, &want_before[i]);
		guests[i] = res.guest;
	}

	/* The inputs are shared, so the engine must leave them alone. */
	KUNIT_EXPECT_MEMEQ(test, &host, &host_copy, sizeof(host));
	expect_queue_maps_equal(test, queues, queues_copy);

	/* Adapter 1 leaves the host: only the mdevs that had it lose it. */
	clear_bit_inv(1, host.apm);
	for (i = 0; i < ARRAY_SIZE(mdev_ids); i++) {
		ids_to_apcb(&mdev_ids[i], &assigned);
		vfio_ap_compute_guest(&assigned, &host, queues, &guests[i],
				      &res);
		expect_apcb(test, &res.guest, &want_after[i]);
		expect_mask(test, "unplugged adapters", res.unplugged_apm,
			    changed_after[i] ? &adapter_1 : &none);
		expect_mask(test, "unplugged domains", res.unplugged_aqm,
			    &none);
		KUNIT_EXPECT_EQ(test, res.changed, changed_after[i]);
	}
}

/* The caller may keep the guest in the result it passes in. */
static void old_guest_in_result_test(struct kunit *test)
{
	static const struct apcb_ids assigned_ids =
		APCB(IDS(1, 2), IDS(4), IDS(4));
	static const struct apcb_ids host_ids =
		APCB(IDS(2, 3), IDS(4), IDS(4));
	static const struct apcb_ids old_ids = APCB(IDS(1, 2), IDS(4), IDS(4));
	static const struct apcb_ids want = APCB(IDS(2), IDS(4), IDS(4));
	static const struct id_list unplugged = IDS(1), none = IDS();
	struct vfio_ap_apcb assigned, host;
	struct vfio_ap_plug_result res;
	struct vfio_ap_queue_map *queues;

	ids_to_apcb(&assigned_ids, &assigned);
	ids_to_apcb(&host_ids, &host);
	ids_to_apcb(&old_ids, &res.guest);
	queues = queues_all_but(test, &none);

	vfio_ap_compute_guest(&assigned, &host, queues, &res.guest, &res);

	expect_apcb(test, &res.guest, &want);
	expect_mask(test, "unplugged adapters", res.unplugged_apm, &unplugged);
	expect_mask(test, "unplugged domains", res.unplugged_aqm, &none);
	KUNIT_EXPECT_TRUE(test, res.changed);
}

/* --- vfio_ap_apqn_unplugged() --- */

static void apqn_unplugged_test(struct kunit *test)
{
	static const struct apcb_ids old_ids = APCB(IDS(1, 2), IDS(4, 5), IDS());
	static const struct apcb_ids new_ids = APCB(IDS(2, 3), IDS(5, 6), IDS());
	struct vfio_ap_plug_result res = {};
	struct vfio_ap_apcb old;

	ids_to_apcb(&old_ids, &old);
	ids_to_apcb(&new_ids, &res.guest);

	/* Left with its adapter, with its domain, or kept. */
	KUNIT_EXPECT_TRUE(test, vfio_ap_apqn_unplugged(&old, &res, 1, 5));
	KUNIT_EXPECT_TRUE(test, vfio_ap_apqn_unplugged(&old, &res, 2, 4));
	KUNIT_EXPECT_TRUE(test, vfio_ap_apqn_unplugged(&old, &res, 1, 4));
	KUNIT_EXPECT_FALSE(test, vfio_ap_apqn_unplugged(&old, &res, 2, 5));
	/* Never had it: nothing left, whether the guest has it now or not. */
	KUNIT_EXPECT_FALSE(test, vfio_ap_apqn_unplugged(&old, &res, 3, 6));
	KUNIT_EXPECT_FALSE(test, vfio_ap_apqn_unplugged(&old, &res, 3, 4));
	KUNIT_EXPECT_FALSE(test, vfio_ap_apqn_unplugged(&old, &res, 1, 6));
	KUNIT_EXPECT_FALSE(test, vfio_ap_apqn_unplugged(&old, &res, 7, 7));
}

/* --- vfio_ap_matrices_intersect(), exhaustively on 2 x 2 --- */

static void matrices_intersect_test(struct kunit *test)
{
	static const u8 apid[2] = { 5, 200 }, apqi[2] = { 0, 255 };
	DECLARE_BITMAP(apm_a, NBITS);
	DECLARE_BITMAP(aqm_a, NBITS);
	DECLARE_BITMAP(apm_b, NBITS);
	DECLARE_BITMAP(aqm_b, NBITS);
	unsigned int combo, i, a, d;
	bool want;

	/* Bits 0-1: apm a, 2-3: aqm a, 4-5: apm b, 6-7: aqm b. */
	for (combo = 0; combo < 256; combo++) {
		bitmap_zero(apm_a, NBITS);
		bitmap_zero(aqm_a, NBITS);
		bitmap_zero(apm_b, NBITS);
		bitmap_zero(aqm_b, NBITS);
		for (i = 0; i < 2; i++) {
			if (small_has(combo, i))
				set_bit_inv(apid[i], apm_a);
			if (small_has(combo, 2 + i))
				set_bit_inv(apqi[i], aqm_a);
			if (small_has(combo, 4 + i))
				set_bit_inv(apid[i], apm_b);
			if (small_has(combo, 6 + i))
				set_bit_inv(apqi[i], aqm_b);
		}
		want = false;
		for (a = 0; a < 2; a++)
			for (d = 0; d < 2; d++)
				want |= small_has(combo, a) &&
					small_has(combo, 2 + d) &&
					small_has(combo, 4 + a) &&
					small_has(combo, 6 + d);
		KUNIT_EXPECT_EQ_MSG(test, vfio_ap_matrices_intersect(apm_a, aqm_a,
								     apm_b, aqm_b),
				    want, "combination %02x", combo);
	}
}

/* --- vfio_ap_mask_highest_bit() --- */

struct highest_case {
	const char *desc;
	struct id_list ids;
	unsigned int nbits;
	int highest;
};

static const struct highest_case highest_cases[] = {
	{ "empty", IDS(), 256, -1 },
	{ "ID 0 only", IDS(0), 256, 0 },
	{ "last ID of the first word", IDS(0, 63), 256, 63 },
	{ "first ID of the second word", IDS(1, 64), 256, 64 },
	{ "ID 255", IDS(255), 256, 255 },
	{ "lowest and highest", IDS(0, 255), 256, 255 },
	{ "highest in a middle word", IDS(3, 70, 130), 256, 130 },
	{ "IDs from nbits on are ignored", IDS(100, 200), 128, 100 },
	{ "only IDs from nbits on", IDS(200), 128, -1 },
	{ "partial word: last ID inside", IDS(99, 100), 100, 99 },
	{ "partial word: nothing inside", IDS(100, 127), 100, -1 },
	{ "nbits 0", IDS(0), 0, -1 },
};

KUNIT_ARRAY_PARAM_DESC(highest, highest_cases, desc);

static void mask_highest_bit_test(struct kunit *test)
{
	const struct highest_case *c = test->param_value;
	DECLARE_BITMAP(mask, NBITS);

	ids_to_mask(&c->ids, mask);
	KUNIT_EXPECT_EQ(test, vfio_ap_mask_highest_bit(mask, c->nbits),
			c->highest);
}

/* --- APCB and queue map helpers --- */

static void apcb_helpers_test(struct kunit *test)
{
	static const struct apcb_ids full_ids =
		APCB(IDS(0, 255), IDS(1, 254), IDS(2, 253));
	struct vfio_ap_apcb a, b, zero;
	unsigned long *masks[] = { b.apm, b.aqm, b.adm };
	unsigned int i;

	memset(&zero, 0, sizeof(zero));
	ids_to_apcb(&full_ids, &a);
	KUNIT_EXPECT_FALSE(test, vfio_ap_apcb_empty(&a));
	KUNIT_EXPECT_TRUE(test, vfio_ap_apcb_equal(&a, &a));

	vfio_ap_apcb_clear(&a);
	KUNIT_EXPECT_MEMEQ(test, &a, &zero, sizeof(a));
	KUNIT_EXPECT_TRUE(test, vfio_ap_apcb_empty(&a));

	/* A single bit in any one mask makes it non-empty and different. */
	for (i = 0; i < ARRAY_SIZE(masks); i++) {
		memset(&b, 0, sizeof(b));
		set_bit_inv(255, masks[i]);
		KUNIT_EXPECT_FALSE_MSG(test, vfio_ap_apcb_empty(&b), "mask %u", i);
		KUNIT_EXPECT_FALSE_MSG(test, vfio_ap_apcb_equal(&a, &b),
				       "mask %u", i);
		KUNIT_EXPECT_FALSE_MSG(test, vfio_ap_apcb_equal(&b, &a),
				       "mask %u", i);
	}
}

static void queue_map_test(struct kunit *test)
{
	static const u16 corners[] = {
		APQN(0, 0), APQN(0, 255), APQN(255, 0), APQN(255, 255),
		APQN(63, 64), APQN(64, 63),
	};
	struct vfio_ap_queue_map *map = queue_map_new(test);
	unsigned int i, apid, apqi;

	for (i = 0; i < ARRAY_SIZE(corners); i++) {
		apid = APQN_APID(corners[i]);
		apqi = APQN_APQI(corners[i]);
		KUNIT_EXPECT_FALSE(test, vfio_ap_queue_map_test(map, apid, apqi));
		queue_map_add(test, map, apid, apqi);
		/* Adding twice is the same as once. */
		queue_map_add(test, map, apid, apqi);
		KUNIT_EXPECT_TRUE(test, vfio_ap_queue_map_test(map, apid, apqi));
		/* Same layout as the masks: the bit is set_bit_inv(apqi). */
		KUNIT_EXPECT_TRUE(test, test_bit_inv(apqi, map->rows[apid]));
		KUNIT_EXPECT_EQ(test, queue_map_weight(map), i + 1);
	}
	/* Adapters 0, 255, 63 and 64: one row each, none for the others. */
	KUNIT_EXPECT_EQ(test, queue_map_rows(map), 4);

	for (i = 0; i < ARRAY_SIZE(corners); i++) {
		apid = APQN_APID(corners[i]);
		apqi = APQN_APQI(corners[i]);
		vfio_ap_queue_map_remove(map, apid, apqi);
		vfio_ap_queue_map_remove(map, apid, apqi);
		KUNIT_EXPECT_FALSE(test, vfio_ap_queue_map_test(map, apid, apqi));
		KUNIT_EXPECT_EQ(test, queue_map_weight(map),
				ARRAY_SIZE(corners) - i - 1);
	}
	/* The last queue of an adapter gives its row back. */
	KUNIT_EXPECT_EQ(test, queue_map_rows(map), 0);
}

/*
 * An adapter without any usable queue has no row: the engine must still
 * drop it when the guest has domains, and keep it when it has none.
 */
static void adapter_without_row_test(struct kunit *test)
{
	static const struct apcb_ids with_domain = APCB(IDS(3), IDS(7), IDS());
	static const struct apcb_ids no_domain = APCB(IDS(3), IDS(), IDS(7));
	static const struct apcb_ids host_ids = APCB(IDS(3), IDS(7), IDS(7));
	static const struct apcb_ids nothing = APCB(IDS(), IDS(7), IDS());
	struct vfio_ap_queue_map *queues = queue_map_new(test);
	struct vfio_ap_apcb assigned, host, old = {};
	struct vfio_ap_plug_result res;

	ids_to_apcb(&host_ids, &host);
	/* A usable queue of another adapter must not help adapter 3. */
	queue_map_add(test, queues, 4, 7);

	ids_to_apcb(&with_domain, &assigned);
	vfio_ap_compute_guest(&assigned, &host, queues, &old, &res);
	expect_apcb(test, &res.guest, &nothing);

	ids_to_apcb(&no_domain, &assigned);
	vfio_ap_compute_guest(&assigned, &host, queues, &old, &res);
	expect_apcb(test, &res.guest, &no_domain);
}

/* --- vfio_ap_id_change_shows() --- */

static u32 xorshift(u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static unsigned long *apcb_kind(struct vfio_ap_apcb *apcb, unsigned int kind)
{
	return kind == 0 ? apcb->apm : kind == 1 ? apcb->aqm : apcb->adm;
}

/*
 * Over random assignments, hosts and bound queues on a few IDs (the edges
 * 0 and 255 among them): whenever vfio_ap_id_change_shows() says a change
 * cannot reach the guest, the engine must indeed give the guest what it
 * had.  Both answers must occur, or the test proves nothing.
 */
static void id_change_shows_test(struct kunit *test)
{
	static const unsigned int ids[] = { 0, 1, 2, 255 };
	static const struct vfio_ap_apcb none;
	struct vfio_ap_apcb assigned, host, changed;
	struct vfio_ap_plug_result before, after;
	struct vfio_ap_queue_map *queues;
	unsigned int round, kind, i, a, d, shown = 0, hidden = 0;
	u32 seed = 0x2545f491;
	bool assign, shows;

	queues = queue_map_new(test);
	for (round = 0; round < 1000; round++) {
		vfio_ap_apcb_clear(&assigned);
		vfio_ap_apcb_clear(&host);
		for (kind = 0; kind < 3; kind++)
			for (i = 0; i < ARRAY_SIZE(ids); i++) {
				if (xorshift(&seed) & 1)
					set_bit_inv(ids[i], apcb_kind(&assigned, kind));
				if (xorshift(&seed) % 4)
					set_bit_inv(ids[i], apcb_kind(&host, kind));
			}
		for (a = 0; a < ARRAY_SIZE(ids); a++)
			for (d = 0; d < ARRAY_SIZE(ids); d++)
				if (xorshift(&seed) % 4)
					queue_map_add(test, queues, ids[a], ids[d]);
				else
					vfio_ap_queue_map_remove(queues, ids[a],
								 ids[d]);
		vfio_ap_compute_guest(&assigned, &host, queues, &none, &before);
		for (kind = 0; kind < 3; kind++)
			for (i = 0; i < 2 * ARRAY_SIZE(ids); i++) {
				assign = i & 1;
				changed = assigned;
				if (assign)
					set_bit_inv(ids[i / 2], apcb_kind(&changed, kind));
				else
					clear_bit_inv(ids[i / 2], apcb_kind(&changed, kind));
				vfio_ap_compute_guest(&changed, &host, queues,
						      &before.guest, &after);
				shows = vfio_ap_id_change_shows(apcb_kind(&host, kind),
								apcb_kind(&before.guest, kind),
								ids[i / 2], assign);
				if (shows) {
					shown++;
					continue;
				}
				hidden++;
				KUNIT_EXPECT_FALSE_MSG(test, after.changed,
						       "round %u: %sassigning ID %u of kind %u changed the guest",
						       round, assign ? "" : "un",
						       ids[i / 2], kind);
			}
	}
	KUNIT_EXPECT_GT(test, shown, 0);
	KUNIT_EXPECT_GT(test, hidden, 0);
}

/* --- why an assigned ID is not in the guest --- */

struct missing_case {
	const char *desc;
	struct apcb_ids assigned;
	struct apcb_ids host;
	struct id_list unbound;		/* APQNs not usable; all others are */
	struct apcb_ids guest;
	struct apcb_ids not_in_host;	/* expected */
	struct id_list lacking_queue;	/* expected */
	struct id_list domains;		/* expected */
	struct apcb_ids pending;	/* expected */
};

static const struct missing_case missing_cases[] = {
	{
		.desc = "guest has everything: nothing missing",
		.assigned = APCB(IDS(5, 6), IDS(4, 171), IDS(4)),
		.host = APCB(IDS(5, 6, 7), IDS(4, 71, 171), IDS(4, 71)),
		.guest = APCB(IDS(5, 6), IDS(4, 171), IDS(4)),
		.domains = IDS(4, 171),
	},
	{
		.desc = "IDs the host lacks, one of each kind",
		.assigned = APCB(IDS(5, 8), IDS(3, 4), IDS(3, 4)),
		.host = APCB(IDS(5, 6), IDS(4, 71), IDS(4, 71)),
		.guest = APCB(IDS(5), IDS(4), IDS(4)),
		.not_in_host = APCB(IDS(8), IDS(3), IDS(3)),
		.domains = IDS(4),
	},
	{
		.desc = "unbound queue: its adapter lacks a queue",
		.assigned = APCB(IDS(5, 6), IDS(4, 171), IDS()),
		.host = APCB(IDS(5, 6), IDS(4, 171), IDS()),
		.unbound = IDS(APQN(5, 4)),
		.guest = APCB(IDS(6), IDS(4, 171), IDS()),
		.lacking_queue = IDS(5),
		.domains = IDS(4, 171),
	},
	{
		.desc = "unbound queue of a domain the host lacks: no matter",
		.assigned = APCB(IDS(5), IDS(3, 4), IDS()),
		.host = APCB(IDS(5), IDS(4), IDS()),
		.unbound = IDS(APQN(5, 3)),
		.guest = APCB(IDS(5), IDS(4), IDS()),
		.not_in_host = APCB(IDS(), IDS(3), IDS()),
		.domains = IDS(4),
	},
	{
		.desc = "adapter the host lacks: that reason only",
		.assigned = APCB(IDS(5, 8), IDS(4), IDS()),
		.host = APCB(IDS(5), IDS(4), IDS()),
		.unbound = IDS(APQN(8, 4)),
		.guest = APCB(IDS(5), IDS(4), IDS()),
		.not_in_host = APCB(IDS(8), IDS(), IDS()),
		.domains = IDS(4),
	},
	{
		.desc = "guest behind the rules: the rest is pending",
		.assigned = APCB(IDS(5, 6, 8), IDS(4, 171), IDS(4, 3)),
		.host = APCB(IDS(5, 6), IDS(4, 171), IDS(4)),
		.unbound = IDS(APQN(6, 171)),
		.guest = APCB(IDS(), IDS(171), IDS()),
		.not_in_host = APCB(IDS(8), IDS(), IDS(3)),
		.lacking_queue = IDS(6),
		.domains = IDS(4, 171),
		.pending = APCB(IDS(5), IDS(4), IDS(4)),
	},
	{
		.desc = "IDs on word boundaries",
		.assigned = APCB(IDS(0, 63, 64, 255), IDS(0, 64, 127, 255),
				 IDS(0, 255)),
		.host = APCB(IDS(0, 63, 64), IDS(0, 64, 255), IDS(255)),
		.unbound = IDS(APQN(63, 255), APQN(64, 127)),
		.guest = APCB(IDS(0, 64), IDS(0, 64, 255), IDS(255)),
		.not_in_host = APCB(IDS(255), IDS(127), IDS(0)),
		.lacking_queue = IDS(63),
		.domains = IDS(0, 64, 255),
	},
};

KUNIT_ARRAY_PARAM_DESC(missing, missing_cases, desc);

static void explain_missing_test(struct kunit *test)
{
	const struct missing_case *c = test->param_value;
	struct vfio_ap_apcb assigned, host, guest;
	struct vfio_ap_queue_map *queues;
	struct vfio_ap_missing why;

	ids_to_apcb(&c->assigned, &assigned);
	ids_to_apcb(&c->host, &host);
	ids_to_apcb(&c->guest, &guest);
	queues = queues_all_but(test, &c->unbound);
	/* Every field must be overwritten, whatever was there. */
	memset(&why, 0xa5, sizeof(why));

	vfio_ap_explain_missing(&assigned, &host, queues, &guest, &why);

	expect_apcb(test, &why.not_in_host, &c->not_in_host);
	expect_mask(test, "adapters lacking a queue", why.lacking_queue,
		    &c->lacking_queue);
	expect_mask(test, "domains looked at", why.domains, &c->domains);
	expect_apcb(test, &why.pending, &c->pending);
}

static void missing_queues_test(struct kunit *test)
{
	static const struct id_list unbound = IDS(APQN(5, 4), APQN(5, 255),
						  APQN(5, 3), APQN(6, 4));
	static const struct id_list aqm_ids = IDS(0, 4, 171, 255);
	static const struct id_list want = IDS(4, 255);
	DECLARE_BITMAP(aqm, NBITS);
	DECLARE_BITMAP(missing, NBITS);
	struct vfio_ap_queue_map *queues = queues_all_but(test, &unbound);

	ids_to_mask(&aqm_ids, aqm);
	memset(missing, 0xa5, sizeof(missing));
	vfio_ap_missing_queues(queues, 5, aqm, missing);
	expect_mask(test, "queues missing on adapter 5", missing, &want);
	vfio_ap_missing_queues(queues, 7, aqm, missing);
	KUNIT_EXPECT_TRUE(test, bitmap_empty(missing, NBITS));
	/* An adapter with no usable queue at all misses every domain. */
	vfio_ap_missing_queues(queue_map_new(test), 5, aqm, missing);
	expect_mask(test, "queues missing on an adapter without a row",
		    missing, &aqm_ids);
}

static const unsigned long *apcb_kind_of(const struct vfio_ap_apcb *apcb,
					 unsigned int kind)
{
	return kind == 0 ? apcb->apm : kind == 1 ? apcb->aqm : apcb->adm;
}

/*
 * Over random worlds: against the guest the engine computes, nothing is
 * pending, the three sets split what is assigned and not in the guest,
 * and an adapter lacks a queue exactly when vfio_ap_missing_queues()
 * names one.  Against an empty guest everything assigned is explained.
 */
static void check_missing_partition(struct kunit *test,
				    const struct vfio_ap_apcb *assigned,
				    const struct vfio_ap_apcb *host,
				    const struct vfio_ap_queue_map *queues,
				    const struct vfio_ap_apcb *guest)
{
	struct vfio_ap_apcb all, lacks;
	struct vfio_ap_missing why;
	DECLARE_BITMAP(missing, NBITS);
	unsigned int kind, id;
	bool named;

	vfio_ap_explain_missing(assigned, host, queues, guest, &why);
	for (kind = 0; kind < 3; kind++) {
		bitmap_andnot(apcb_kind(&lacks, kind),
			      apcb_kind_of(assigned, kind),
			      apcb_kind_of(guest, kind), NBITS);
		bitmap_or(apcb_kind(&all, kind),
			  apcb_kind(&why.not_in_host, kind),
			  apcb_kind(&why.pending, kind), NBITS);
		KUNIT_EXPECT_FALSE(test,
				   bitmap_intersects(apcb_kind(&why.not_in_host, kind),
						     apcb_kind(&why.pending, kind),
						     NBITS));
	}
	KUNIT_EXPECT_FALSE(test, bitmap_intersects(all.apm, why.lacking_queue,
						   NBITS));
	bitmap_or(all.apm, all.apm, why.lacking_queue, NBITS);
	KUNIT_EXPECT_TRUE(test, vfio_ap_apcb_equal(&all, &lacks));
	for (id = 0; id < NBITS; id++) {
		if (!test_bit_inv(id, lacks.apm) || !test_bit_inv(id, host->apm))
			continue;
		vfio_ap_missing_queues(queues, id, why.domains, missing);
		named = !bitmap_empty(missing, NBITS);
		KUNIT_EXPECT_TRUE_MSG(test,
				      named == test_bit_inv(id, why.lacking_queue),
				      "adapter %u", id);
	}
}

static void explain_missing_random_test(struct kunit *test)
{
	static const unsigned int ids[] = { 0, 1, 63, 64, 255 };
	static const struct vfio_ap_apcb none;
	struct vfio_ap_apcb assigned, host;
	struct vfio_ap_plug_result res;
	struct vfio_ap_queue_map *queues;
	struct vfio_ap_missing why;
	unsigned int round, kind, i, a, d;
	u32 seed = 0x9e3779b9;

	queues = queue_map_new(test);
	for (round = 0; round < 300; round++) {
		vfio_ap_apcb_clear(&assigned);
		vfio_ap_apcb_clear(&host);
		for (kind = 0; kind < 3; kind++)
			for (i = 0; i < ARRAY_SIZE(ids); i++) {
				if (xorshift(&seed) & 1)
					set_bit_inv(ids[i], apcb_kind(&assigned, kind));
				if (xorshift(&seed) % 4)
					set_bit_inv(ids[i], apcb_kind(&host, kind));
			}
		for (a = 0; a < ARRAY_SIZE(ids); a++)
			for (d = 0; d < ARRAY_SIZE(ids); d++)
				if (xorshift(&seed) % 5)
					queue_map_add(test, queues, ids[a], ids[d]);
				else
					vfio_ap_queue_map_remove(queues, ids[a],
								 ids[d]);
		vfio_ap_compute_guest(&assigned, &host, queues, &none, &res);
		vfio_ap_explain_missing(&assigned, &host, queues, &res.guest,
					&why);
		KUNIT_EXPECT_TRUE_MSG(test, vfio_ap_apcb_empty(&why.pending),
				      "round %u: pending against a current guest",
				      round);
		check_missing_partition(test, &assigned, &host, queues,
					&res.guest);
		check_missing_partition(test, &assigned, &host, queues, &none);
	}
}

static struct kunit_case vfio_ap_hotplug_test_cases[] = {
	KUNIT_CASE_PARAM(compute_guest_test, plug_gen_params),
	KUNIT_CASE_SLOW(compute_guest_exhaustive_test),
	KUNIT_CASE(control_domains_exhaustive_test),
	KUNIT_CASE(shared_host_test),
	KUNIT_CASE(old_guest_in_result_test),
	KUNIT_CASE(apqn_unplugged_test),
	KUNIT_CASE(matrices_intersect_test),
	KUNIT_CASE_PARAM(mask_highest_bit_test, highest_gen_params),
	KUNIT_CASE(apcb_helpers_test),
	KUNIT_CASE(queue_map_test),
	KUNIT_CASE(adapter_without_row_test),
	KUNIT_CASE(id_change_shows_test),
	KUNIT_CASE_PARAM(explain_missing_test, missing_gen_params),
	KUNIT_CASE(missing_queues_test),
	KUNIT_CASE(explain_missing_random_test),
	{}
};

static struct kunit_suite vfio_ap_hotplug_test_suite = {
	.name = "vfio_ap_hotplug",
	.test_cases = vfio_ap_hotplug_test_cases,
};

kunit_test_suite(vfio_ap_hotplug_test_suite);

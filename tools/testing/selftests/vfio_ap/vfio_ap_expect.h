/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Expectations shared by the test programs, on top of the harness:
 * an attribute's exact contents, a guest_matrix that follows the
 * filtering rules, and reset counts from two counter snapshots.
 */
#ifndef VFIO_AP_EXPECT_H
#define VFIO_AP_EXPECT_H

#include "../kselftest_harness.h"
#include "vfio_ap_util.h"

static inline void expect_attr(struct __test_metadata *_metadata,
			       const char *uuid, const char *attr,
			       const char *want)
{
	char buf[8192];

	ASSERT_LE(0, mdev_read(uuid, attr, buf, sizeof(buf)));
	EXPECT_STREQ(want, buf) TH_LOG("%s of %s", attr, uuid);
}

/* guest_matrix of @uuid is what the rules give for its ap_config. */
static inline void expect_guest_by_rules(struct __test_metadata *_metadata,
					 const char *uuid)
{
	static char want[16384], got[16384];
	struct ap_matrix mx;

	ASSERT_EQ(0, mdev_config(uuid, &mx));
	ASSERT_EQ(0, guest_matrix_expected(&mx, want, sizeof(want)));
	ASSERT_LE(0, mdev_read(uuid, "guest_matrix", got, sizeof(got)));
	EXPECT_STREQ(want, got) TH_LOG("guest_matrix of %s", uuid);
}

static inline void expect_status(struct __test_metadata *_metadata,
				 unsigned int apid, unsigned int apqi,
				 const char *want)
{
	char buf[64];

	ASSERT_LT(0, queue_status(apid, apqi, buf, sizeof(buf)))
		TH_LOG("no status for %02x.%04x", apid, apqi);
	EXPECT_STREQ(want, buf) TH_LOG("status of %02x.%04x", apid, apqi);
}

static inline void expect_driver(struct __test_metadata *_metadata,
				 unsigned int apid, unsigned int apqi,
				 const char *want)
{
	char drv[64];

	ASSERT_EQ(0, queue_driver(apid, apqi, drv, sizeof(drv)));
	EXPECT_STREQ(want, drv) TH_LOG("driver of %02x.%04x", apid, apqi);
}

#endif

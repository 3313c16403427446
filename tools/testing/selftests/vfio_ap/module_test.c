// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading vfio_ap with mdevs defined and loading it again (the module
 * file is /lab/vfio_ap.ko in the lab VM). Without an open guest nothing
 * holds the module: unloading removes the mdevs and unbinds the queues;
 * a new load starts from a clean slate and binds them again.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vfio_ap_expect.h"

FIXTURE(module) {
	struct ap_counters c;
};

FIXTURE_SETUP(module)
{
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0x08"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
}

FIXTURE_TEARDOWN(module)
{
	if (!vfio_ap_loaded())
		vfio_ap_load();
	world_std();
}

TEST_F(module, unload_with_mdevs)
{
	ASSERT_EQ(0, vfio_ap_unload());
	EXPECT_FALSE(vfio_ap_loaded());
	EXPECT_FALSE(path_exists(MATRIX_DIR));
	EXPECT_FALSE(path_exists(VFIO_AP_DRV_DIR));
}

TEST_F(module, unload_leaves_queues_unbound)
{
	ASSERT_EQ(0, vfio_ap_unload());
	/* the masks still keep them from the host's drivers */
	expect_driver(_metadata, 5, 4, "");
	expect_driver(_metadata, 6, 0xff, "");
	expect_driver(_metadata, 7, 4, "cex4queue");
}

TEST_F(module, unload_resets_guest_queues)
{
	ASSERT_EQ(0, counters_zero());
	ASSERT_EQ(0, vfio_ap_unload());
	ASSERT_EQ(0, counters_snap(&self->c));
	/* one ZAPQ from the AP bus for the unbind, one from vfio_ap */
	EXPECT_LE(2, counters_zapq(&self->c, 5, 4));
	EXPECT_LE(2, counters_zapq(&self->c, 6, 4));
	EXPECT_LE(2, counters_zapq(&self->c, 5, 0x47));
	EXPECT_EQ(0, counters_zapq(&self->c, 7, 4));
}

TEST_F(module, reload_binds_queues_unassigned)
{
	ASSERT_EQ(0, vfio_ap_unload());
	ASSERT_EQ(0, vfio_ap_load());
	expect_driver(_metadata, 5, 4, "vfio_ap");
	expect_driver(_metadata, 6, 0xff, "vfio_ap");
	expect_status(_metadata, 5, 4, "unassigned\n");
	expect_status(_metadata, 5, 0x47, "unassigned\n");
}

TEST_F(module, reload_starts_without_mdevs)
{
	char buf[64];

	ASSERT_EQ(0, vfio_ap_unload());
	ASSERT_EQ(0, vfio_ap_load());
	EXPECT_FALSE(mdev_exists(UUID_A));
	EXPECT_FALSE(mdev_exists(UUID_B));
	ASSERT_LT(0, sysfs_read(MDEV_TYPE_DIR "/available_instances", buf,
				sizeof(buf)));
	EXPECT_EQ(65536, atoi(buf));
}

TEST_F(module, reload_keeps_masks)
{
	char buf[128];

	ASSERT_EQ(0, vfio_ap_unload());
	ASSERT_EQ(0, vfio_ap_load());
	ASSERT_LT(0, sysfs_read(AP_BUS_DIR "/apmask", buf, sizeof(buf)));
	EXPECT_STREQ(STD_APMASK "\n", buf);
}

TEST_F(module, reload_assigns_again)
{
	ASSERT_EQ(0, vfio_ap_unload());
	ASSERT_EQ(0, vfio_ap_load());
	ASSERT_EQ(0, mdev_create(UUID_B));
	/* A's old APQNs are free: no stale claim survives */
	EXPECT_EQ(0, mdev_write(UUID_B, "ap_config", "0x06,0x08,0x08"));
	expect_attr(_metadata, UUID_B, "guest_matrix", "05.0004\n06.0004\n");
	expect_status(_metadata, 6, 4, "assigned\n");
}

TEST_F(module, unload_twice_in_a_row)
{
	ASSERT_EQ(0, vfio_ap_unload());
	ASSERT_EQ(0, vfio_ap_load());
	ASSERT_EQ(0, mdev_create(UUID_C));
	ASSERT_EQ(0, mdev_write(UUID_C, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_C, "assign_domain", "4"));
	EXPECT_EQ(0, vfio_ap_unload());
	EXPECT_EQ(0, vfio_ap_load());
	EXPECT_FALSE(mdev_exists(UUID_C));
}

TEST_HARNESS_MAIN

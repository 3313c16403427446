// SPDX-License-Identifier: GPL-2.0
/*
 * Host configuration changes through the simulator: assigned resources
 * the host lacks are plugged into guest_matrix when they appear and
 * unplugged when they go, per mdev, while the assignment (matrix) stays.
 */
#include "vfio_ap_expect.h"

FIXTURE(hotplug) {
};

FIXTURE_SETUP(hotplug)
{
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_create(UUID_C));
}

FIXTURE_TEARDOWN(hotplug)
{
	world_std();
}

TEST_F(hotplug, adapter_plugged_when_added)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x048,0x08,0"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
	ASSERT_EQ(0, sim_write("add_adapter", "8"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n08.0004\n");
	expect_attr(_metadata, UUID_A, "matrix", "05.0004\n08.0004\n");
}

TEST_F(hotplug, adapter_unplugged_when_removed)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0"));
	ASSERT_EQ(0, sim_write("remove_adapter", "6"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
	expect_attr(_metadata, UUID_A, "matrix", "05.0004\n06.0004\n");
}

TEST_F(hotplug, adapter_back_after_removal)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0"));
	ASSERT_EQ(0, sim_write("remove_adapter", "6"));
	ASSERT_EQ(0, sim_write("add_adapter", "6"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n06.0004\n");
}

TEST_F(hotplug, domain_plugged_when_added)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "3"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
	ASSERT_EQ(0, sim_write("add_domain", "3"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0003\n05.0004\n");
}

TEST_F(hotplug, domain_unplugged_when_removed)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	ASSERT_EQ(0, sim_write("remove_domain", "4"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0047\n");
	expect_attr(_metadata, UUID_A, "matrix", "05.0004\n05.0047\n");
}

TEST_F(hotplug, last_domain_removed_keeps_adapter)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xff"));
	ASSERT_EQ(0, sim_write("remove_domain", "0xff"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.\n");
}

TEST_F(hotplug, only_affected_mdev_changes)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "8"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	ASSERT_EQ(0, mdev_write(UUID_C, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_C, "assign_domain", "0xab"));
	ASSERT_EQ(0, sim_write("add_adapter", "8"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
	expect_attr(_metadata, UUID_B, "guest_matrix", "06.0047\n08.0047\n");
	expect_attr(_metadata, UUID_C, "guest_matrix", "06.00ab\n");
	ASSERT_EQ(0, sim_write("remove_adapter", "8"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
	expect_attr(_metadata, UUID_B, "guest_matrix", "06.0047\n");
	expect_attr(_metadata, UUID_C, "guest_matrix", "06.00ab\n");
}

TEST_F(hotplug, shared_adapter_removal_hits_both)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0xff"));
	ASSERT_EQ(0, mdev_write(UUID_C, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_C, "assign_domain", "0x47"));
	ASSERT_EQ(0, sim_write("remove_adapter", "6"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
	expect_attr(_metadata, UUID_B, "guest_matrix", ".00ff\n");
	expect_attr(_metadata, UUID_C, "guest_matrix", "05.0047\n");
}

#define NEW_CONFIG	"adapters=5,7,8 domains=3,0x47 control_domains=3"

TEST_F(hotplug, whole_config_rewrite)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "3"));
	ASSERT_EQ(0, sim_write("config", NEW_CONFIG));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0003\n08.0003\n");
	expect_guest_by_rules(_metadata, UUID_A);
}

TEST_F(hotplug, added_queues_bind_to_vfio_ap)
{
	ASSERT_EQ(0, sim_write("add_adapter", "9"));
	expect_driver(_metadata, 9, 4, "vfio_ap");
	expect_driver(_metadata, 9, 0xff, "vfio_ap");
	expect_status(_metadata, 9, 4, "unassigned\n");
}

TEST_F(hotplug, control_domain_changes_keep_guest_matrix)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04,0x08,0x08"));
	ASSERT_EQ(0, sim_write("remove_control_domain", "4"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
	ASSERT_EQ(0, sim_write("add_control_domain", "4"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
	expect_attr(_metadata, UUID_A, "control_domains", "0004\n");
}

TEST_F(hotplug, host_owned_arrival_changes_nothing)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04,0x08,0"));
	ASSERT_EQ(0, sim_write("add_adapter", "10"));
	expect_driver(_metadata, 10, 4, "cex4queue");
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n");
}

TEST_F(hotplug, fresh_queue_replugged_after_reset)
{
	/* a queue just added, reset on unassign, must come back on assign */
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x048,0x08,0"));
	ASSERT_EQ(0, sim_write("add_adapter", "8"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_adapter", "8"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n08.0004\n");
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The status attribute of queues bound to vfio_ap: "unassigned" until an
 * mdev's matrix holds the APQN, "assigned" while one does. "in use"
 * needs a running guest with the mdev open, which the lab cannot start
 * (no SIE under TCG), so no case here can reach it.
 */
#include "vfio_ap_expect.h"

FIXTURE(status) {
};

FIXTURE_SETUP(status)
{
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
}

FIXTURE_TEARDOWN(status)
{
	world_std();
}

TEST_F(status, bound_queue_starts_unassigned)
{
	expect_driver(_metadata, 5, 4, "vfio_ap");
	expect_status(_metadata, 5, 4, "unassigned\n");
	expect_status(_metadata, 6, 0xff, "unassigned\n");
}

TEST_F(status, adapter_and_domain_make_assigned)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	expect_status(_metadata, 5, 4, "unassigned\n");
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	expect_status(_metadata, 5, 4, "assigned\n");
	expect_status(_metadata, 5, 0x47, "unassigned\n");
	expect_status(_metadata, 6, 4, "unassigned\n");
}

TEST_F(status, domain_alone_is_no_apqn)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	expect_status(_metadata, 5, 4, "unassigned\n");
}

TEST_F(status, control_domain_is_no_apqn)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	expect_status(_metadata, 5, 4, "unassigned\n");
}

TEST_F(status, unassign_domain_returns_unassigned)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04,0x08,0"));
	expect_status(_metadata, 5, 4, "assigned\n");
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	expect_status(_metadata, 5, 4, "unassigned\n");
}

TEST_F(status, unassign_adapter_returns_unassigned)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04,0x08,0"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_adapter", "5"));
	expect_status(_metadata, 5, 4, "unassigned\n");
}

TEST_F(status, mdev_removal_returns_unassigned)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0"));
	expect_status(_metadata, 6, 4, "assigned\n");
	ASSERT_EQ(0, mdev_remove(UUID_A));
	expect_status(_metadata, 5, 4, "unassigned\n");
	expect_status(_metadata, 6, 4, "unassigned\n");
}

TEST_F(status, each_mdev_assigns_its_own)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04,0x08,0"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	expect_status(_metadata, 5, 4, "assigned\n");
	expect_status(_metadata, 6, 0x47, "assigned\n");
	expect_status(_metadata, 6, 4, "unassigned\n");
	expect_status(_metadata, 5, 0x47, "unassigned\n");
}

TEST_F(status, filtered_queue_stays_assigned)
{
	/* 05.0047 leaves the guest with its adapter, not the matrix */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	expect_status(_metadata, 5, 0x47, "assigned\n");
}

TEST_F(status, hot_plugged_queue_arrives_assigned)
{
	/* adapter 8 is not in the host configuration yet */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, sim_write("add_adapter", "8"));
	expect_driver(_metadata, 8, 4, "vfio_ap");
	expect_status(_metadata, 8, 4, "assigned\n");
	expect_status(_metadata, 8, 0xab, "unassigned\n");
}

TEST_F(status, rebound_queue_is_assigned_again)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04,0x08,0"));
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	ASSERT_EQ(0, queue_bind_vfio(5, 4));
	expect_status(_metadata, 5, 4, "assigned\n");
}

TEST_HARNESS_MAIN

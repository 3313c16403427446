// SPDX-License-Identifier: GPL-2.0
/*
 * Queue resets, counted by the simulator: which queues vfio_ap resets
 * (ZAPQ) when they leave what an mdev gives its guest (unassign, unbind,
 * filtering, mdev removal), and which it leaves alone. The AP bus issues
 * one ZAPQ of its own when a queue leaves its driver (unbind, removal
 * from the configuration), so those steps are measured against a queue
 * of the host's default driver going through the same step.
 *
 * Host: adapters 5 and 6 (vfio_ap) and 7 (cex4queue), domains 4, 0x47,
 * 0xab and 0xff. A: 5,6 x 4,0xab. B: 5 x 0x47.
 */
#include "vfio_ap_expect.h"

FIXTURE(reset) {
	struct ap_counters c;
};

FIXTURE_SETUP(reset)
{
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	expect_attr(_metadata, UUID_A, "guest_matrix",
		    "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	ASSERT_EQ(0, counters_zero());
}

FIXTURE_TEARDOWN(reset)
{
	world_std();
}

#define ZAPQ(a, d)	counters_zapq(&self->c, a, d)
#define SNAP()		ASSERT_EQ(0, counters_snap(&self->c))

TEST_F(reset, unassign_adapter_resets_its_queues)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_adapter", "6"));
	SNAP();
	EXPECT_LE(1, ZAPQ(6, 4));
	EXPECT_LE(1, ZAPQ(6, 0xab));
	EXPECT_EQ(0, ZAPQ(5, 4));
	EXPECT_EQ(0, ZAPQ(5, 0xab));
	EXPECT_EQ(0, ZAPQ(5, 0x47));
}

TEST_F(reset, unassign_domain_resets_its_queues)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "0xab"));
	SNAP();
	EXPECT_LE(1, ZAPQ(5, 0xab));
	EXPECT_LE(1, ZAPQ(6, 0xab));
	EXPECT_EQ(0, ZAPQ(5, 4));
	EXPECT_EQ(0, ZAPQ(6, 4));
	EXPECT_EQ(0, ZAPQ(5, 0x47));
}

/* domains 4 and 0xab (hex digit 42 is 1) */
#define AQM_4_AB	"0x0800000000000000000000000000000000000000001"

TEST_F(reset, ap_config_write_resets_dropped_queues)
{
	/* A keeps 05.0004 and 05.00ab, drops adapter 6 */
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04," AQM_4_AB ",0"));
	expect_attr(_metadata, UUID_A, "matrix", "05.0004\n05.00ab\n");
	SNAP();
	EXPECT_LE(1, ZAPQ(6, 4));
	EXPECT_LE(1, ZAPQ(6, 0xab));
	EXPECT_EQ(0, ZAPQ(5, 4));
	EXPECT_EQ(0, ZAPQ(5, 0xab));
}

TEST_F(reset, control_domain_unassign_resets_nothing)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_control_domain", "4"));
	SNAP();
	EXPECT_EQ(0, counters_zapq_total(&self->c));
}

TEST_F(reset, assign_resets_nothing)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xff"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "6"));
	SNAP();
	EXPECT_EQ(0, counters_zapq_total(&self->c));
}

TEST_F(reset, failed_assign_resets_nothing)
{
	ASSERT_EQ(-EADDRINUSE, mdev_write(UUID_B, "assign_domain", "4"));
	ASSERT_EQ(-EADDRNOTAVAIL, mdev_write(UUID_A, "assign_adapter", "7"));
	SNAP();
	EXPECT_EQ(0, counters_zapq_total(&self->c));
}

TEST_F(reset, unbind_resets_the_filtered_adapter)
{
	/* 05.0004 leaves: adapter 5 leaves A's guest, 05.00ab with it */
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	SNAP();
	EXPECT_LE(1, ZAPQ(5, 4));
	EXPECT_LE(1, ZAPQ(5, 0xab));
	EXPECT_EQ(0, ZAPQ(6, 4));
	EXPECT_EQ(0, ZAPQ(6, 0xab));
	EXPECT_EQ(0, ZAPQ(5, 0x47));
}

TEST_F(reset, rebind_resets_no_other_queue)
{
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	ASSERT_EQ(0, counters_zero());
	ASSERT_EQ(0, queue_bind_vfio(5, 4));
	SNAP();
	EXPECT_EQ(0, ZAPQ(5, 0xab));
	EXPECT_EQ(0, ZAPQ(6, 4));
	EXPECT_EQ(0, ZAPQ(6, 0xab));
	EXPECT_EQ(0, ZAPQ(5, 0x47));
}

TEST_F(reset, mdev_removal_resets_its_queues)
{
	ASSERT_EQ(0, mdev_remove(UUID_A));
	SNAP();
	EXPECT_LE(1, ZAPQ(5, 4));
	EXPECT_LE(1, ZAPQ(5, 0xab));
	EXPECT_LE(1, ZAPQ(6, 4));
	EXPECT_LE(1, ZAPQ(6, 0xab));
	EXPECT_EQ(0, ZAPQ(5, 0x47));
	EXPECT_EQ(0, ZAPQ(5, 0xff));
}

TEST_F(reset, removed_domain_gets_no_extra_reset)
{
	/* 05.00ab (A's guest) and 07.00ab (host) leave together */
	ASSERT_EQ(0, sim_write("remove_domain", "0xab"));
	SNAP();
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n06.0004\n");
	EXPECT_EQ(ZAPQ(7, 0xab), ZAPQ(5, 0xab));
	EXPECT_EQ(ZAPQ(7, 0xab), ZAPQ(6, 0xab));
	EXPECT_EQ(0, ZAPQ(5, 4));
	EXPECT_EQ(0, ZAPQ(6, 4));
}

#define ONLY_5_CONFIG	"adapters=5 domains=4,0x47,0xab,0xff control_domains=4"

TEST_F(reset, removed_adapter_gets_no_extra_reset)
{
	unsigned int d, differ = 0;

	/* adapters 6 (A's guest) and 7 (host) leave in one change */
	ASSERT_EQ(0, sim_write("config", ONLY_5_CONFIG));
	SNAP();
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n05.00ab\n");
	for (d = 0; d < AP_IDS; d++)
		differ += ZAPQ(7, d) != ZAPQ(6, d);
	EXPECT_EQ(0, differ);
	EXPECT_EQ(0, ZAPQ(5, 4));
	EXPECT_EQ(0, ZAPQ(5, 0xab));
}

TEST_F(reset, arriving_resources_reset_nothing)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	ASSERT_EQ(0, counters_zero());
	ASSERT_EQ(0, sim_write("add_adapter", "8"));
	expect_attr(_metadata, UUID_A, "guest_matrix",
		    "05.0004\n05.00ab\n06.0004\n06.00ab\n08.0004\n08.00ab\n");
	SNAP();
	EXPECT_EQ(0, counters_zapq_total(&self->c));
}

TEST_F(reset, busy_reset_is_retried)
{
	/* ZAPQ answers 05 (busy) twice and does nothing: ask again */
	ASSERT_EQ(0, sim_write("fault", "05.0004 busy=2"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	SNAP();
	EXPECT_LE(3, ZAPQ(5, 4));
	EXPECT_LE(1, ZAPQ(6, 4));
}

TEST_F(reset, deconfigured_queue_unassign_succeeds)
{
	ASSERT_EQ(0, sim_write("fault", "05.0004 deconfig"));
	EXPECT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	expect_attr(_metadata, UUID_A, "matrix", "05.00ab\n06.00ab\n");
	SNAP();
	EXPECT_LE(1, ZAPQ(6, 4));
}

TEST_F(reset, checkstopped_queue_unassign_succeeds)
{
	ASSERT_EQ(0, sim_write("fault", "06.00ab checkstop"));
	EXPECT_EQ(0, mdev_write(UUID_A, "unassign_adapter", "6"));
	expect_attr(_metadata, UUID_A, "matrix", "05.0004\n05.00ab\n");
	SNAP();
	EXPECT_LE(1, ZAPQ(6, 4));
}

TEST_F(reset, queue_usable_again_after_fault_cleared)
{
	/* the reset answered 03; once the fault is gone, so is the past */
	ASSERT_EQ(0, sim_write("fault", "05.0004 deconfig"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	ASSERT_EQ(0, sim_write("fault", "all clear"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	expect_attr(_metadata, UUID_A, "guest_matrix",
		    "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	ASSERT_EQ(0, mdev_remove(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_C));
	ASSERT_EQ(0, mdev_write(UUID_C, "ap_config", "0x04,0x08,0"));
	expect_attr(_metadata, UUID_C, "guest_matrix", "05.0004\n");
}

TEST_HARNESS_MAIN

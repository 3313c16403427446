// SPDX-License-Identifier: GPL-2.0
/*
 * Filtering: what guest_matrix shows for an mdev. Adapters and domains
 * outside the host configuration are left out; an adapter with any APQN
 * (over the guest's domains) that is not a queue bound to vfio_ap is left
 * out whole; domains are never left out for binding reasons. Without a
 * guest the control domains given to it cannot be observed, so the
 * control-domain cases check that they never filter APQNs.
 */
#include "vfio_ap_expect.h"

#define ALL_FOUR	"05.0004\n05.00ab\n06.0004\n06.00ab\n"

FIXTURE(filter) {
};

FIXTURE_SETUP(filter)
{
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
}

FIXTURE_TEARDOWN(filter)
{
	world_std();
}

TEST_F(filter, all_available_guest_is_matrix)
{
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
}

TEST_F(filter, unbound_queue_drops_its_adapter)
{
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	expect_attr(_metadata, UUID_A, "guest_matrix",
		    "06.0004\n06.00ab\n");
	expect_attr(_metadata, UUID_A, "matrix", ALL_FOUR);
}

TEST_F(filter, rebind_restores_adapter)
{
	ASSERT_EQ(0, queue_unbind_vfio(5, 0xab));
	ASSERT_EQ(0, queue_bind_vfio(5, 0xab));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
}

TEST_F(filter, domains_survive_unbinding)
{
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	ASSERT_EQ(0, queue_unbind_vfio(6, 0xab));
	expect_attr(_metadata, UUID_A, "guest_matrix", ".0004\n.00ab\n");
}

TEST_F(filter, unbound_queue_outside_matrix_ignored)
{
	/* 05.0047: adapter 5 is A's, domain 0x47 is not */
	ASSERT_EQ(0, queue_unbind_vfio(5, 0x47));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
}

TEST_F(filter, adapter_outside_host_left_out)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	expect_attr(_metadata, UUID_A, "matrix",
		    ALL_FOUR "08.0004\n08.00ab\n");
}

TEST_F(filter, domain_outside_host_left_out)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "3"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
}

TEST_F(filter, only_unknown_adapters_keeps_domains)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", CONFIG_NONE));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "9"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ".0047\n");
}

TEST_F(filter, only_unknown_domains_keeps_adapters)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", CONFIG_NONE));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "3"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "06.\n");
}

TEST_F(filter, deconfigured_queue_not_filtered)
{
	/* the fault changes the queue's answers, not QCI or binding */
	ASSERT_EQ(0, sim_write("fault", "05.0004 deconfig"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	expect_guest_by_rules(_metadata, UUID_A);
}

TEST_F(filter, checkstopped_queue_not_filtered)
{
	ASSERT_EQ(0, sim_write("fault", "06.00ab checkstop"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	expect_guest_by_rules(_metadata, UUID_A);
}

TEST_F(filter, control_domain_outside_host_filters_nothing)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "3"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	expect_attr(_metadata, UUID_A, "control_domains", "0003\n0004\n");
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
}

TEST_F(filter, control_domain_removed_from_host_filters_nothing)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xab"));
	ASSERT_EQ(0, sim_write("remove_control_domain", "0xab"));
	expect_attr(_metadata, UUID_A, "control_domains", "00ab\n");
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
}

TEST_F(filter, rules_hold_after_mixed_changes)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xff"));
	ASSERT_EQ(0, queue_unbind_vfio(6, 0xff));
	expect_guest_by_rules(_metadata, UUID_A);
	ASSERT_EQ(0, sim_write("add_adapter", "8"));
	expect_guest_by_rules(_metadata, UUID_A);
	expect_attr(_metadata, UUID_A, "guest_matrix",
		    "05.0004\n05.00ab\n05.00ff\n"
		    "08.0004\n08.00ab\n08.00ff\n");
}

/*
 * abi.md 5 applies the rules at once on every host change. The reference
 * (upstream 6.12) does not re-plug the adapter when the domain holding its
 * only unbound queue leaves the host; it waits for a later event.
 */
TEST_F(filter, unbound_queue_leaving_host_replugs_adapter)
{
	/*
	 * 06.00ff is unbound, so adapter 6 is out; when domain 0xff leaves
	 * the host, every APQN of adapter 6 over the guest's domains is a
	 * bound queue again and the adapter must come back at once.
	 */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xff"));
	ASSERT_EQ(0, queue_unbind_vfio(6, 0xff));
	expect_attr(_metadata, UUID_A, "guest_matrix",
		    "05.0004\n05.00ab\n05.00ff\n");
	ASSERT_EQ(0, sim_write("remove_domain", "0xff"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	expect_guest_by_rules(_metadata, UUID_A);
}

TEST_HARNESS_MAIN

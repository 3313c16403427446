// SPDX-License-Identifier: GPL-2.0
/*
 * The debugfs view /sys/kernel/debug/vfio_ap/<uuid>/not_in_guest: one
 * line for each assigned adapter, domain and control domain the guest
 * lacks, with the reason, each reason brought about for real (host
 * configuration, unbinding, a failed reset, a card the AP bus cannot
 * drive). The expected lines are those of the troubleshooting section of
 * Documentation/arch/s390/vfio-ap.rst. Our module only: the reference
 * module has no such view (check.sh leaves this binary out for it).
 *
 * Host: adapters 5 and 6 (vfio_ap) and 7 (cex4queue), domains and
 * control domains 4, 0x47, 0xab and 0xff. A: 5,6 x 4,0xab.
 */
#include <string.h>
#include <unistd.h>

#include "vfio_ap_expect.h"

#define DEBUGFS_DIR	"/sys/kernel/debug/vfio_ap"
#define VIEW		"not_in_guest"
#define NOTHING		"nothing missing\n"
#define ALL_FOUR	"05.0004\n05.00ab\n06.0004\n06.00ab\n"

static void view_path(char *path, size_t size, const char *uuid)
{
	snprintf(path, size, DEBUGFS_DIR "/%s/" VIEW, uuid);
}

static void expect_view(struct __test_metadata *_metadata, const char *uuid,
			const char *want)
{
	char path[128], buf[8192];

	view_path(path, sizeof(path), uuid);
	ASSERT_LE(0, sysfs_read(path, buf, sizeof(buf))) TH_LOG("%s", path);
	EXPECT_STREQ(want, buf) TH_LOG("%s", path);
}

FIXTURE(why) {
	int heal;	/* the kernel log, for queues a reset withheld */
};

FIXTURE_SETUP(why)
{
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	self->heal = kmsg_open();
}

FIXTURE_TEARDOWN(why)
{
	sim_write("adapter_mode", "8 14 cca");
	world_std();
	queues_rebind_withheld(self->heal);
	if (self->heal >= 0)
		close(self->heal);
}

TEST_F(why, everything_in_the_guest)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0x47"));
	expect_view(_metadata, UUID_A, NOTHING);
}

TEST_F(why, nothing_assigned)
{
	ASSERT_EQ(0, mdev_create(UUID_B));
	expect_view(_metadata, UUID_B, NOTHING);
}

TEST_F(why, not_in_the_host_configuration)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "3"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "3"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	expect_view(_metadata, UUID_A,
		    "adapter 08: not in the host's AP configuration\n"
		    "domain 0003: not in the host's AP configuration\n"
		    "control domain 0003: not in the host's AP configuration\n");
}

TEST_F(why, host_loses_an_adapter_and_gets_it_back)
{
	ASSERT_EQ(0, sim_write("remove_adapter", "6"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n05.00ab\n");
	expect_view(_metadata, UUID_A,
		    "adapter 06: not in the host's AP configuration\n");
	ASSERT_EQ(0, sim_write("add_adapter", "6"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	expect_view(_metadata, UUID_A, NOTHING);
}

TEST_F(why, host_loses_a_domain)
{
	ASSERT_EQ(0, sim_write("remove_domain", "0xab"));
	expect_view(_metadata, UUID_A,
		    "domain 00ab: not in the host's AP configuration\n");
}

TEST_F(why, unbound_queues_name_no_driver)
{
	ASSERT_EQ(0, queue_unbind_vfio(6, 0xab));
	ASSERT_EQ(0, queue_unbind_vfio(5, 0xab));
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	expect_driver(_metadata, 5, 4, "");
	expect_attr(_metadata, UUID_A, "guest_matrix", ".0004\n.00ab\n");
	expect_view(_metadata, UUID_A,
		    "adapter 05: queue 05.0004 is bound to no driver\n"
		    "adapter 05: queue 05.00ab is bound to no driver\n"
		    "adapter 06: queue 06.00ab is bound to no driver\n");
	ASSERT_EQ(0, queue_bind_vfio(5, 4));
	ASSERT_EQ(0, queue_bind_vfio(5, 0xab));
	ASSERT_EQ(0, queue_bind_vfio(6, 0xab));
	expect_view(_metadata, UUID_A, NOTHING);
}

TEST_F(why, unbound_queue_outside_the_guest_is_no_reason)
{
	/* 05.0047: adapter 5 is A's, domain 0x47 is not */
	ASSERT_EQ(0, queue_unbind_vfio(5, 0x47));
	expect_view(_metadata, UUID_A, NOTHING);
}

TEST_F(why, queue_without_a_device)
{
	/* type 9 (CEX3) is below what the AP bus drives: no devices */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	ASSERT_EQ(0, sim_write("adapter_mode", "8 9 cca"));
	ASSERT_EQ(0, sim_write("add_adapter", "8"));
	ASSERT_FALSE(queue_exists(8, 4));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	expect_view(_metadata, UUID_A,
		    "adapter 08: queue 08.0004 has no device on the AP bus\n"
		    "adapter 08: queue 08.00ab has no device on the AP bus\n");
}

/* Domain 4 leaves A and comes back: its queues are reset in between. */
static void reset_domain_4(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
}

TEST_F(why, failed_reset_names_its_response_code)
{
	/* 06 (invalid address) is no answer a ZAPQ should give */
	ASSERT_EQ(0, sim_write("fault", "05.0004 reset_fail=06"));
	reset_domain_4(_metadata);
	expect_attr(_metadata, UUID_A, "guest_matrix", "06.0004\n06.00ab\n");
	expect_view(_metadata, UUID_A,
		    "adapter 05: queue 05.0004 withheld: reset failed, response code 0x06\n");
	/* bound again, the queue is usable again */
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	ASSERT_EQ(0, queue_bind_vfio(5, 4));
	expect_attr(_metadata, UUID_A, "guest_matrix", ALL_FOUR);
	expect_view(_metadata, UUID_A, NOTHING);
}

TEST_F(why, timed_out_reset_names_the_last_response_code)
{
	/* the queue answers 02 (reset in progress) for ever */
	ASSERT_EQ(0, sim_write("fault", "06.0004 reset_hang"));
	reset_domain_4(_metadata);
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.0004\n05.00ab\n");
	expect_view(_metadata, UUID_A,
		    "adapter 06: queue 06.0004 withheld: reset timed out, response code 0x02\n");
	ASSERT_EQ(0, sim_write("fault", "06.0004 clear"));
	ASSERT_EQ(0, queue_unbind_vfio(6, 4));
	ASSERT_EQ(0, queue_bind_vfio(6, 4));
	expect_view(_metadata, UUID_A, NOTHING);
}

/*
 * The session of the troubleshooting section, line for line; A is the
 * guide's Guest1, control domain 0xab included.
 */
TEST_F(why, the_guide_example)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xab"));
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "3"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "3"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "06.0004\n06.00ab\n");
	expect_view(_metadata, UUID_A,
		    "adapter 05: queue 05.0004 is bound to no driver\n"
		    "domain 0003: not in the host's AP configuration\n"
		    "control domain 0003: not in the host's AP configuration\n");
}

TEST_F(why, view_is_read_only)
{
	char path[128];

	view_path(path, sizeof(path), UUID_A);
	EXPECT_GT(0, sysfs_write(path, "1"));
	expect_view(_metadata, UUID_A, NOTHING);
}

TEST_F(why, removed_mdev_leaves_no_directory)
{
	ASSERT_TRUE(path_exists(DEBUGFS_DIR "/" UUID_A));
	ASSERT_EQ(0, mdev_remove(UUID_A));
	EXPECT_FALSE(path_exists(DEBUGFS_DIR "/" UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_A));
	expect_view(_metadata, UUID_A, NOTHING);
}

TEST_F(why, unload_leaves_no_directory)
{
	ASSERT_EQ(0, vfio_ap_unload());
	EXPECT_FALSE(path_exists(DEBUGFS_DIR));
	ASSERT_EQ(0, vfio_ap_load());
	EXPECT_TRUE(path_exists(DEBUGFS_DIR));
	EXPECT_FALSE(path_exists(DEBUGFS_DIR "/" UUID_A));
}

TEST_HARNESS_MAIN

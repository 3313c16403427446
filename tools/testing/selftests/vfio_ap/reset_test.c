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
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "vfio_ap_expect.h"
#include "vfio_ap_kvm.h"

FIXTURE(reset) {
	struct ap_counters c;
	int kmsg;	/* what a test looks for in the log */
	int heal;	/* what the teardown looks for */
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
	self->kmsg = kmsg_open();
	self->heal = kmsg_open();
}

FIXTURE_TEARDOWN(reset)
{
	world_std();
	queues_rebind_withheld(self->heal);
	if (self->kmsg >= 0)
		close(self->kmsg);
	if (self->heal >= 0)
		close(self->heal);
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

#define GUEST_A_FULL	"05.0004\n05.00ab\n06.0004\n06.00ab\n"

/* Kernel log lines at warning level or above since the fixture began. */
static int warnings(struct __test_metadata *_metadata, int kmsg,
		    const char *what)
{
	static char log[65536];

	log[0] = '\0';
	EXPECT_EQ(0, kmsg_collect(kmsg, log, sizeof(log)));
	return kmsg_count(log, 4, what, NULL, NULL);
}

/* Domain 4 back: was any queue of it withheld after its reset? */
static void expect_domain_4_back(struct __test_metadata *_metadata,
				 const char *want)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	expect_attr(_metadata, UUID_A, "guest_matrix", want);
}

TEST_F(reset, slow_reset_within_the_bound_completes)
{
	ASSERT_EQ(0, sim_write("reset_delay_ms", "1000"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	SNAP();
	EXPECT_EQ(1U, ZAPQ(5, 4));
	EXPECT_EQ(1U, ZAPQ(6, 4));
	EXPECT_EQ(0, warnings(_metadata, self->kmsg, "did not complete"));
	expect_domain_4_back(_metadata, GUEST_A_FULL);
}

TEST_F(reset, reset_beyond_the_bound_withholds_the_queues)
{
	/* 7 s against the driver's 5 s: both queues of domain 4 give up */
	ASSERT_EQ(0, sim_write("reset_delay_ms", "7000"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	EXPECT_EQ(1, warnings(_metadata, self->kmsg, "05.0004"));
	ASSERT_EQ(0, sim_write("reset_delay_ms", "0"));
	/* withheld: neither adapter can be given whole any more */
	expect_domain_4_back(_metadata, ".0004\n.00ab\n");
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	ASSERT_EQ(0, queue_bind_vfio(5, 4));
	ASSERT_EQ(0, queue_unbind_vfio(6, 4));
	ASSERT_EQ(0, queue_bind_vfio(6, 4));
	expect_attr(_metadata, UUID_A, "guest_matrix", GUEST_A_FULL);
}

TEST_F(reset, hung_reset_withholds_until_bound_again)
{
	ASSERT_EQ(0, sim_write("fault", "05.0004 reset_hang"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	EXPECT_EQ(1, warnings(_metadata, self->kmsg, "did not complete"));
	expect_domain_4_back(_metadata, "06.0004\n06.00ab\n");
	ASSERT_EQ(0, sim_write("fault", "05.0004 clear"));
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	ASSERT_EQ(0, queue_bind_vfio(5, 4));
	expect_attr(_metadata, UUID_A, "guest_matrix", GUEST_A_FULL);
}

TEST_F(reset, state_change_in_progress_is_reissued)
{
	ASSERT_EQ(0, sim_write("fault", "05.0004 reset_fail=0a"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	SNAP();
	EXPECT_EQ(2U, ZAPQ(5, 4));
	expect_domain_4_back(_metadata, GUEST_A_FULL);
}

/* Problem 4 of issue 9: 35 and 36 after ZAPQ ask for another ZAPQ. */
TEST_F(reset, association_errors_are_reissued)
{
	ASSERT_EQ(0, sim_write("fault", "05.0004 reset_fail=35"));
	ASSERT_EQ(0, sim_write("fault", "06.0004 reset_fail=36"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	SNAP();
	EXPECT_EQ(2U, ZAPQ(5, 4));
	EXPECT_EQ(2U, ZAPQ(6, 4));
	expect_domain_4_back(_metadata, GUEST_A_FULL);
}

/* Problem 5 of issue 9: work that arrives after the reset ends nothing. */
TEST_F(reset, work_after_the_reset_does_not_delay_it)
{
	ASSERT_EQ(0, sim_write("fault", "05.0004 refill"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "4"));
	SNAP();
	EXPECT_EQ(1U, ZAPQ(5, 4));
	EXPECT_EQ(0, warnings(_metadata, self->kmsg, "did not complete"));
	expect_domain_4_back(_metadata, GUEST_A_FULL);
}

struct unassign_arg {
	int rc;
};

static void *unassign_domain_4(void *p)
{
	struct unassign_arg *a = p;

	a->rc = mdev_write(UUID_A, "unassign_domain", "4");
	return NULL;
}

/* A 2 s reset of domain 4 runs in a thread while @what happens to it. */
static void during_slow_reset(struct __test_metadata *_metadata,
			      const char *file, const char *val)
{
	struct unassign_arg a = { .rc = -1 };
	pthread_t t;

	ASSERT_EQ(0, sim_write("reset_delay_ms", "2000"));
	ASSERT_EQ(0, pthread_create(&t, NULL, unassign_domain_4, &a));
	while (sim_zapq(5, 4) < 1)
		sched_yield();
	EXPECT_EQ(0, sim_write(file, val));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, a.rc);
	ASSERT_EQ(0, sim_write("reset_delay_ms", "0"));
}

TEST_F(reset, checkstop_in_the_middle_ends_the_reset)
{
	during_slow_reset(_metadata, "fault", "05.0004 checkstop");
	/* 04 ends the reset; the queue is the AP bus's to track */
	EXPECT_EQ(0, warnings(_metadata, self->kmsg, "did not complete"));
	ASSERT_EQ(0, sim_write("fault", "all clear"));
	expect_domain_4_back(_metadata, GUEST_A_FULL);
}

TEST_F(reset, host_removal_in_the_middle_ends_the_reset)
{
	during_slow_reset(_metadata, "remove_adapter", "5");
	/* 01 ends the reset: there is no queue left to reset */
	EXPECT_EQ(0, warnings(_metadata, self->kmsg, "did not complete"));
	ASSERT_EQ(0, sim_write("add_adapter", "5"));
	expect_domain_4_back(_metadata, GUEST_A_FULL);
}

TEST_HARNESS_MAIN

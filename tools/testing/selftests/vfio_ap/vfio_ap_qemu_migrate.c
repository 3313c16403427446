// SPDX-License-Identifier: GPL-2.0
/*
 * A guest migrates with its vfio-ap device attached, between two real
 * QEMUs (issue 10, item 5). The QEMU is the lab's own build of QEMU 10
 * with the patches of vfio_ap_lab/qemu (vfio-ap registers for VFIO
 * migration), put in qemu-mig/ beside this binary by check.sh's
 * qemu_migration step; Debian's QEMU refuses such a migration
 * (seed_migrate.sh shows it).
 *
 * One lab host plays both sides, as a VMM on one machine would see them:
 * the source QEMU saves its paused guest into a file and quits, the APQNs
 * move to a second mdev, and a QEMU started with -incoming loads the file
 * into its guest. The lab's KVM cannot run vCPUs, so when the target is
 * told "cont", its vCPU's KVM_RUN fails and QEMU stops the guest again
 * (internal-error): the device still goes RESUMING -> STOP -> RUNNING ->
 * STOP, which is what a target that starts its guest does.
 *
 * Not a test of the selftests step (that has no qemu-mig/): the lab runs
 * it on the debug kernel. Host as world_std() makes it: adapters 5, 6
 * (vfio_ap) and 7, domains 4, 0x47, 0xab, 0xff.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vfio_ap_expect.h"
#include "vfio_ap_kvm_expect.h"
#include "vfio_ap_qemu.h"

static_assert(sizeof(((struct qemu *)0)->dbg) ==
	       sizeof(((struct kvm_guest *)0)->dbg), "debugfs paths");

#define TEST_TIMEOUT	900
#define STREAM		"/tmp/vfio_ap_qemu_migrate.stream"
#define NIB_GPA		0x102010UL	/* a NIB in the guest's RAM */
#define GISC		3

#define EVENTS_ON	"{\"execute\": \"migrate-set-capabilities\", " \
			"\"arguments\": {\"capabilities\": [{\"capability\": " \
			"\"events\", \"state\": true}]}}"
#define MIGRATE_OUT	"{\"execute\": \"migrate\", \"arguments\": " \
			"{\"uri\": \"file:" STREAM "\"}}"
/* A failed load leaves the target QEMU up, to be looked at. */
#define MIGRATE_IN	"{\"execute\": \"migrate-incoming\", \"arguments\": " \
			"{\"uri\": \"file:" STREAM "\", \"exit-on-error\": false}}"
#define GPA2HPA		"{\"execute\": \"human-monitor-command\", " \
			"\"arguments\": {\"command-line\": \"gpa2hpa 0x%lx\"}}"
#define COMPLETED	"\"status\": \"completed\""
#define FAILED		"\"status\": \"failed\""

FIXTURE(qmig) {
	struct qemu src, dst;
	char crycb[512];	/* the source guest's, before it was saved */
	int kmsg;
	char log[65536];
};

/* Guest A: adapters 5, 6, domains 4, 0xab, control domain 0xab. */
static int assign_a(const char *uuid)
{
	static const char * const w[][2] = {
		{ "assign_adapter", "5" }, { "assign_adapter", "6" },
		{ "assign_domain", "4" }, { "assign_domain", "0xab" },
		{ "assign_control_domain", "0xab" },
	};
	unsigned int i;
	int rc = mdev_create(uuid);

	for (i = 0; !rc && i < ARRAY_SIZE(w); i++)
		rc = mdev_write(uuid, w[i][0], w[i][1]);
	return rc;
}

FIXTURE_SETUP(qmig)
{
	qemu_init(&self->src);
	qemu_init(&self->dst);
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, assign_a(UUID_A));
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(qmig)
{
	qemu_stop(&self->src);
	qemu_stop(&self->dst);
	close(self->kmsg);
	unlink(STREAM);
	world_std();
}

/* The lab QEMU with mdev @uuid as "ap0" and @more arguments. */
static int start(struct qemu *q, const char *uuid, const char *more,
		 const char **step)
{
	const char *args[5] = { "-device" };
	char device[256];

	args[1] = device;
	if (more) {
		args[2] = more;
		args[3] = "defer";
	}
	snprintf(device, sizeof(device),
		 "vfio-ap,id=ap0,enable-migration=on,sysfsdev=" MATRIX_DIR "/%s",
		 uuid);
	return qemu_start(q, "qemu-mig", args, step);
}

/* The lab's handle on the VM of @q, for PQAP and its GISA. */
static void guest_of(const struct qemu *q, struct kvm_guest *g)
{
	kvm_guest_init(g);
	memcpy(g->dbg, q->dbg, sizeof(g->dbg));
}

/* Host physical address of guest address @gpa in @q's guest (HMP). */
static unsigned long long qemu_gpa2hpa(struct qemu *q, unsigned long gpa)
{
	char cmd[160], reply[512];
	unsigned long long hpa;
	const char *is;

	snprintf(cmd, sizeof(cmd), GPA2HPA, gpa);
	if (qmp(q, cmd, reply, sizeof(reply)))
		return 0;
	is = strstr(reply, " is 0x");
	if (!is || sscanf(is, " is 0x%llx", &hpa) != 1)
		return 0;
	return hpa;
}

static int log_count(FIXTURE_DATA(qmig) * self, const char *s1, const char *s2)
{
	kmsg_collect(self->kmsg, self->log, sizeof(self->log));
	return kmsg_count(self->log, 4, s1, s2, NULL);
}

/*
 * The source: QEMU with guest A, whose queue 05.0004 has interrupts on
 * (NIB_GPA, GISC), saved into STREAM from its paused state; then QEMU
 * quits and lets go of everything, and the APQNs go to mdev B.
 */
static void save_source(struct __test_metadata *_metadata,
			FIXTURE_DATA(qmig) * self)
{
	struct pqap_result r;
	struct kvm_guest g;
	const char *step;
	char reply[512];
	int rc;

	rc = start(&self->src, UUID_A, NULL, &step);
	ASSERT_EQ(0, rc) TH_LOG("source: %s: %s", step, strerror(-rc));
	ASSERT_EQ(0, crycb_read(&self->src, self->crycb, sizeof(self->crycb)));
	guest_of(&self->src, &g);
	ASSERT_EQ(0, pqap(&g, AQIC_GR0(5, 4), AQIC_GR1_ON(GISC), NIB_GPA,
			  false, &r));
	ASSERT_EQ(0U, r.cc) TH_LOG("AQIC: gr1 %#llx pgm %#x",
				   (unsigned long long)r.gr1, r.pgm);
	expect_irqs_held(_metadata, &g, GISC, 1);

	ASSERT_EQ(0, qmp(&self->src, EVENTS_ON, reply, sizeof(reply)))
		TH_LOG("%s", reply);
	ASSERT_EQ(0, qmp(&self->src, MIGRATE_OUT, reply, sizeof(reply)))
		TH_LOG("migrate: %s", reply);
	rc = qmp_event(&self->src, "MIGRATION", COMPLETED);
	if (rc)
		qmp(&self->src, "{\"execute\": \"query-migrate\"}", reply,
		    sizeof(reply));
	ASSERT_EQ(0, rc) TH_LOG("source migration: %s", reply);
	ASSERT_EQ(0, qmp(&self->src, "{\"execute\": \"query-status\"}",
			 reply, sizeof(reply)));
	EXPECT_NE(NULL, strstr(reply, "\"status\": \"postmigrate\""))
		TH_LOG("%s", reply);

	EXPECT_EQ(0, qemu_stop(&self->src)) TH_LOG("source QEMU's exit status");
	/* its close gave back the NIB page, the ISC and the queue */
	EXPECT_EQ(0, pinned_pages());
	EXPECT_EQ(0, sim_guest_irqs());
	ASSERT_EQ(0, mdev_remove(UUID_A));
}

/* @q's CRYCB is the source guest's. */
static void expect_source_crycb(struct __test_metadata *_metadata,
				FIXTURE_DATA(qmig) * self, struct qemu *q)
{
	char now[512];

	ASSERT_EQ(0, crycb_read(q, now, sizeof(now)));
	EXPECT_STREQ(self->crycb, now);
}

/*
 * With the device attached: QEMU's migration carries the driver's stream;
 * the target guest gets the source's CRYCB and, once it is started, the
 * interrupts of 05.0004 at the same guest address, through its own GISA.
 */
TEST_F_TIMEOUT(qmig, guest_moves_with_its_device, TEST_TIMEOUT)
{
	struct gisa_info gi;
	struct kvm_guest g;
	struct sim_irq si;
	const char *step;
	char reply[512];
	unsigned long long hpa;
	int rc;

	save_source(_metadata, self);
	ASSERT_EQ(0, assign_a(UUID_B));
	rc = start(&self->dst, UUID_B, "-incoming", &step);
	ASSERT_EQ(0, rc) TH_LOG("target: %s: %s", step, strerror(-rc));
	expect_source_crycb(_metadata, self, &self->dst);
	ASSERT_EQ(0, qmp(&self->dst, EVENTS_ON, reply, sizeof(reply)));
	ASSERT_EQ(0, qmp(&self->dst, MIGRATE_IN, reply, sizeof(reply)))
		TH_LOG("migrate-incoming: %s", reply);
	rc = qmp_event(&self->dst, "MIGRATION", COMPLETED);
	if (rc)
		qmp(&self->dst, "{\"execute\": \"query-migrate\"}", reply,
		    sizeof(reply));
	ASSERT_EQ(0, rc) TH_LOG("target migration: %s", reply);
	/* QEMU leaves RESUMING when the guest starts, not before */
	EXPECT_EQ(0, sim_guest_irqs());

	ASSERT_EQ(0, qmp(&self->dst, "{\"execute\": \"cont\"}", reply,
			 sizeof(reply))) TH_LOG("cont: %s", reply);
	ASSERT_EQ(0, qmp_event(&self->dst, "STOP", NULL));
	ASSERT_EQ(0, qmp(&self->dst, "{\"execute\": \"query-status\"}",
			 reply, sizeof(reply)));
	EXPECT_NE(NULL, strstr(reply, "\"status\": \"internal-error\""))
		TH_LOG("the lab's vCPU cannot run: %s", reply);

	expect_source_crycb(_metadata, self, &self->dst);
	guest_of(&self->dst, &g);
	expect_irqs_held(_metadata, &g, GISC, 1);
	ASSERT_EQ(0, sim_irq_get(5, 4, &si));
	EXPECT_TRUE(si.on);
	EXPECT_EQ((unsigned int)GISC, si.gisc);
	hpa = qemu_gpa2hpa(&self->dst, NIB_GPA);
	EXPECT_NE(0ULL, hpa);
	EXPECT_EQ(hpa, (unsigned long long)si.nib) TH_LOG("the NIB, in the target's guest memory");
	ASSERT_EQ(0, gisa_read(&g, &gi));
	EXPECT_EQ(gi.origin, si.gisa << 4);
	ksft_print_msg("target guest: CRYCB %s", self->crycb);
	ksft_print_msg("05.0004: interrupts %s, guest ISC %u, GISA %#llx\n",
		       si.on ? "on" : "off", si.gisc,
		       (unsigned long long)gi.origin);
	ksft_print_msg("05.0004: NIB at guest %#lx, host %#llx\n", NIB_GPA,
		       (unsigned long long)si.nib);

	EXPECT_EQ(0, qemu_stop(&self->dst)) TH_LOG("target QEMU's exit status");
	EXPECT_EQ(0, pinned_pages());
	EXPECT_EQ(0, sim_guest_irqs());
}

/*
 * A target mdev without domain 0xab: the load fails at the driver's
 * check, QEMU says the migration failed, and the target guest keeps the
 * CRYCB of its own mdev, with no interrupts.
 */
TEST_F_TIMEOUT(qmig, target_without_a_queue_refuses, TEST_TIMEOUT)
{
	char reply[512], before[512], now[512];
	const char *step;
	int rc;

	save_source(_metadata, self);
	ASSERT_EQ(0, assign_a(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_B, "unassign_domain", "0xab"));
	rc = start(&self->dst, UUID_B, "-incoming", &step);
	ASSERT_EQ(0, rc) TH_LOG("target: %s: %s", step, strerror(-rc));
	ASSERT_EQ(0, crycb_read(&self->dst, before, sizeof(before)));
	EXPECT_STRNE(self->crycb, before);
	log_count(self, NULL, NULL);
	self->log[0] = '\0';

	ASSERT_EQ(0, qmp(&self->dst, EVENTS_ON, reply, sizeof(reply)));
	ASSERT_EQ(0, qmp(&self->dst, MIGRATE_IN, reply, sizeof(reply)))
		TH_LOG("migrate-incoming: %s", reply);
	ASSERT_EQ(0, qmp_event(&self->dst, "MIGRATION", FAILED));
	EXPECT_EQ(1, log_count(self, "queue 05.00ab", "not assigned"))
		TH_LOG("kernel log: %s", self->log);

	ASSERT_EQ(0, crycb_read(&self->dst, now, sizeof(now)));
	EXPECT_STREQ(before, now);
	EXPECT_EQ(0, pinned_pages());
	EXPECT_EQ(0, sim_guest_irqs());
	qemu_stop(&self->dst);
	EXPECT_EQ(0, pinned_pages());
}

TEST_HARNESS_MAIN

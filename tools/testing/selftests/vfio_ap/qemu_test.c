// SPDX-License-Identifier: GPL-2.0
/*
 * Real QEMU as the user of the mdev: Debian's qemu-system-s390x for s390x
 * (QEMU 10 from bookworm-backports; the lab puts it, its libraries and its
 * firmware in qemu/ next to this binary) starts a guest paused (-S: the
 * lab's KVM has no SIE, so vCPUs must never run) with -device vfio-ap.
 * The test talks QMP to it over QEMU's stdio and checks what KVM gives
 * the guest (the lab kernel's kvm/<pid>-<fd>/crycb in debugfs) and what
 * the queues' status says while QEMU plugs, unplugs and answers the
 * removal of the mdev.
 *
 * Host: adapters 5 and 6 (vfio_ap) and 7 (cex4queue), domains 4, 0x47,
 * 0xab and 0xff. A: 5,6 x 4,0xab, control domain 0xab; B: 5 x 0x47.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "vfio_ap_expect.h"
#include "vfio_ap_qemu.h"

#define TEST_TIMEOUT	600

/*
 * Debian's QEMU with the vfio-ap device "ap0" for mdev @uuid (none if
 * NULL), up to a paused guest whose QMP is ready.
 */
static int guest_start(struct qemu *q, const char *uuid, const char **step)
{
	const char *args[3] = { "-device" };
	char device[256];

	args[1] = device;
	snprintf(device, sizeof(device),
		 "vfio-ap,id=ap0,sysfsdev=" MATRIX_DIR "/%s", uuid ? uuid : "");
	return qemu_start(q, "qemu", uuid ? args : NULL, step);
}

/* The guest of @q has adapters @apm, domains @aqm, control domains @adm. */
static void expect_crycb(struct __test_metadata *_metadata,
			 const struct qemu *q, const char *apm,
			 const char *aqm, const char *adm)
{
	char want[256], got[512];
	struct ap_matrix mx;

	ASSERT_EQ(0, ids_parse(apm, &mx.apm));
	ASSERT_EQ(0, ids_parse(aqm, &mx.aqm));
	ASSERT_EQ(0, ids_parse(adm, &mx.adm));
	matrix_fmt_crycb(&mx, want);
	ASSERT_EQ(0, crycb_read(q, got, sizeof(got)))
		TH_LOG("no crycb in %s: is the lab's KVM patch applied?",
		       q->dbg);
	EXPECT_STREQ(want, got) TH_LOG("CRYCB APM/AQM/ADM of QEMU's guest");
}

/* A's queues all read @want. */
static void expect_status_a(struct __test_metadata *_metadata,
			    const char *want)
{
	expect_status(_metadata, 5, 4, want);
	expect_status(_metadata, 5, 0xab, want);
	expect_status(_metadata, 6, 4, want);
	expect_status(_metadata, 6, 0xab, want);
}

#define GUEST_A	"05.0004\n05.00ab\n06.0004\n06.00ab\n"
#define DEVICE_ADD_A	"{\"execute\": \"device_add\", \"arguments\": " \
			"{\"driver\": \"vfio-ap\", \"id\": \"ap0\", " \
			"\"sysfsdev\": \"" MATRIX_DIR "/" UUID_A "\"}}"
#define DEVICE_DEL	"{\"execute\": \"device_del\", \"arguments\": " \
			"{\"id\": \"ap0\"}}"

FIXTURE(qemu) {
	struct qemu q;
};

FIXTURE_SETUP(qemu)
{
	qemu_init(&self->q);
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xab"));
	expect_attr(_metadata, UUID_A, "guest_matrix", GUEST_A);
}

FIXTURE_TEARDOWN(qemu)
{
	qemu_stop(&self->q);
	world_std();
}

/* Started with -device vfio-ap: the paused guest already has A's matrix. */
TEST_F_TIMEOUT(qemu, paused_guest_sees_the_matrix, TEST_TIMEOUT)
{
	const char *step;
	char reply[512];
	int rc;

	rc = guest_start(&self->q, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", step, strerror(-rc));
	ASSERT_EQ(0, qmp(&self->q, "{\"execute\": \"query-status\"}",
			 reply, sizeof(reply)));
	EXPECT_NE(NULL, strstr(reply, "\"status\": \"prelaunch\""))
		TH_LOG("%s", reply);
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	expect_status_a(_metadata, "in use\n");

	/* The admin's changes reach the guest QEMU holds. */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	expect_crycb(_metadata, &self->q, "5,6", "4,0x47,0xab", "0xab");
	/* So do the host's, as the AP bus sees them. */
	ASSERT_EQ(0, sim_write("remove_adapter", "6"));
	expect_crycb(_metadata, &self->q, "5", "4,0x47,0xab", "0xab");
	ASSERT_EQ(0, sim_write("add_adapter", "6"));
	expect_crycb(_metadata, &self->q, "5,6", "4,0x47,0xab", "0xab");
	expect_status_a(_metadata, "in use\n");
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_adapter", "6"));
	expect_crycb(_metadata, &self->q, "5", "4,0x47,0xab", "0xab");
	expect_status(_metadata, 6, 4, "unassigned\n");

	EXPECT_EQ(0, qemu_stop(&self->q)) TH_LOG("QEMU's exit status");
	expect_status(_metadata, 5, 4, "assigned\n");
}

/* The hot-plug flow of the admin guide: device_del, then device_add. */
TEST_F_TIMEOUT(qemu, device_del_then_device_add, TEST_TIMEOUT)
{
	const char *step;
	int rc;

	rc = guest_start(&self->q, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");

	ASSERT_EQ(0, qmp(&self->q, DEVICE_DEL, NULL, 0));
	ASSERT_EQ(0, qmp_event(&self->q, "DEVICE_DELETED", NULL));
	expect_crycb(_metadata, &self->q, "", "", "");
	expect_status_a(_metadata, "assigned\n");

	ASSERT_EQ(0, qmp(&self->q, DEVICE_ADD_A, NULL, 0));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	expect_status_a(_metadata, "in use\n");

	/* and once more, to see nothing was left behind by the first */
	ASSERT_EQ(0, qmp(&self->q, DEVICE_DEL, NULL, 0));
	ASSERT_EQ(0, qmp_event(&self->q, "DEVICE_DELETED", NULL));
	expect_crycb(_metadata, &self->q, "", "", "");
	ASSERT_EQ(0, qmp(&self->q, DEVICE_ADD_A, NULL, 0));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
}

/* A guest started without the device gets it plugged later. */
TEST_F_TIMEOUT(qemu, device_add_to_a_guest_without_one, TEST_TIMEOUT)
{
	const char *step;
	int rc;

	rc = guest_start(&self->q, NULL, &step);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->q, "", "", "");
	expect_status_a(_metadata, "assigned\n");
	ASSERT_EQ(0, qmp(&self->q, DEVICE_ADD_A, NULL, 0));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	expect_status_a(_metadata, "in use\n");
}

struct remover {
	pthread_t thread;
	int rc;
};

static void *remove_a(void *arg)
{
	struct remover *r = arg;

	r->rc = mdev_write(UUID_A, "remove", "1");
	return NULL;
}

/*
 * Removing the mdev under QEMU: the write blocks while the driver asks
 * through the REQ eventfd; QEMU's handler unplugs the device, which lets
 * the removal complete. The guest itself goes on.
 */
TEST_F_TIMEOUT(qemu, remove_is_answered_by_qemu, TEST_TIMEOUT)
{
	struct remover r = { .rc = -EINPROGRESS };
	const char *step;
	char reply[512];
	int rc, unplugged;

	rc = guest_start(&self->q, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");

	ASSERT_EQ(0, pthread_create(&r.thread, NULL, remove_a, &r));
	unplugged = qmp_event(&self->q, "DEVICE_DELETED", NULL);
	/* If QEMU did not answer, let go of the device so the write ends. */
	if (unplugged)
		qmp(&self->q, DEVICE_DEL, NULL, 0);
	pthread_join(r.thread, NULL);
	EXPECT_EQ(0, unplugged) TH_LOG("QEMU did not unplug on REQ: %s",
				       strerror(-unplugged));
	EXPECT_EQ(0, r.rc) TH_LOG("remove: %s", strerror(-r.rc));
	EXPECT_FALSE(mdev_exists(UUID_A));
	expect_crycb(_metadata, &self->q, "", "", "");
	expect_status_a(_metadata, "unassigned\n");
	ASSERT_EQ(0, qmp(&self->q, "{\"execute\": \"query-status\"}",
			 reply, sizeof(reply)));
	EXPECT_NE(NULL, strstr(reply, "\"status\": \"prelaunch\""))
		TH_LOG("%s", reply);
}

/* Two guests, one mdev each: each CRYCB holds only its own matrix. */
TEST_F_TIMEOUT(qemu, two_guests_two_mdevs, TEST_TIMEOUT)
{
	struct qemu b;
	const char *step;
	int rc;

	qemu_init(&b);
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	rc = guest_start(&self->q, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("A: %s: %s", step, strerror(-rc));
	rc = guest_start(&b, UUID_B, &step);
	if (rc)
		qemu_stop(&b);
	ASSERT_EQ(0, rc) TH_LOG("B: %s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	expect_crycb(_metadata, &b, "5", "0x47", "");
	expect_status(_metadata, 5, 0x47, "in use\n");

	/* An APQN can serve one mdev only; the other guest keeps its own. */
	EXPECT_EQ(-EADDRINUSE, mdev_write(UUID_A, "assign_domain", "0x47"));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	EXPECT_EQ(0, qemu_stop(&b));
	expect_status(_metadata, 5, 0x47, "assigned\n");
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
}

TEST_HARNESS_MAIN

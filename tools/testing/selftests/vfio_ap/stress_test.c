// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded concurrent churn: threads assign and unassign on several mdevs,
 * edit the AP bus masks, change the simulated host configuration, create
 * and remove mdevs and read status, each for a fixed number of steps.
 * Every step may fail only with the errnos the contract allows; at the
 * end the state must be consistent: each guest_matrix is what the rules
 * give for the final matrix, host configuration and bound queues, no
 * APQN belongs to two mdevs or to an mdev and the host, and every status
 * agrees with the matrices. The seed is printed (VFIO_AP_SEED replays).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfio_ap_expect.h"

#define STEPS		40
#define N_MDEVS		3

static const char * const uuids[N_MDEVS] = { UUID_A, UUID_B, UUID_C };
static const unsigned int adapters[] = { 5, 6, 8, 9 };
static const unsigned int domains[] = { 3, 4, 0x47, 0xab, 0xff };

struct worker {
	pthread_t thread;
	unsigned int seed;
	const char *uuid;
	int bad_rc;		/* first errno outside the allowed set */
	char what[64];		/* and what it came from */
	int ops;
};

static unsigned int seed_base(void)
{
	const char *env = getenv("VFIO_AP_SEED");

	return env ? strtoul(env, NULL, 0) : (unsigned int)time(NULL);
}

static unsigned int pick(unsigned int *seed, unsigned int n)
{
	return rand_r(seed) % n;
}

static void note(struct worker *w, int rc, const char *what)
{
	if (!w->bad_rc) {
		w->bad_rc = rc;
		snprintf(w->what, sizeof(w->what), "%s", what);
	}
}

static bool allowed(int rc, const int *ok, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (rc == ok[i])
			return true;
	return false;
}

/* assign/unassign adapters, domains and control domains on one mdev */
static void *assigner(void *arg)
{
	static const int ok[] = { 0, -EADDRINUSE, -EADDRNOTAVAIL, -EBUSY };
	static const char * const attrs[] = {
		"assign_adapter", "unassign_adapter", "assign_domain",
		"unassign_domain", "assign_control_domain",
		"unassign_control_domain",
	};
	struct worker *w = arg;
	unsigned int i, a, id;
	char buf[4096];
	int rc;

	for (i = 0; i < STEPS; i++, w->ops++) {
		a = pick(&w->seed, ARRAY_SIZE(attrs));
		id = a < 2 ? adapters[pick(&w->seed, ARRAY_SIZE(adapters))] :
			     domains[pick(&w->seed, ARRAY_SIZE(domains))];
		rc = mdev_assign(w->uuid, attrs[a], id);
		if (!allowed(rc, ok, ARRAY_SIZE(ok)))
			note(w, rc, attrs[a]);
		if (mdev_read(w->uuid, "guest_matrix", buf, sizeof(buf)) < 0)
			note(w, -EIO, "guest_matrix");
	}
	return NULL;
}

/* move adapter 9 and domain 3 between the host and vfio_ap */
static void *mask_editor(void *arg)
{
	static const int ok[] = { 0, -EBUSY };
	static const char * const edits[][2] = {
		{ "apmask", "+9" }, { "apmask", "-9" },
		{ "aqmask", "+3" }, { "aqmask", "-3" },
	};
	struct worker *w = arg;
	char path[64];
	unsigned int i, e;
	int rc;

	for (i = 0; i < STEPS; i++, w->ops++) {
		e = pick(&w->seed, ARRAY_SIZE(edits));
		snprintf(path, sizeof(path), AP_BUS_DIR "/%s", edits[e][0]);
		rc = sysfs_write(path, edits[e][1]);
		if (!allowed(rc, ok, ARRAY_SIZE(ok)))
			note(w, rc, edits[e][1]);
	}
	return NULL;
}

/* adapters 8/9 and domains 3/0xff come and go in the host */
static void *host_changer(void *arg)
{
	static const char * const changes[][2] = {
		{ "add_adapter", "8" }, { "remove_adapter", "8" },
		{ "add_adapter", "9" }, { "remove_adapter", "9" },
		{ "add_domain", "3" }, { "remove_domain", "3" },
		{ "add_domain", "0xff" }, { "remove_domain", "0xff" },
		{ "add_control_domain", "3" }, { "remove_control_domain", "3" },
	};
	struct worker *w = arg;
	unsigned int i, c;
	int rc;

	for (i = 0; i < STEPS / 3; i++, w->ops++) {
		c = pick(&w->seed, ARRAY_SIZE(changes));
		rc = sim_write(changes[c][0], changes[c][1]);
		if (rc)
			note(w, rc, changes[c][0]);
	}
	return NULL;
}

/* status of queues that may come and go, and every guest_matrix */
static void *reader(void *arg)
{
	struct worker *w = arg;
	unsigned int i, a, d;
	char buf[4096];
	ssize_t n;

	for (i = 0; i < STEPS; i++, w->ops++) {
		a = adapters[pick(&w->seed, ARRAY_SIZE(adapters))];
		d = domains[pick(&w->seed, ARRAY_SIZE(domains))];
		n = queue_status(a, d, buf, sizeof(buf));
		/* gone, or not (or no longer) bound to vfio_ap */
		if (n < 0 && n != -ENOENT && n != -ENODEV)
			note(w, n, "status");
		if (n > 0 && strcmp(buf, "assigned\n") &&
		    strcmp(buf, "unassigned\n"))
			note(w, -EPROTO, "status text");
		if (mdev_read(uuids[i % N_MDEVS], "guest_matrix", buf,
			      sizeof(buf)) < 0)
			note(w, -EIO, "guest_matrix");
	}
	return NULL;
}

/* create and remove a fourth mdev over and over */
static void *creator(void *arg)
{
	static const char uuid[] = "0b5e8f9c-2d41-4a6e-8f0d-7c3b1a2e9d55";
	struct worker *w = arg;
	unsigned int i;
	int rc;

	for (i = 0; i < STEPS / 3; i++, w->ops++) {
		rc = mdev_create(uuid);
		if (rc)
			note(w, rc, "create");
		/* no APQN, so only a mask edit in progress can refuse */
		rc = mdev_assign(uuid, "assign_adapter", 6);
		if (rc && rc != -EBUSY)
			note(w, rc, "assign_adapter on new mdev");
		rc = mdev_remove(uuid);
		if (rc)
			note(w, rc, "remove");
	}
	return NULL;
}

static void run_workers(struct __test_metadata *_metadata,
			void *(*fns[])(void *), unsigned int n)
{
	struct worker w[16] = {};
	unsigned int seed = seed_base(), i;

	ksft_print_msg("%s: seed %u\n", _metadata->name, seed);
	for (i = 0; i < n; i++) {
		w[i].seed = seed + i;
		w[i].uuid = uuids[i % N_MDEVS];
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, fns[i], &w[i]));
	}
	for (i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, w[i].bad_rc)
			TH_LOG("worker %u: %s: %s", i, w[i].what,
			       strerror(-w[i].bad_rc));
	}
}

/*
 * The queue devices on the AP bus, read once: probing each of the 65536
 * APQN paths costs minutes on the lab's debug kernel under emulation.
 */
static int queues_present(bool present[AP_IDS][AP_IDS])
{
	unsigned int a, d;
	struct dirent *de;
	char end;
	DIR *dir;

	memset(present, 0, sizeof(bool) * AP_IDS * AP_IDS);
	dir = opendir(AP_DEV_DIR);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (sscanf(de->d_name, "%2x.%4x%c", &a, &d, &end) == 2 &&
		    a < AP_IDS && d < AP_IDS)
			present[a][d] = true;
	closedir(dir);
	return 0;
}

/* The invariants of the final state. */
static void expect_consistent(struct __test_metadata *_metadata)
{
	static bool present[AP_IDS][AP_IDS];
	struct ap_mask apmask, aqmask;
	struct ap_matrix mx[N_MDEVS];
	unsigned int i, j, a, d;
	char buf[128], st[64];
	int owners;

	ASSERT_LT(0, sysfs_read(AP_BUS_DIR "/apmask", buf, sizeof(buf)));
	ASSERT_EQ(0, mask_parse(buf, &apmask));
	ASSERT_LT(0, sysfs_read(AP_BUS_DIR "/aqmask", buf, sizeof(buf)));
	ASSERT_EQ(0, mask_parse(buf, &aqmask));
	for (i = 0; i < N_MDEVS; i++) {
		ASSERT_EQ(0, mdev_config(uuids[i], &mx[i]));
		expect_guest_by_rules(_metadata, uuids[i]);
	}
	ASSERT_EQ(0, queues_present(present));
	for (a = 0; a < AP_IDS; a++) {
		for (d = 0; d < AP_IDS; d++) {
			owners = 0;
			for (j = 0; j < N_MDEVS; j++)
				owners += mask_test(&mx[j].apm, a) &&
					  mask_test(&mx[j].aqm, d);
			EXPECT_GE(1, owners) TH_LOG("%02x.%04x shared", a, d);
			if (owners) {
				EXPECT_FALSE(mask_test(&apmask, a) &&
					     mask_test(&aqmask, d))
					TH_LOG("%02x.%04x host-owned", a, d);
			}
			if (!present[a][d] || !queue_bound_vfio(a, d))
				continue;
			ASSERT_LT(0, queue_status(a, d, st, sizeof(st)));
			EXPECT_STREQ(owners ? "assigned\n" : "unassigned\n",
				     st) TH_LOG("status of %02x.%04x", a, d);
		}
	}
}

FIXTURE(stress) {
};

FIXTURE_SETUP(stress)
{
	unsigned int i;

	ASSERT_EQ(0, world_std());
	for (i = 0; i < N_MDEVS; i++)
		if (mdev_create(uuids[i]))
			break;
	ASSERT_EQ(N_MDEVS, i);
}

FIXTURE_TEARDOWN(stress)
{
	world_std();
}

TEST_F_TIMEOUT(stress, parallel_assign_unassign, 300)
{
	void *(*fns[])(void *) = { assigner, assigner, assigner };

	run_workers(_metadata, fns, ARRAY_SIZE(fns));
	expect_consistent(_metadata);
}

TEST_F_TIMEOUT(stress, assign_against_mask_edits, 300)
{
	void *(*fns[])(void *) = { assigner, assigner, assigner,
				   mask_editor };

	run_workers(_metadata, fns, ARRAY_SIZE(fns));
	expect_consistent(_metadata);
}

TEST_F_TIMEOUT(stress, assign_against_host_changes, 300)
{
	void *(*fns[])(void *) = { assigner, assigner, assigner,
				   host_changer, reader };

	run_workers(_metadata, fns, ARRAY_SIZE(fns));
	expect_consistent(_metadata);
}

TEST_F_TIMEOUT(stress, everything_at_once, 300)
{
	void *(*fns[])(void *) = { assigner, assigner, assigner,
				   mask_editor, host_changer, reader,
				   creator };

	run_workers(_metadata, fns, ARRAY_SIZE(fns));
	expect_consistent(_metadata);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Creating and removing vfio_ap mediated devices: the mdev type's
 * instance accounting, UUID checks, what a new mdev looks like and what
 * its removal gives back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_ap_util.h"

#define MAX_INSTANCES	65536

static long count_available(void)
{
	char buf[64];

	if (sysfs_read(MDEV_TYPE_DIR "/available_instances", buf,
		       sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

FIXTURE(mdev) {
};

FIXTURE_SETUP(mdev)
{
	ASSERT_EQ(0, world_std());
}

FIXTURE_TEARDOWN(mdev)
{
	world_std();
}

TEST_F(mdev, available_instances_without_mdevs)
{
	EXPECT_EQ(MAX_INSTANCES, count_available());
}

TEST_F(mdev, available_instances_counts_each_mdev)
{
	ASSERT_EQ(0, mdev_create(UUID_A));
	EXPECT_EQ(MAX_INSTANCES - 1, count_available());
	ASSERT_EQ(0, mdev_create(UUID_B));
	EXPECT_EQ(MAX_INSTANCES - 2, count_available());
	ASSERT_EQ(0, mdev_create(UUID_C));
	EXPECT_EQ(MAX_INSTANCES - 3, count_available());
}

TEST_F(mdev, remove_gives_instance_back)
{
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_remove(UUID_A));
	EXPECT_FALSE(mdev_exists(UUID_A));
	EXPECT_TRUE(mdev_exists(UUID_B));
	EXPECT_EQ(MAX_INSTANCES - 1, count_available());
	ASSERT_EQ(0, mdev_remove(UUID_B));
	EXPECT_EQ(MAX_INSTANCES, count_available());
}

TEST_F(mdev, create_makes_device_with_attributes)
{
	static const char * const attrs[] = {
		"assign_adapter", "unassign_adapter", "assign_domain",
		"unassign_domain", "assign_control_domain",
		"unassign_control_domain", "matrix", "guest_matrix",
		"control_domains", "ap_config", "remove", "iommu_group",
	};
	char path[256];
	unsigned int i;

	ASSERT_EQ(0, mdev_create(UUID_A));
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), MATRIX_DIR "/%s/%s", UUID_A,
			 attrs[i]);
		EXPECT_TRUE(path_exists(path))
			TH_LOG("missing %s", attrs[i]);
	}
}

TEST_F(mdev, create_accepts_trailing_newline)
{
	ASSERT_EQ(0, sysfs_write(MDEV_TYPE_DIR "/create", UUID_A "\n"));
	EXPECT_TRUE(mdev_exists(UUID_A));
}

TEST_F(mdev, duplicate_uuid_eexist)
{
	ASSERT_EQ(0, mdev_create(UUID_A));
	EXPECT_EQ(-EEXIST, mdev_create(UUID_A));
	EXPECT_EQ(MAX_INSTANCES - 1, count_available());
}

TEST_F(mdev, duplicate_uuid_with_newline_eexist)
{
	ASSERT_EQ(0, mdev_create(UUID_A));
	EXPECT_EQ(-EEXIST, sysfs_write(MDEV_TYPE_DIR "/create", UUID_A "\n"));
}

TEST_F(mdev, new_mdev_is_empty)
{
	char buf[512];

	ASSERT_EQ(0, mdev_create(UUID_A));
	EXPECT_EQ(0, mdev_read(UUID_A, "matrix", buf, sizeof(buf)));
	EXPECT_EQ(0, mdev_read(UUID_A, "guest_matrix", buf, sizeof(buf)));
	EXPECT_EQ(0, mdev_read(UUID_A, "control_domains", buf, sizeof(buf)));
	ASSERT_LT(0, mdev_read(UUID_A, "ap_config", buf, sizeof(buf)));
	EXPECT_STREQ(CONFIG_NONE, buf);
}

TEST_F(mdev, recreated_uuid_starts_empty)
{
	char buf[512];

	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	ASSERT_EQ(0, mdev_remove(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_A));
	EXPECT_EQ(0, mdev_read(UUID_A, "matrix", buf, sizeof(buf)));
	EXPECT_EQ(0, mdev_read(UUID_A, "control_domains", buf, sizeof(buf)));
}

TEST_F(mdev, removal_frees_apqns_for_other_mdevs)
{
	char buf[256];

	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(-EADDRINUSE, mdev_write(UUID_B, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_remove(UUID_A));
	EXPECT_EQ(0, mdev_write(UUID_B, "assign_domain", "4"));
	ASSERT_LT(0, mdev_read(UUID_B, "matrix", buf, sizeof(buf)));
	EXPECT_STREQ("05.0004\n", buf);
}

TEST_F(mdev, removal_frees_apqns_for_the_host)
{
	char drv[64];

	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(-EBUSY, sysfs_write(AP_BUS_DIR "/apmask", "+5"));
	ASSERT_EQ(0, mdev_remove(UUID_A));
	EXPECT_EQ(0, sysfs_write(AP_BUS_DIR "/apmask", "+5"));
	ASSERT_EQ(0, queue_driver(5, 4, drv, sizeof(drv)));
	EXPECT_STRNE("vfio_ap", drv);
}

TEST_F(mdev, removed_mdev_leaves_type_devices)
{
	char path[256];

	ASSERT_EQ(0, mdev_create(UUID_A));
	snprintf(path, sizeof(path), MDEV_TYPE_DIR "/devices/%s", UUID_A);
	EXPECT_TRUE(path_exists(path));
	ASSERT_EQ(0, mdev_remove(UUID_A));
	EXPECT_FALSE(path_exists(path));
}

TEST_F(mdev, mdev_type_link)
{
	char path[256], link[256];
	ssize_t n;

	ASSERT_EQ(0, mdev_create(UUID_A));
	snprintf(path, sizeof(path), MATRIX_DIR "/%s/mdev_type", UUID_A);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	EXPECT_STREQ("vfio_ap-passthrough", strrchr(link, '/') + 1);
}

TEST_F(mdev, bound_to_vfio_ap_mdev_driver)
{
	char path[256], link[256];
	ssize_t n;

	ASSERT_EQ(0, mdev_create(UUID_A));
	snprintf(path, sizeof(path), MATRIX_DIR "/%s/driver", UUID_A);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	EXPECT_STREQ("vfio_ap_mdev", strrchr(link, '/') + 1);
}

TEST_F(mdev, many_mdevs_create_and_remove)
{
	char uuid[40];
	int i;

	for (i = 0; i < 32; i++) {
		snprintf(uuid, sizeof(uuid),
			 "00000000-0000-4000-8000-%012x", i);
		ASSERT_EQ(0, mdev_create(uuid));
	}
	EXPECT_EQ(MAX_INSTANCES - 32, count_available());
	ASSERT_EQ(0, mdev_remove_all());
	EXPECT_EQ(MAX_INSTANCES, count_available());
}

/* Malformed UUIDs: the mdev core rejects them with EINVAL. */
FIXTURE(bad_uuid) {
};

FIXTURE_VARIANT(bad_uuid) {
	const char *uuid;
};

FIXTURE_VARIANT_ADD(bad_uuid, word) {
	.uuid = "not-a-uuid",
};

FIXTURE_VARIANT_ADD(bad_uuid, short) {
	.uuid = "6217788-f1bb-47f0-914d-32a22e3a8804",
};

FIXTURE_VARIANT_ADD(bad_uuid, non_hex) {
	.uuid = "6217788g-f1bb-47f0-914d-32a22e3a8804",
};

FIXTURE_VARIANT_ADD(bad_uuid, no_dashes) {
	.uuid = "62177883f1bb47f0914d32a22e3a8804",
};

FIXTURE_VARIANT_ADD(bad_uuid, wrong_separator) {
	.uuid = "62177883_f1bb_47f0_914d_32a22e3a8804",
};

FIXTURE_VARIANT_ADD(bad_uuid, newline_only) {
	.uuid = "\n",
};

FIXTURE_SETUP(bad_uuid)
{
	ASSERT_EQ(0, world_std());
}

FIXTURE_TEARDOWN(bad_uuid)
{
	world_std();
}

TEST_F(bad_uuid, create_einval)
{
	EXPECT_EQ(-EINVAL, sysfs_write(MDEV_TYPE_DIR "/create",
				       variant->uuid));
	EXPECT_EQ(MAX_INSTANCES, count_available());
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The matrix parent device and the mdev type: what libvirt and mdevctl
 * look for before they create anything.
 */
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_ap_util.h"

TEST(features_lists_dynamic_configuration)
{
	char buf[256];

	ASSERT_LT(0, sysfs_read(MATRIX_DIR "/features", buf, sizeof(buf)));
	EXPECT_STREQ("guest_matrix hotplug ap_config\n", buf);
}

TEST(features_is_read_only)
{
	EXPECT_EQ(-EACCES, sysfs_write(MATRIX_DIR "/features", "x"));
}

TEST(mdev_type_name)
{
	char buf[256];

	ASSERT_LT(0, sysfs_read(MDEV_TYPE_DIR "/name", buf, sizeof(buf)));
	EXPECT_STREQ("VFIO AP Passthrough Device\n", buf);
}

TEST(mdev_type_device_api)
{
	char buf[256];

	ASSERT_LT(0, sysfs_read(MDEV_TYPE_DIR "/device_api", buf, sizeof(buf)));
	EXPECT_STREQ("vfio-ap\n", buf);
}

TEST(parent_sits_on_matrix_bus)
{
	char link[256];
	ssize_t n;

	n = readlink(MATRIX_DIR "/subsystem", link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	EXPECT_STREQ("matrix", strrchr(link, '/') + 1);
}

TEST_HARNESS_MAIN

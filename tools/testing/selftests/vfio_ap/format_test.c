// SPDX-License-Identifier: GPL-2.0
/*
 * What the read attributes of an mdev print (matrix, guest_matrix,
 * control_domains, ap_config), and how ap_config writes are parsed and
 * validated: a malformed or refused write changes nothing.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_ap_util.h"

#define ZERO62	"00000000000000000000000000000000" \
		"000000000000000000000000000000"
#define ZERO63	ZERO62 "0"

static void expect_attr(struct __test_metadata *_metadata, const char *uuid,
			const char *attr, const char *want)
{
	char buf[8192];

	ASSERT_LE(0, mdev_read(uuid, attr, buf, sizeof(buf)));
	EXPECT_STREQ(want, buf) TH_LOG("%s of %s", attr, uuid);
}

static void expect_config_str(struct __test_metadata *_metadata,
			      const char *uuid, const char *want)
{
	expect_attr(_metadata, uuid, "ap_config", want);
}

/* Every APQN belongs to vfio_ap: nothing but the format is tested. */
FIXTURE(fmt) {
};

FIXTURE_SETUP(fmt)
{
	ASSERT_EQ(0, world_reset(STD_CONFIG, MASK_NONE, MASK_ALL));
	ASSERT_EQ(0, mdev_create(UUID_A));
}

FIXTURE_TEARDOWN(fmt)
{
	world_std();
}

TEST_F(fmt, matrix_adapters_only)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	expect_attr(_metadata, UUID_A, "matrix", "05.\n06.\n");
}

TEST_F(fmt, matrix_domains_only)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	expect_attr(_metadata, UUID_A, "matrix", ".0004\n.00ab\n");
}

TEST_F(fmt, matrix_adapter_outer_ascending)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	expect_attr(_metadata, UUID_A, "matrix",
		    "05.0004\n05.00ab\n06.0004\n06.00ab\n");
}

TEST_F(fmt, matrix_lowercase_hex_extremes)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "0xFE"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "0"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "255"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0"));
	expect_attr(_metadata, UUID_A, "matrix",
		    "00.0000\n00.00ff\nfe.0000\nfe.00ff\n");
}

TEST_F(fmt, matrix_leaves_out_control_domains)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	expect_attr(_metadata, UUID_A, "matrix", "");
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	expect_attr(_metadata, UUID_A, "matrix", "05.\n");
}

TEST_F(fmt, control_domains_ascending_lowercase)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xff"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xAB"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	expect_attr(_metadata, UUID_A, "control_domains",
		    "0000\n0004\n00ab\n00ff\n");
}

TEST_F(fmt, control_domains_leave_out_usage_domains)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	expect_attr(_metadata, UUID_A, "control_domains", "");
}

TEST_F(fmt, guest_matrix_same_format)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	expect_attr(_metadata, UUID_A, "guest_matrix", "05.\n06.\n");
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xff"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	expect_attr(_metadata, UUID_A, "guest_matrix",
		    "05.0004\n05.00ff\n06.0004\n06.00ff\n");
}

TEST_F(fmt, guest_matrix_domains_only)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	expect_attr(_metadata, UUID_A, "guest_matrix", ".0047\n");
}

TEST_F(fmt, ap_config_read_shape)
{
	char buf[512];
	unsigned int i;

	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xff"));
	ASSERT_EQ(3 * 66 + 3, mdev_read(UUID_A, "ap_config", buf, sizeof(buf)));
	for (i = 0; i < 3; i++) {
		const char *f = buf + 67 * i;
		unsigned int j;

		EXPECT_EQ(0, strncmp(f, "0x", 2));
		for (j = 2; j < 66; j++) {
			EXPECT_TRUE((f[j] >= '0' && f[j] <= '9') ||
				    (f[j] >= 'a' && f[j] <= 'f'));
		}
		EXPECT_EQ(i < 2 ? ',' : '\n', f[66]);
	}
}

/* adapters 0 and 255, domain 4, control domain 0xab (digit 42 is 1) */
#define ADM_AB		"0x0000000000000000000000000000000000000000001" \
			"000000000000000000000"
#define MSB0_CONFIG	"0x8" ZERO62 "1,0x08" ZERO62 "," ADM_AB "\n"

TEST_F(fmt, ap_config_read_msb0)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "0"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "255"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xab"));
	expect_config_str(_metadata, UUID_A, MSB0_CONFIG);
}

TEST_F(fmt, ap_config_write_sets_all_three)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0x88"));
	expect_attr(_metadata, UUID_A, "matrix", "05.0004\n06.0004\n");
	expect_attr(_metadata, UUID_A, "control_domains", "0000\n0004\n");
	expect_config_str(_metadata, UUID_A,
			  "0x06" ZERO62 ",0x08" ZERO62 ",0x88" ZERO62 "\n");
}

TEST_F(fmt, ap_config_write_without_prefix)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "06,08,88"));
	expect_config_str(_metadata, UUID_A,
			  "0x06" ZERO62 ",0x08" ZERO62 ",0x88" ZERO62 "\n");
}

TEST_F(fmt, ap_config_write_x_prefix)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "x06,x08,x88"));
	expect_config_str(_metadata, UUID_A,
			  "0x06" ZERO62 ",0x08" ZERO62 ",0x88" ZERO62 "\n");
}

TEST_F(fmt, ap_config_write_trailing_newline)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0x88\n"));
	expect_attr(_metadata, UUID_A, "matrix", "05.0004\n06.0004\n");
}

TEST_F(fmt, ap_config_write_short_mask_padded_right)
{
	/* one hex digit: IDs 0-3 */
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x1,0x8,0x2"));
	expect_attr(_metadata, UUID_A, "matrix", "03.0000\n");
	expect_attr(_metadata, UUID_A, "control_domains", "0002\n");
}

TEST_F(fmt, ap_config_write_full_length)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config",
				"0x0" ZERO62 "1,0x" ZERO63 "1,0x" ZERO63 "1"));
	expect_attr(_metadata, UUID_A, "matrix", "ff.00ff\n");
	expect_attr(_metadata, UUID_A, "control_domains", "00ff\n");
}

TEST_F(fmt, ap_config_write_replaces)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0x88"));
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x01,0x80,0x40"));
	expect_attr(_metadata, UUID_A, "matrix", "07.0000\n");
	expect_attr(_metadata, UUID_A, "control_domains", "0001\n");
}

TEST_F(fmt, ap_config_write_clears)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0x88"));
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", CONFIG_NONE));
	expect_attr(_metadata, UUID_A, "matrix", "");
	expect_attr(_metadata, UUID_A, "control_domains", "");
}

TEST_F(fmt, ap_config_round_trip)
{
	char buf[512];

	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "0xfe"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xab"));
	ASSERT_LT(0, mdev_read(UUID_A, "ap_config", buf, sizeof(buf)));
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", CONFIG_NONE));
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", buf));
	expect_config_str(_metadata, UUID_A, buf);
	expect_attr(_metadata, UUID_A, "matrix", "05.0047\nfe.0047\n");
}

/* Malformed ap_config writes: EINVAL and nothing changes. */
FIXTURE(bad_config) {
};

FIXTURE_VARIANT(bad_config) {
	const char *val;
};

FIXTURE_VARIANT_ADD(bad_config, one_field) {
	.val = "0x06",
};

FIXTURE_VARIANT_ADD(bad_config, two_fields) {
	.val = "0x06,0x08",
};

/*
 * abi.md 2: a missing field is EINVAL. The reference (upstream 6.12) takes
 * the newline as an empty third field and sets no control domains.
 */
FIXTURE_VARIANT_ADD(bad_config, two_fields_newline) {
	.val = "0x06,0x08\n",
};

FIXTURE_VARIANT_ADD(bad_config, newline_only) {
	.val = "\n",
};

FIXTURE_VARIANT_ADD(bad_config, words) {
	.val = "hello",
};

FIXTURE_VARIANT_ADD(bad_config, bad_hex_digit) {
	.val = "0x0g,0x08,0x88",
};

FIXTURE_VARIANT_ADD(bad_config, bad_digit_in_control) {
	.val = "0x06,0x08,0x8z",
};

FIXTURE_VARIANT_ADD(bad_config, upper_case_prefix) {
	.val = "0X06,0X08,0X88",
};

FIXTURE_VARIANT_ADD(bad_config, space_in_field) {
	.val = "0x06 ,0x08,0x88",
};

FIXTURE_VARIANT_ADD(bad_config, leading_space) {
	.val = " 0x06,0x08,0x88",
};

FIXTURE_VARIANT_ADD(bad_config, trailing_space) {
	.val = "0x06,0x08,0x88 ",
};

FIXTURE_VARIANT_ADD(bad_config, semicolons) {
	.val = "0x06;0x08;0x88",
};

FIXTURE_VARIANT_ADD(bad_config, minus_sign) {
	.val = "-0x06,0x08,0x88",
};

FIXTURE_VARIANT_ADD(bad_config, adapters_65_digits) {
	.val = "0x06" ZERO63 ",0x08,0x88",
};

FIXTURE_VARIANT_ADD(bad_config, domains_65_digits) {
	.val = "0x06,0x08" ZERO63 ",0x88",
};

FIXTURE_VARIANT_ADD(bad_config, control_65_digits) {
	.val = "0x06,0x08,0x88" ZERO63,
};

FIXTURE_SETUP(bad_config)
{
	ASSERT_EQ(0, world_reset(STD_CONFIG, MASK_NONE, MASK_ALL));
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x01,0x80,0x40"));
}

FIXTURE_TEARDOWN(bad_config)
{
	world_std();
}

TEST_F(bad_config, einval_and_unchanged)
{
	EXPECT_EQ(-EINVAL, mdev_write(UUID_A, "ap_config", variant->val));
	expect_config_str(_metadata, UUID_A,
			  "0x01" ZERO62 ",0x80" ZERO62 ",0x40" ZERO62 "\n");
}

/*
 * ap_config writes are validated like the assign attributes and applied
 * as one change or not at all. Host: Na 0x40, Nd 0x20; vfio_ap owns
 * adapters 5, 6, 8 and 9, adapter 7 is the host's.
 */
#define LIMIT_CONFIG	"adapters=5-7 domains=4,0x1f control_domains=4 " \
			"na=0x40 nd=0x20"
#define BEFORE		"0x04" ZERO62 ",0x08" ZERO62 ",0x08" ZERO62 "\n"

FIXTURE(checked_config) {
};

FIXTURE_SETUP(checked_config)
{
	ASSERT_EQ(0, world_reset(LIMIT_CONFIG, STD_APMASK, MASK_ALL));
	/* adapters 0x40 and 0x41 to vfio_ap: only the range is at stake */
	ASSERT_EQ(0, sysfs_write(AP_BUS_DIR "/apmask", "-64,-65"));
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
	/* A: 05.0004, control domain 4 */
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04,0x08,0x08"));
	expect_config_str(_metadata, UUID_A, BEFORE);
}

FIXTURE_TEARDOWN(checked_config)
{
	world_std();
}

static void set_id(char *cfg, unsigned int field, unsigned int id)
{
	struct ap_mask m;

	mask_clear(&m);
	mask_set(&m, id);
	mask_fmt(&m, cfg + 67 * field);
	cfg[67 * field + 66] = field < 2 ? ',' : '\0';
}

/* a config for B with one ID in each field */
static void config_of(char *cfg, unsigned int apid, unsigned int apqi,
		      unsigned int adm)
{
	set_id(cfg, 0, apid);
	set_id(cfg, 1, apqi);
	set_id(cfg, 2, adm);
}

TEST_F(checked_config, limits_accepted)
{
	char cfg[256];

	config_of(cfg, 0x40, 0x20, 0x20);
	EXPECT_EQ(0, mdev_write(UUID_B, "ap_config", cfg));
	expect_attr(_metadata, UUID_B, "matrix", "40.0020\n");
}

TEST_F(checked_config, adapter_above_na_enodev)
{
	char cfg[256];

	config_of(cfg, 0x41, 0x1f, 4);
	EXPECT_EQ(-ENODEV, mdev_write(UUID_A, "ap_config", cfg));
	expect_config_str(_metadata, UUID_A, BEFORE);
}

TEST_F(checked_config, domain_above_nd_enodev)
{
	char cfg[256];

	config_of(cfg, 6, 0x21, 4);
	EXPECT_EQ(-ENODEV, mdev_write(UUID_A, "ap_config", cfg));
	expect_config_str(_metadata, UUID_A, BEFORE);
}

TEST_F(checked_config, control_domain_above_nd_enodev)
{
	char cfg[256];

	config_of(cfg, 6, 0x1f, 0x21);
	EXPECT_EQ(-ENODEV, mdev_write(UUID_A, "ap_config", cfg));
	expect_config_str(_metadata, UUID_A, BEFORE);
}

TEST_F(checked_config, host_owned_eaddrnotavail)
{
	/* adapters 6 and 7 with domain 0x1f: 07.001f is the host's */
	EXPECT_EQ(-EADDRNOTAVAIL,
		  mdev_write(UUID_A, "ap_config", "0x03,0x00000001,0x08"));
	expect_config_str(_metadata, UUID_A, BEFORE);
}

TEST_F(checked_config, other_mdev_eaddrinuse_logged)
{
	char log[65536] = "";
	int fd;

	fd = kmsg_open();
	ASSERT_LE(0, fd);
	/* 05.0004 is A's; 06.0004 would be free */
	EXPECT_EQ(-EADDRINUSE,
		  mdev_write(UUID_B, "ap_config", "0x06,0x08,0x10"));
	ASSERT_EQ(0, kmsg_collect(fd, log, sizeof(log)));
	close(fd);
	/* one line for A, naming exactly the clash: adapter 5, domain 4 */
	EXPECT_EQ(1, kmsg_count(log, 4, "adapters 05 x domains 0004:", UUID_A,
				NULL))
		TH_LOG("log:\n%s", log);
	EXPECT_EQ(1, kmsg_count(log, 7, "already assigned", NULL, NULL))
		TH_LOG("log:\n%s", log);
	expect_config_str(_metadata, UUID_B, CONFIG_NONE);
	expect_config_str(_metadata, UUID_A, BEFORE);
}

TEST_F(checked_config, partly_valid_applies_nothing)
{
	/* B already holds 06.001f; the new config keeps it, adds A's */
	ASSERT_EQ(0, mdev_write(UUID_B, "ap_config", "0x02,0x00000001,0x10"));
	EXPECT_EQ(-EADDRINUSE,
		  mdev_write(UUID_B, "ap_config", "0x06,0x08000001,0x30"));
	expect_attr(_metadata, UUID_B, "matrix", "06.001f\n");
	expect_attr(_metadata, UUID_B, "control_domains", "0003\n");
}

TEST_F(checked_config, control_domain_error_keeps_adapters)
{
	char cfg[256];

	/* a valid new usage matrix, an invalid control domain */
	config_of(cfg, 6, 0x1f, 0x40);
	EXPECT_EQ(-ENODEV, mdev_write(UUID_B, "ap_config", cfg));
	expect_config_str(_metadata, UUID_B, CONFIG_NONE);
}

TEST_F(checked_config, same_config_again_accepted)
{
	EXPECT_EQ(0, mdev_write(UUID_A, "ap_config", "0x04,0x08,0x08"));
	expect_config_str(_metadata, UUID_A, BEFORE);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The six assign/unassign attributes of an mdev: how numbers are parsed,
 * the range checks against the host's Na/Nd, idempotence, and the
 * ownership checks (host-owned APQNs, APQNs of another mdev) with their
 * kernel log lines. After every error the mdev must be as before.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_ap_util.h"

enum kind { ADAPTER, DOMAIN, CONTROL };

#define BASE_ID		2	/* assigned before every case */
#define TARGET_ID	31	/* what the number formats below name */

static const char * const assign_attrs[] = {
	[ADAPTER] = "assign_adapter",
	[DOMAIN] = "assign_domain",
	[CONTROL] = "assign_control_domain",
};

static struct ap_mask *kind_mask(struct ap_matrix *mx, enum kind kind)
{
	switch (kind) {
	case ADAPTER:
		return &mx->apm;
	case DOMAIN:
		return &mx->aqm;
	default:
		return &mx->adm;
	}
}

FIXTURE(attr) {
	struct ap_matrix before;
};

/* One assign or unassign attribute and what it changes. */
struct attr_case {
	const char *attr;
	enum kind kind;
	bool assign;
};

FIXTURE_VARIANT(attr) {
	struct attr_case c;
};

FIXTURE_VARIANT_ADD(attr, assign_adapter) {
	.c = { "assign_adapter", ADAPTER, true },
};

FIXTURE_VARIANT_ADD(attr, unassign_adapter) {
	.c = { "unassign_adapter", ADAPTER, false },
};

FIXTURE_VARIANT_ADD(attr, assign_domain) {
	.c = { "assign_domain", DOMAIN, true },
};

FIXTURE_VARIANT_ADD(attr, unassign_domain) {
	.c = { "unassign_domain", DOMAIN, false },
};

FIXTURE_VARIANT_ADD(attr, assign_control_domain) {
	.c = { "assign_control_domain", CONTROL, true },
};

FIXTURE_VARIANT_ADD(attr, unassign_control_domain) {
	.c = { "unassign_control_domain", CONTROL, false },
};

/*
 * A host with @config, one mdev holding BASE_ID of the case's kind (and,
 * for unassign, the IDs in @extra so there is something to take away).
 * Only one kind is ever assigned, so no APQN exists and no ownership
 * check can interfere with the parsing under test. @before gets the
 * resulting ap_config.
 */
static void prepare(struct __test_metadata *_metadata,
		    const struct attr_case *c, const char *config,
		    const unsigned int *extra, unsigned int n_extra,
		    struct ap_matrix *before)
{
	const char *assign = assign_attrs[c->kind];
	unsigned int i;
	int rc = 0;

	ASSERT_EQ(0, world_reset(config, STD_APMASK, MASK_ALL));
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_assign(UUID_A, assign, BASE_ID));
	for (i = 0; i < n_extra && !c->assign && !rc; i++)
		rc = mdev_assign(UUID_A, assign, extra[i]);
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, mdev_config(UUID_A, before));
}

FIXTURE_SETUP(attr)
{
	static const unsigned int target[] = { TARGET_ID };

	prepare(_metadata, &variant->c, STD_CONFIG, target, 1, &self->before);
}

FIXTURE_TEARDOWN(attr)
{
	world_std();
}

static void expect_config(struct __test_metadata *_metadata,
			  const struct ap_matrix *want)
{
	struct ap_matrix now;
	char w[256], n[256];

	ASSERT_EQ(0, mdev_config(UUID_A, &now));
	matrix_fmt_config(want, w);
	matrix_fmt_config(&now, n);
	EXPECT_STREQ(w, n);
}

/* Writing @len bytes of @val must succeed and add (or remove) @id. */
static void expect_applied_len(struct __test_metadata *_metadata,
			       const struct ap_matrix *before,
			       const struct attr_case *c, const char *val,
			       size_t len, unsigned int id)
{
	struct ap_matrix want = *before;

	if (c->assign)
		mask_set(kind_mask(&want, c->kind), id);
	else
		mask_clr(kind_mask(&want, c->kind), id);
	ASSERT_EQ(0, mdev_write_len(UUID_A, c->attr, val, len))
		TH_LOG("%s <- '%s'", c->attr, val);
	expect_config(_metadata, &want);
}

static void expect_applied(struct __test_metadata *_metadata,
			   const struct ap_matrix *before,
			   const struct attr_case *c, const char *val,
			   unsigned int id)
{
	expect_applied_len(_metadata, before, c, val, strlen(val), id);
}

/* Writing @val must fail with @err and change nothing. */
static void expect_rejected(struct __test_metadata *_metadata,
			    const struct ap_matrix *before,
			    const struct attr_case *c, const char *val,
			    int err)
{
	EXPECT_EQ(err, mdev_write(UUID_A, c->attr, val))
		TH_LOG("%s <- '%s'", c->attr, val);
	expect_config(_metadata, before);
}

#define APPLIED(val, id) \
	expect_applied(_metadata, &self->before, &variant->c, val, id)
#define REJECTED(val, err) \
	expect_rejected(_metadata, &self->before, &variant->c, val, err)

/* The opposite attribute of the same kind, to undo a change. */
static void undo(struct __test_metadata *_metadata,
		 const struct ap_matrix *before, const struct attr_case *c,
		 unsigned int id)
{
	static const char * const unassign_attrs[] = {
		[ADAPTER] = "unassign_adapter",
		[DOMAIN] = "unassign_domain",
		[CONTROL] = "unassign_control_domain",
	};
	const char *attr = c->assign ? unassign_attrs[c->kind] :
				       assign_attrs[c->kind];

	ASSERT_EQ(0, mdev_assign(UUID_A, attr, id));
	expect_config(_metadata, before);
}

/* Every way kstrtoul(buf, 0, ...) spells 31. */
TEST_F(attr, number_formats)
{
	static const char * const formats[] = {
		"31", "0x1f", "0X1F", "037", "31\n", "+31",
	};
	static const char nul_ended[] = "31\0garbage";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(formats); i++) {
		APPLIED(formats[i], TARGET_ID);
		undo(_metadata, &self->before, &variant->c, TARGET_ID);
	}
	/* the string ends at the NUL, whatever write() passed on */
	expect_applied_len(_metadata, &self->before, &variant->c, nul_ended,
			   sizeof(nul_ended) - 1, TARGET_ID);
}

TEST_F(attr, zero)
{
	static const unsigned int zero[] = { 0 };

	prepare(_metadata, &variant->c, STD_CONFIG, zero, 1, &self->before);
	APPLIED("0", 0);
}

TEST_F(attr, idempotent)
{
	APPLIED("31", TARGET_ID);
	APPLIED("31", TARGET_ID);
}

TEST_F(attr, unparsable_einval)
{
	static const char * const bad[] = {
		"abc", "31x", "-1", " 31", "31 ", "\n", "0x", "5\n6",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		REJECTED(bad[i], -EINVAL);
}

TEST_F(attr, overflow_erange)
{
	REJECTED("99999999999999999999999", -ERANGE);
	REJECTED("0x10000000000000000", -ERANGE);
}

TEST_F(attr, out_of_range_enodev)
{
	REJECTED("18446744073709551615", -ENODEV);
	REJECTED("256", -ENODEV);
}

/* With APXA the limits are the QCI's Na (adapters) and Nd (domains). */
#define APXA_CONFIG	"adapters=5-6 domains=4,0x1f control_domains=4 " \
			"na=0x40 nd=0x20"
#define NO_APXA_CONFIG	"adapters=5-6 domains=4 control_domains=4 apxa=0"

static void check_limit(struct __test_metadata *_metadata,
			FIXTURE_DATA(attr) * self,
			const struct attr_case *c, const char *config,
			unsigned int max)
{
	char val[16];

	prepare(_metadata, c, config, &max, 1, &self->before);
	snprintf(val, sizeof(val), "0x%x", max + 1);
	expect_rejected(_metadata, &self->before, c, val, -ENODEV);
	expect_rejected(_metadata, &self->before, c, "255", -ENODEV);
	snprintf(val, sizeof(val), "%u", max);
	expect_applied(_metadata, &self->before, c, val, max);
}

TEST_F(attr, apxa_limits)
{
	check_limit(_metadata, self, &variant->c, APXA_CONFIG,
		    variant->c.kind == ADAPTER ? 0x40 : 0x20);
}

TEST_F(attr, no_apxa_limits)
{
	check_limit(_metadata, self, &variant->c, NO_APXA_CONFIG,
		    variant->c.kind == ADAPTER ? 63 : 15);
}

/*
 * Ownership: mdev A and B on the standard host (vfio_ap owns adapters
 * 5, 6, 8 and 9; adapter 7 is the host's).
 */
FIXTURE(owner) {
	char log[65536];
};

FIXTURE_SETUP(owner)
{
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
	self->log[0] = '\0';
}

FIXTURE_TEARDOWN(owner)
{
	world_std();
}

static void expect_matrix(struct __test_metadata *_metadata,
			  const char *uuid, const char *want)
{
	char buf[4096];

	ASSERT_LE(0, mdev_read(uuid, "matrix", buf, sizeof(buf)));
	EXPECT_STREQ(want, buf) TH_LOG("matrix of %s", uuid);
}

#define HOST_OWNED	"reserved for the host by the AP bus apmask and aqmask"
#define OTHER_OWNED	"already assigned to mdev"

/* Write @val to @attr of @uuid, collecting the kernel log into @log. */
static int write_logged(struct __test_metadata *_metadata, const char *uuid,
			const char *attr, const char *val, char *log,
			size_t size)
{
	int fd = kmsg_open(), rc;

	EXPECT_LE(0, fd);
	rc = mdev_write(uuid, attr, val);
	EXPECT_EQ(0, kmsg_collect(fd, log, size));
	close(fd);
	return rc;
}

TEST_F(owner, host_owned_adapter_eaddrnotavail)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	EXPECT_EQ(-EADDRNOTAVAIL,
		  write_logged(_metadata, UUID_A, "assign_adapter", "7",
			       self->log, sizeof(self->log)));
	expect_matrix(_metadata, UUID_A, ".0004\n.0047\n");
	EXPECT_EQ(1, kmsg_count(self->log, 4, UUID_A,
				"adapters 07 x domains 0004,0047", HOST_OWNED))
		TH_LOG("log:\n%s", self->log);
	EXPECT_EQ(1, kmsg_count(self->log, 7, HOST_OWNED, NULL, NULL))
		TH_LOG("log:\n%s", self->log);
}

TEST_F(owner, host_owned_domain_eaddrnotavail)
{
	/* adapter 7 alone is no APQN; with a domain it is the host's */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "7"));
	EXPECT_EQ(-EADDRNOTAVAIL, mdev_write(UUID_A, "assign_domain", "4"));
	expect_matrix(_metadata, UUID_A, "05.\n07.\n");
}

TEST_F(owner, host_owns_apmask_times_aqmask)
{
	/* 07.0047 leaves the host when domain 0x47 leaves the aqmask */
	ASSERT_EQ(0, sysfs_write(AP_BUS_DIR "/aqmask", "-0x47"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "7"));
	EXPECT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	EXPECT_EQ(-EADDRNOTAVAIL, mdev_write(UUID_A, "assign_domain", "4"));
	expect_matrix(_metadata, UUID_A, "05.0047\n07.0047\n");
}

TEST_F(owner, control_domain_needs_no_ownership)
{
	/* every APQN with domain 0x47 on adapter 7 is the host's */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	EXPECT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0x47"));
	EXPECT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0x3"));
	expect_matrix(_metadata, UUID_A, "05.\n");
}

TEST_F(owner, control_domains_may_be_shared)
{
	char buf[256];

	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "4"));
	EXPECT_EQ(0, mdev_write(UUID_B, "assign_control_domain", "4"));
	ASSERT_LT(0, mdev_read(UUID_B, "control_domains", buf, sizeof(buf)));
	EXPECT_STREQ("0004\n", buf);
	ASSERT_LT(0, mdev_read(UUID_A, "control_domains", buf, sizeof(buf)));
	EXPECT_STREQ("0004\n", buf);
}

TEST_F(owner, adapter_shared_with_disjoint_domains)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	EXPECT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	EXPECT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	expect_matrix(_metadata, UUID_A, "05.0004\n");
	expect_matrix(_metadata, UUID_B, "05.0047\n");
}

TEST_F(owner, over_provisioning_allowed)
{
	/* adapter 8 and domain 3 are not in the host configuration */
	EXPECT_EQ(0, mdev_write(UUID_A, "assign_adapter", "8"));
	EXPECT_EQ(0, mdev_write(UUID_A, "assign_domain", "3"));
	expect_matrix(_metadata, UUID_A, "08.0003\n");
}

/* B takes A's APQNs: EADDRINUSE, one warning naming them all. */
static void clash(struct __test_metadata *_metadata, const char *attr,
		  const char *val, int err, char *log, size_t size)
{
	EXPECT_EQ(err, write_logged(_metadata, UUID_B, attr, val, log, size));
}

TEST_F(owner, in_use_domain_eaddrinuse)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "6"));
	clash(_metadata, "assign_domain", "4", -EADDRINUSE, self->log,
	      sizeof(self->log));
	expect_matrix(_metadata, UUID_B, "05.\n06.\n");
	EXPECT_EQ(1, kmsg_count(self->log, 4, UUID_B,
				"adapters 05-06 x domains 0004",
				OTHER_OWNED " " UUID_A))
		TH_LOG("log:\n%s", self->log);
	EXPECT_EQ(1, kmsg_count(self->log, 7, OTHER_OWNED, NULL, NULL))
		TH_LOG("log:\n%s", self->log);
}

TEST_F(owner, in_use_adapter_eaddrinuse)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0xff"));
	clash(_metadata, "assign_adapter", "5", -EADDRINUSE, self->log,
	      sizeof(self->log));
	expect_matrix(_metadata, UUID_B, ".00ab\n.00ff\n");
	EXPECT_EQ(1, kmsg_count(self->log, 4, UUID_B,
				"adapters 05 x domains 00ab",
				OTHER_OWNED " " UUID_A))
		TH_LOG("log:\n%s", self->log);
	EXPECT_EQ(1, kmsg_count(self->log, 7, OTHER_OWNED, NULL, NULL))
		TH_LOG("log:\n%s", self->log);
	/* 05.00ff is free and 05.0004 is not in B's matrix: not named */
	EXPECT_EQ(0, kmsg_count(self->log, 7, "00ff", NULL, NULL));
	EXPECT_EQ(0, kmsg_count(self->log, 7, "0004", NULL, NULL));
}

static void config_write(struct __test_metadata *_metadata, const char *uuid,
			 const struct ap_matrix *mx)
{
	char cfg[256];

	matrix_fmt_config(mx, cfg);
	ASSERT_EQ(0, mdev_write(uuid, "ap_config", cfg)) TH_LOG("%s", cfg);
}

/*
 * The worst case of the old one-line-per-APQN logging: an all-ones
 * ap_config write against large matrices of two other mdevs. Every APQN
 * belongs to vfio_ap (empty apmask). A has every other adapter with
 * domains 0-0x0f (2048 APQNs), C adapters 1 and 3 with every other
 * domain from 0x40 (192 APQNs): alternating IDs are the longest range
 * lists, too long for a line, so those lists become counts. Still one
 * line per other mdev, naming it and the refused adapters and domains.
 */
TEST_F(owner, all_ones_clash_one_line_per_mdev)
{
	const char *all = MASK_ALL "," MASK_ALL "," MASK_ALL;
	static char log[1 << 20];
	struct ap_matrix a = {}, c = {};
	unsigned int id;

	ASSERT_EQ(0, world_reset(STD_CONFIG, MASK_NONE, MASK_ALL));
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_create(UUID_C));
	for (id = 0; id < AP_IDS; id += 2)
		mask_set(&a.apm, id);
	for (id = 0; id < 0x10; id++)
		mask_set(&a.aqm, id);
	mask_set(&c.apm, 1);
	mask_set(&c.apm, 3);
	for (id = 0x40; id < AP_IDS; id += 2)
		mask_set(&c.aqm, id);
	config_write(_metadata, UUID_A, &a);
	config_write(_metadata, UUID_C, &c);

	log[0] = '\0';
	EXPECT_EQ(-EADDRINUSE, write_logged(_metadata, UUID_B, "ap_config",
					    all, log, sizeof(log)));
	expect_matrix(_metadata, UUID_B, "");
	EXPECT_EQ(2, kmsg_count(log, 7, OTHER_OWNED, NULL, NULL))
		TH_LOG("%d lines", kmsg_count(log, 7, OTHER_OWNED, NULL, NULL));
	EXPECT_EQ(1, kmsg_count(log, 4, UUID_B,
				"adapters 128 IDs in 128 ranges from 00 to fe x domains 0000-000f",
				OTHER_OWNED " " UUID_A))
		TH_LOG("log:\n%.4096s", log);
	EXPECT_EQ(1, kmsg_count(log, 4, UUID_B,
				"adapters 01,03 x domains 96 IDs in 96 ranges from 0040 to 00fe",
				OTHER_OWNED " " UUID_C))
		TH_LOG("log:\n%.4096s", log);
}

TEST_F(owner, in_use_unchanged_for_owner)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "4"));
	clash(_metadata, "assign_adapter", "5", -EADDRINUSE, self->log,
	      sizeof(self->log));
	expect_matrix(_metadata, UUID_A, "05.0004\n");
	expect_matrix(_metadata, UUID_B, ".0004\n");
}

TEST_F(owner, in_use_wins_over_nothing_else)
{
	/* after A lets go, B gets the same APQN */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xff"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "6"));
	ASSERT_EQ(-EADDRINUSE, mdev_write(UUID_B, "assign_domain", "0xff"));
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "0xff"));
	EXPECT_EQ(0, mdev_write(UUID_B, "assign_domain", "0xff"));
	expect_matrix(_metadata, UUID_A, "06.\n");
	expect_matrix(_metadata, UUID_B, "06.00ff\n");
}

TEST_F(owner, unassign_not_assigned_is_noop)
{
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	EXPECT_EQ(0, mdev_write(UUID_A, "unassign_adapter", "6"));
	EXPECT_EQ(0, mdev_write(UUID_A, "unassign_domain", "0x47"));
	EXPECT_EQ(0, mdev_write(UUID_A, "unassign_control_domain", "4"));
	expect_matrix(_metadata, UUID_A, "05.0004\n");
}

TEST_F(owner, reassign_own_apqn_is_noop)
{
	/* already in A: no clash with itself */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	EXPECT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	EXPECT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	expect_matrix(_metadata, UUID_A, "05.0004\n");
}

TEST_HARNESS_MAIN

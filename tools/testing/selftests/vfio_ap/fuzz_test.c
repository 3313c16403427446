// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded random and adversarial input into every writable attribute of
 * an mdev and into the mdev type's create: each write must fail with an
 * errno, leave the state as it was and not upset the kernel (the lab
 * fails the run on any splat). Random inputs always hold an invalid
 * character before their first NUL, so none can be a valid request. The
 * seed is printed (VFIO_AP_SEED replays).
 *
 * A zero-length write() never reaches the driver (the VFS returns 0), so
 * the empty string is only checked to change nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfio_ap_expect.h"

#define ROUNDS		200
#define MAX_LEN		80
#define HUGE_LEN	8192

enum target { NUMBER, CONFIG, CREATE };

FIXTURE(fuzz) {
	char before[512];
	char buf[HUGE_LEN + 1];
};

FIXTURE_VARIANT(fuzz) {
	const char *attr;
	enum target target;
};

FIXTURE_VARIANT_ADD(fuzz, assign_adapter) {
	.attr = "assign_adapter", .target = NUMBER,
};

FIXTURE_VARIANT_ADD(fuzz, unassign_adapter) {
	.attr = "unassign_adapter", .target = NUMBER,
};

FIXTURE_VARIANT_ADD(fuzz, assign_domain) {
	.attr = "assign_domain", .target = NUMBER,
};

FIXTURE_VARIANT_ADD(fuzz, unassign_domain) {
	.attr = "unassign_domain", .target = NUMBER,
};

FIXTURE_VARIANT_ADD(fuzz, assign_control_domain) {
	.attr = "assign_control_domain", .target = NUMBER,
};

FIXTURE_VARIANT_ADD(fuzz, unassign_control_domain) {
	.attr = "unassign_control_domain", .target = NUMBER,
};

FIXTURE_VARIANT_ADD(fuzz, ap_config) {
	.attr = "ap_config", .target = CONFIG,
};

FIXTURE_VARIANT_ADD(fuzz, create) {
	.attr = NULL, .target = CREATE,
};

static void snapshot(struct __test_metadata *_metadata, char *out,
		     size_t size)
{
	size_t len;
	char avail[32];

	ASSERT_LT(0, mdev_read(UUID_A, "ap_config", out, size));
	ASSERT_LT(0, sysfs_read(MDEV_TYPE_DIR "/available_instances", avail,
				sizeof(avail)));
	len = strlen(out);
	snprintf(out + len, size - len, "%s", avail);
}

FIXTURE_SETUP(fuzz)
{
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "ap_config", "0x06,0x08,0x88"));
	snapshot(_metadata, self->before, sizeof(self->before));
}

FIXTURE_TEARDOWN(fuzz)
{
	world_std();
}

static int write_target(const FIXTURE_VARIANT(fuzz) * variant,
			const void *buf, size_t len)
{
	if (variant->target == CREATE)
		return sysfs_write_len(MDEV_TYPE_DIR "/create", buf, len);
	return mdev_write_len(UUID_A, variant->attr, buf, len);
}

/* The errnos a refused write may give. */
static bool refused(const FIXTURE_VARIANT(fuzz) * variant, int rc)
{
	if (variant->target == NUMBER)
		return rc == -EINVAL || rc == -ERANGE;
	return rc == -EINVAL;
}

static void expect_refused(struct __test_metadata *_metadata,
			   const FIXTURE_VARIANT(fuzz) * variant,
			   const char *before, const void *buf, size_t len)
{
	char now[512];
	int rc;

	rc = write_target(variant, buf, len);
	EXPECT_TRUE(refused(variant, rc))
		TH_LOG("'%.*s' (%zu bytes): %d", (int)(len < 64 ? len : 64),
		       (const char *)buf, len, rc);
	snapshot(_metadata, now, sizeof(now));
	EXPECT_STREQ(before, now);
}

static const char * const adversarial[] = {
	"\n", " ", "\t", "\n\n", "-", "+", "-1", "-0", "+-1", "0x", "0X",
	"x1f", "0xg", "08", "09", "0b101", "1e3", "5.0", "5,6", "5 6",
	"31\n\n", " 31", "31 ", "\t31", "31\t", "\xef\xbc\x95",
	"\xc3\xa9", "\xff\xfe", "0x-1", "--1", "0x0x1", "١",
	"%s%s%n", "../../etc", "0x1f\r\n",
};

static const char * const adversarial_config[] = {
	"\n", ",", "0x", "0xg,0,0", "0,0,0g", "é,é,é", " , , ",
	"0x06;0x08;0x88", "0x06:0x08:0x88", "-0x06,0x08,0x88",
	"0x06,0x08,0x88 ", "%n,%n,%n", "0x0x06,0x08,0x88",
	"0x06,0x08,+0x88", "0x6.0,0,0",
};

static void empty_write(struct __test_metadata *_metadata,
			const FIXTURE_VARIANT(fuzz) * variant,
			const char *before)
{
	char now[512];

	/* the VFS answers a zero-length write itself */
	EXPECT_EQ(0, write_target(variant, "", 0));
	snapshot(_metadata, now, sizeof(now));
	EXPECT_STREQ(before, now);
}

static void oversized(struct __test_metadata *_metadata,
		      FIXTURE_DATA(fuzz) * self,
		      const FIXTURE_VARIANT(fuzz) * variant)
{
	/* a page and more of digits, of hex digits, of letters */
	memset(self->buf, '9', HUGE_LEN);
	self->buf[0] = variant->target == NUMBER ? '9' : 'z';
	expect_refused(_metadata, variant, self->before, self->buf, 4095);
	memcpy(self->buf, "0x", 2);
	memset(self->buf + 2, 'f', HUGE_LEN - 2);
	if (variant->target == CREATE)
		self->buf[1] = 'z';
	expect_refused(_metadata, variant, self->before, self->buf, 4096);
	memset(self->buf, 'A', HUGE_LEN);
	self->buf[0] = 'z';
	expect_refused(_metadata, variant, self->before, self->buf, HUGE_LEN);
	/* overflows with a 0x prefix */
	if (variant->target == NUMBER) {
		expect_refused(_metadata, variant, self->before,
			       "0x10000000000000000", 19);
		expect_refused(_metadata, variant, self->before,
			       "0xffffffffffffffffffffffff", 26);
	}
}

TEST_F(fuzz, adversarial_strings)
{
	static const char nul_first[] = { '\0', '5' };
	static const char nul_mid[] = { 'z', 'z', '\0', '5' };
	const char * const *list;
	unsigned int i, n;

	list = variant->target == CONFIG ? adversarial_config : adversarial;
	n = variant->target == CONFIG ? ARRAY_SIZE(adversarial_config) :
					ARRAY_SIZE(adversarial);
	for (i = 0; i < n; i++)
		expect_refused(_metadata, variant, self->before, list[i],
			       strlen(list[i]));
	expect_refused(_metadata, variant, self->before, nul_first,
		       sizeof(nul_first));
	expect_refused(_metadata, variant, self->before, nul_mid,
		       sizeof(nul_mid));
	oversized(_metadata, self, variant);
	empty_write(_metadata, variant, self->before);
}

/* Bytes the random strings are made of, NUL and non-ASCII included. */
static const char alphabet[] = "0123456789abcdefABCDEFxX+-,\n \t.\xc3\xa9\xff";
/* Characters no number, mask or UUID may hold. */
static const char poison[] = "ghzGZ_!?;:*#@~\xc3\x80\xfe";

static size_t random_input(unsigned int *seed, char *buf)
{
	size_t len, first_nul, pos, limit, i;

	len = 1 + rand_r(seed) % MAX_LEN;
	for (i = 0; i < len; i++) {
		if (rand_r(seed) % 20 == 0)
			buf[i] = '\0';
		else
			buf[i] = alphabet[rand_r(seed) %
					  (sizeof(alphabet) - 1)];
	}
	first_nul = strnlen(buf, len);
	if (first_nul == 0)
		return len;	/* an empty C string: invalid for all */
	/* a UUID parser looks at the first 36 characters only */
	limit = first_nul < 36 ? first_nul : 36;
	pos = rand_r(seed) % limit;
	buf[pos] = poison[rand_r(seed) % (sizeof(poison) - 1)];
	return len;
}

TEST_F(fuzz, random_strings)
{
	const char *env = getenv("VFIO_AP_SEED");
	unsigned int seed, i;
	size_t len;

	seed = env ? strtoul(env, NULL, 0) : (unsigned int)time(NULL);
	ksft_print_msg("%s: seed %u\n", _metadata->name, seed);
	for (i = 0; i < ROUNDS; i++) {
		len = random_input(&seed, self->buf);
		expect_refused(_metadata, variant, self->before, self->buf,
			       len);
		if (!__test_passed(_metadata))
			break;
	}
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the sysfs parsers and formatters.  Every expected string
 * and error code is written out by hand from abi.md section 2 (and, for
 * numbers, from kstrtoul()'s documented behaviour), or for the lines of the
 * not_in_guest view from the administrator's guide, never captured from
 * the code under test.
 */

#include <kunit/test.h>
#include <linux/args.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/sprintf.h>
#include <linux/string.h>

#include "vfio_ap_format.h"

#define NBITS		256
#define CANARY		0x5a

/* A few IDs, written IDS(1, 2, 3) in the tables. */
struct id_list {
	unsigned int n;
	u8 id[12];
};

#define IDS(...)	{ .n = COUNT_ARGS(__VA_ARGS__), .id = { __VA_ARGS__ } }

struct apcb_ids {
	struct id_list apm;
	struct id_list aqm;
	struct id_list adm;
};

#define APCB(a, q, d)	{ .apm = a, .aqm = q, .adm = d }

/* An empty 256-bit mask in hex. */
#define ZERO64	"0000000000000000000000000000000000000000000000000000000000000000"

static void ids_to_mask(const struct id_list *ids, unsigned long *mask)
{
	unsigned int i;

	bitmap_zero(mask, NBITS);
	for (i = 0; i < ids->n; i++)
		set_bit_inv(ids->id[i], mask);
}

static void ids_to_apcb(const struct apcb_ids *ids, struct vfio_ap_apcb *apcb)
{
	ids_to_mask(&ids->apm, apcb->apm);
	ids_to_mask(&ids->aqm, apcb->aqm);
	ids_to_mask(&ids->adm, apcb->adm);
}

static const char *mask_str(struct kunit *test, const unsigned long *mask)
{
	const size_t size = 4 * NBITS + 1;
	char *buf = kunit_kzalloc(test, size, GFP_KERNEL);
	unsigned long id;
	size_t len = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for_each_set_bit_inv(id, mask, NBITS)
		len += scnprintf(buf + len, size - len, "%s%lu",
				 len ? "," : "", id);
	return buf;
}

static void expect_mask(struct kunit *test, const char *what,
			const unsigned long *got, const struct id_list *want)
{
	DECLARE_BITMAP(want_mask, NBITS);

	ids_to_mask(want, want_mask);
	KUNIT_EXPECT_STREQ_MSG(test, mask_str(test, got),
			       mask_str(test, want_mask), "%s", what);
}

/* A buffer of @size bytes followed by one canary byte. */
static char *guarded_buf(struct kunit *test, size_t size)
{
	char *buf = kunit_kmalloc(test, size + 1, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, CANARY, size + 1);
	return buf;
}

/* Output checks shared by all formatters. */
static void expect_output(struct kunit *test, const char *buf, size_t size,
			  ssize_t len, const char *want)
{
	KUNIT_EXPECT_EQ(test, len, (ssize_t)strlen(want));
	KUNIT_EXPECT_STREQ(test, buf, want);
	KUNIT_EXPECT_EQ_MSG(test, buf[size], (char)CANARY,
			    "wrote past the buffer");
}

/* --- vfio_ap_parse_id() --- */

struct parse_id_case {
	const char *desc;
	const char *input;
	unsigned int max_id;
	int ret;
	unsigned long id;
};

static const struct parse_id_case parse_id_cases[] = {
	{ "decimal", "31", 255, 0, 31 },
	{ "hexadecimal", "0x1f", 255, 0, 31 },
	{ "hexadecimal in upper case", "0X1F", 255, 0, 31 },
	{ "octal", "037", 255, 0, 31 },
	{ "zero", "0", 255, 0, 0 },
	{ "trailing newline", "1\n", 255, 0, 1 },
	{ "hexadecimal and newline", "0xff\n", 255, 0, 255 },
	{ "leading plus, as kstrtoul takes it", "+5", 255, 0, 5 },
	{ "the maximum itself", "63", 63, 0, 63 },
	{ "0x100 under a 16-bit maximum", "0x100", 0xffff, 0, 256 },
	{ "one above the maximum", "64", 63, -ENODEV },
	{ "domain 16 without APXA", "16", 15, -ENODEV },
	{ "0x100 above 255", "0x100", 255, -ENODEV },
	{ "largest unsigned long", "18446744073709551615", 255, -ENODEV },
	{ "decimal overflow", "99999999999999999999", 255, -ERANGE },
	{ "hexadecimal overflow", "0x10000000000000000", 255, -ERANGE },
	{ "empty", "", 255, -EINVAL },
	{ "newline only", "\n", 255, -EINVAL },
	{ "negative", "-1", 255, -EINVAL },
	{ "two plus signs", "++5", 255, -EINVAL },
	{ "leading blank", " 5", 255, -EINVAL },
	{ "trailing blank", "5 ", 255, -EINVAL },
	{ "prefix without digits", "0x", 255, -EINVAL },
	{ "two newlines", "1\n\n", 255, -EINVAL },
	{ "not a number", "abc", 255, -EINVAL },
	{ "trailing garbage", "1a", 255, -EINVAL },
	{ "8 is no octal digit", "08", 255, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(parse_id, parse_id_cases, desc);

static void parse_id_test(struct kunit *test)
{
	const struct parse_id_case *c = test->param_value;
	const unsigned long untouched = 0xdeadbeef;
	unsigned long id = untouched;

	KUNIT_EXPECT_EQ(test, vfio_ap_parse_id(c->input, c->max_id, &id),
			c->ret);
	/* On failure the caller's variable keeps its value. */
	KUNIT_EXPECT_EQ(test, id, c->ret ? untouched : c->id);
}

/* --- vfio_ap_parse_ap_config() --- */

struct parse_config_case {
	const char *desc;
	const char *input;
	int ret;
	struct apcb_ids want;	/* only when ret is 0 */
};

static const struct parse_config_case parse_config_cases[] = {
	{
		.desc = "one digit each: its top bit is ID 0",
		.input = "0x8,0x8,0x8",
		.want = APCB(IDS(0), IDS(0), IDS(0)),
	},
	{
		.desc = "short masks are padded on the right",
		.input = "0xc,0x4,0x2",
		.want = APCB(IDS(0, 1), IDS(1), IDS(2)),
	},
	{
		.desc = "x prefix",
		.input = "x1,x1,x1",
		.want = APCB(IDS(3), IDS(3), IDS(3)),
	},
	{
		.desc = "no prefix",
		.input = "1,2,4",
		.want = APCB(IDS(3), IDS(2), IDS(1)),
	},
	{
		.desc = "upper-case digits",
		.input = "0x80,0xA,xF",
		.want = APCB(IDS(0), IDS(0, 2), IDS(0, 1, 2, 3)),
	},
	{
		.desc = "leading zero digits move IDs up",
		.input = "0x01,0x001,0x0001",
		.want = APCB(IDS(7), IDS(11), IDS(15)),
	},
	{
		.desc = "zero masks",
		.input = "0,0x0,x0",
	},
	{
		.desc = "mixed prefixes and trailing newline",
		.input = "0xabc,def,x0f\n",
		.want = APCB(IDS(0, 2, 4, 6, 7, 8, 9),
			     IDS(0, 1, 3, 4, 5, 6, 8, 9, 10, 11),
			     IDS(4, 5, 6, 7)),
	},
	{
		.desc = "ID 255 is the last of 64 digits",
		.input = "0x0000000000000000000000000000000000000000000000000000000000000001,0,0",
		.want = APCB(IDS(255), IDS(), IDS()),
	},
	{
		.desc = "64 digits without prefix",
		.input = "0,0,8000000000000000000000000000000000000000000000000000000000000001",
		.want = APCB(IDS(), IDS(), IDS(0, 255)),
	},
	{
		.desc = "digits across a word boundary",
		.input = "0x00000000000000018,0,0x0000000000000000000000000000000000000000001",
		.want = APCB(IDS(63, 64), IDS(), IDS(171)),
	},
	{
		.desc = "65 digits",
		.input = "0x00000000000000000000000000000000000000000000000000000000000000001,0,0",
		.ret = -EINVAL,
	},
	{
		.desc = "65 zero digits without prefix",
		.input = "0,0,00000000000000000000000000000000000000000000000000000000000000000",
		.ret = -EINVAL,
	},
	{ .desc = "two newlines", .input = "0x8,0x8,0x8\n\n", .ret = -EINVAL },
	{ .desc = "newline inside", .input = "0x8\n,0x8,0x8", .ret = -EINVAL },
	{ .desc = "one field", .input = "0x8", .ret = -EINVAL },
	{ .desc = "missing field", .input = "0x8,0x8", .ret = -EINVAL },
	{ .desc = "missing field, newline", .input = "0x8,0x8\n", .ret = -EINVAL },
	{ .desc = "extra field", .input = "0x8,0x8,0x8,0x8", .ret = -EINVAL },
	{ .desc = "trailing comma", .input = "0x8,0x8,0x8,", .ret = -EINVAL },
	{ .desc = "empty middle field", .input = "0x8,,0x8", .ret = -EINVAL },
	{ .desc = "empty last field", .input = "0x8,0x8,", .ret = -EINVAL },
	{ .desc = "0x without digits", .input = "0x,0x8,0x8", .ret = -EINVAL },
	{ .desc = "x without digits", .input = "0x8,x,0x8", .ret = -EINVAL },
	{ .desc = "empty string", .input = "", .ret = -EINVAL },
	{ .desc = "newline only", .input = "\n", .ret = -EINVAL },
	{ .desc = "commas only", .input = ",,", .ret = -EINVAL },
	{ .desc = "bad hex digit", .input = "0x8g,0x8,0x8", .ret = -EINVAL },
	{ .desc = "leading blank", .input = " 0x8,0x8,0x8", .ret = -EINVAL },
	{ .desc = "blank after comma", .input = "0x8, 0x8,0x8", .ret = -EINVAL },
	{ .desc = "trailing blank", .input = "0x8,0x8,0x8 ", .ret = -EINVAL },
	{ .desc = "semicolons", .input = "0x8;0x8;0x8", .ret = -EINVAL },
	{ .desc = "double prefix", .input = "0x0x8,0,0", .ret = -EINVAL },
	{ .desc = "x after the digits", .input = "8x,0,0", .ret = -EINVAL },
	{ .desc = "minus sign", .input = "-1,0,0", .ret = -EINVAL },
	{ .desc = "upper-case 0X prefix", .input = "0X80,0x8,0x8", .ret = -EINVAL },
	{ .desc = "upper-case X prefix", .input = "0x8,XA,0x8", .ret = -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(parse_config, parse_config_cases, desc);

static void parse_ap_config_test(struct kunit *test)
{
	const struct parse_config_case *c = test->param_value;
	struct vfio_ap_apcb apcb;

	/* Stale bits must not survive a successful parse. */
	memset(&apcb, 0xff, sizeof(apcb));
	KUNIT_ASSERT_EQ(test, vfio_ap_parse_ap_config(c->input, &apcb), c->ret);
	if (c->ret)
		return;
	expect_mask(test, "adapters", apcb.apm, &c->want.apm);
	expect_mask(test, "domains", apcb.aqm, &c->want.aqm);
	expect_mask(test, "control domains", apcb.adm, &c->want.adm);
}

static void parse_ap_config_full_test(struct kunit *test)
{
	static const char *const inputs[] = {
		"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff,xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff,ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n",
		"0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF,xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF,FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
	};
	struct vfio_ap_apcb apcb;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(inputs); i++) {
		memset(&apcb, 0, sizeof(apcb));
		KUNIT_ASSERT_EQ(test, vfio_ap_parse_ap_config(inputs[i], &apcb), 0);
		KUNIT_EXPECT_TRUE(test, bitmap_full(apcb.apm, NBITS));
		KUNIT_EXPECT_TRUE(test, bitmap_full(apcb.aqm, NBITS));
		KUNIT_EXPECT_TRUE(test, bitmap_full(apcb.adm, NBITS));
	}
}

/* What ap_config shows must be accepted back unchanged. */
static void ap_config_round_trip_test(struct kunit *test)
{
	static const struct apcb_ids ids =
		APCB(IDS(0, 1, 63, 64, 200, 255), IDS(2, 127, 128, 254),
		     IDS(3, 4, 191, 192));
	struct vfio_ap_apcb in, out;
	char *buf = guarded_buf(test, PAGE_SIZE);

	ids_to_apcb(&ids, &in);
	KUNIT_ASSERT_GT(test, vfio_ap_format_ap_config(buf, PAGE_SIZE, &in), 0);
	KUNIT_ASSERT_EQ(test, vfio_ap_parse_ap_config(buf, &out), 0);
	KUNIT_EXPECT_MEMEQ(test, &in, &out, sizeof(in));
}

/* --- vfio_ap_check_apcb_limits() --- */

struct limits_case {
	const char *desc;
	struct apcb_ids apcb;
	unsigned int max_apid;
	unsigned int max_apqi;
	int ret;
};

static const struct limits_case limits_cases[] = {
	{ "empty", APCB(IDS(), IDS(), IDS()), 0, 0, 0 },
	{ "ID 0 under limits of 0", APCB(IDS(0), IDS(0), IDS(0)), 0, 0, 0 },
	{ "adapter at the maximum", APCB(IDS(63), IDS(), IDS()), 63, 15, 0 },
	{ "adapter above the maximum", APCB(IDS(64), IDS(), IDS()), 63, 15,
	  -ENODEV },
	{ "domain at the maximum", APCB(IDS(), IDS(15), IDS()), 63, 15, 0 },
	{ "domain above the maximum", APCB(IDS(), IDS(16), IDS()), 63, 15,
	  -ENODEV },
	{ "control domain above the maximum", APCB(IDS(), IDS(), IDS(16)), 63,
	  15, -ENODEV },
	{ "adapters are held to the adapter limit", APCB(IDS(63), IDS(15),
	  IDS(15)), 63, 15, 0 },
	{ "domains are held to the domain limit", APCB(IDS(15), IDS(63),
	  IDS()), 63, 15, -ENODEV },
	{ "low IDs do not hide a high one", APCB(IDS(0, 1, 200), IDS(0),
	  IDS()), 63, 15, -ENODEV },
	{ "everything up to 255", APCB(IDS(0, 255), IDS(0, 255), IDS(0, 255)),
	  255, 255, 0 },
};

KUNIT_ARRAY_PARAM_DESC(limits, limits_cases, desc);

static void check_apcb_limits_test(struct kunit *test)
{
	const struct limits_case *c = test->param_value;
	struct vfio_ap_apcb apcb;

	ids_to_apcb(&c->apcb, &apcb);
	KUNIT_EXPECT_EQ(test, vfio_ap_check_apcb_limits(&apcb, c->max_apid,
							c->max_apqi),
			c->ret);
}

/* --- vfio_ap_format_matrix() --- */

struct matrix_case {
	const char *desc;
	struct id_list apm;
	struct id_list aqm;
	size_t size;		/* 0: PAGE_SIZE */
	const char *want;
};

static const struct matrix_case matrix_cases[] = {
	{ "nothing", IDS(), IDS(), 0, "" },
	{ "adapters only", IDS(5, 255), IDS(), 0, "05.\nff.\n" },
	{ "domains only", IDS(), IDS(4, 171), 0, ".0004\n.00ab\n" },
	{ "one APQN", IDS(5), IDS(4), 0, "05.0004\n" },
	{ "adapter in the outer loop", IDS(5, 6), IDS(4, 171), 0,
	  "05.0004\n05.00ab\n06.0004\n06.00ab\n" },
	{ "word boundaries", IDS(63, 64), IDS(0, 255), 0,
	  "3f.0000\n3f.00ff\n40.0000\n40.00ff\n" },
	{ "room for exactly two lines", IDS(5, 6), IDS(4, 171), 17,
	  "05.0004\n05.00ab\n" },
	{ "one byte short of two lines", IDS(5, 6), IDS(4, 171), 16,
	  "05.0004\n" },
	{ "room for the NUL only", IDS(5), IDS(4), 1, "" },
	{ "adapter lines cut whole", IDS(1, 2, 3), IDS(), 8, "01.\n" },
	{ "domain lines cut whole", IDS(), IDS(1, 2), 7, ".0001\n" },
};

KUNIT_ARRAY_PARAM_DESC(matrix, matrix_cases, desc);

static void format_matrix_test(struct kunit *test)
{
	const struct matrix_case *c = test->param_value;
	size_t size = c->size ?: PAGE_SIZE;
	DECLARE_BITMAP(apm, NBITS);
	DECLARE_BITMAP(aqm, NBITS);
	char *buf = guarded_buf(test, size);

	ids_to_mask(&c->apm, apm);
	ids_to_mask(&c->aqm, aqm);
	expect_output(test, buf, size,
		      vfio_ap_format_matrix(buf, size, apm, aqm), c->want);
}

/* A full 256 x 256 matrix is 512 KiB: a page shows its first 511 lines. */
static void format_full_matrix_test(struct kunit *test)
{
	const unsigned int lines = (PAGE_SIZE - 1) / VFIO_AP_APQN_LINE_LEN;
	DECLARE_BITMAP(all, NBITS);
	char *buf = guarded_buf(test, PAGE_SIZE);
	char want[VFIO_AP_APQN_LINE_LEN + 1];
	unsigned int i;
	ssize_t len;

	bitmap_fill(all, NBITS);
	len = vfio_ap_format_matrix(buf, PAGE_SIZE, all, all);

	KUNIT_ASSERT_EQ(test, len, (ssize_t)(lines * VFIO_AP_APQN_LINE_LEN));
	KUNIT_EXPECT_EQ(test, buf[len], '\0');
	KUNIT_EXPECT_EQ(test, buf[PAGE_SIZE], (char)CANARY);
	for (i = 0; i < lines; i++) {
		snprintf(want, sizeof(want), "%02x.%04x\n", i / 256, i % 256);
		if (memcmp(buf + i * VFIO_AP_APQN_LINE_LEN, want,
			   VFIO_AP_APQN_LINE_LEN)) {
			KUNIT_FAIL(test, "line %u is not %s", i, want);
			return;
		}
	}
}

/* All 256 adapter lines (4 bytes each) fit a page and end with "ff.\n". */
static void format_all_adapters_test(struct kunit *test)
{
	DECLARE_BITMAP(all, NBITS);
	DECLARE_BITMAP(none, NBITS);
	char *buf = guarded_buf(test, PAGE_SIZE);
	ssize_t len;

	bitmap_fill(all, NBITS);
	bitmap_zero(none, NBITS);
	len = vfio_ap_format_matrix(buf, PAGE_SIZE, all, none);

	KUNIT_ASSERT_EQ(test, len, (ssize_t)(256 * 4));
	KUNIT_EXPECT_STREQ(test, buf + len - 8, "fe.\nff.\n");
	KUNIT_EXPECT_EQ(test, strncmp(buf, "00.\n01.\n", 8), 0);
}

/* With no room at all, not even the NUL is written. */
static void format_zero_size_test(struct kunit *test)
{
	struct vfio_ap_apcb apcb;
	char buf[1] = { CANARY };

	memset(&apcb, 0xff, sizeof(apcb));
	KUNIT_EXPECT_EQ(test, vfio_ap_format_matrix(buf, 0, apcb.apm, apcb.aqm),
			0);
	KUNIT_EXPECT_EQ(test, vfio_ap_format_domains(buf, 0, apcb.adm), 0);
	KUNIT_EXPECT_EQ(test, vfio_ap_format_ap_config(buf, 0, &apcb), 0);
	KUNIT_EXPECT_EQ(test, vfio_ap_format_id_ranges(buf, 0, apcb.apm, 2),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, buf[0], (char)CANARY);
}

/* --- vfio_ap_format_domains() --- */

struct domains_case {
	const char *desc;
	struct id_list adm;
	size_t size;		/* 0: PAGE_SIZE */
	const char *want;
};

static const struct domains_case domains_cases[] = {
	{ "none", IDS(), 0, "" },
	{ "ascending, four digits", IDS(255, 0, 171), 0, "0000\n00ab\n00ff\n" },
	{ "room for exactly two lines", IDS(0, 1, 2), 11, "0000\n0001\n" },
	{ "one byte short of two lines", IDS(0, 1, 2), 10, "0000\n" },
};

KUNIT_ARRAY_PARAM_DESC(domains, domains_cases, desc);

static void format_domains_test(struct kunit *test)
{
	const struct domains_case *c = test->param_value;
	size_t size = c->size ?: PAGE_SIZE;
	DECLARE_BITMAP(adm, NBITS);
	char *buf = guarded_buf(test, size);

	ids_to_mask(&c->adm, adm);
	expect_output(test, buf, size, vfio_ap_format_domains(buf, size, adm),
		      c->want);
}

/* --- vfio_ap_format_ap_config() --- */

struct ap_config_case {
	const char *desc;
	struct apcb_ids apcb;
	size_t size;		/* 0: PAGE_SIZE */
	/* the 64 digits expected for each mask, or NULL if nothing fits */
	const char *apm;
	const char *aqm;
	const char *adm;
};

/* "0x" + 64 digits, three times, two commas and a newline. */
#define AP_CONFIG_LINE_LEN	(3 * 66 + 2 + 1)

static const struct ap_config_case ap_config_cases[] = {
	{
		.desc = "empty masks",
		.apm = ZERO64,
		.aqm = ZERO64,
		.adm = ZERO64,
	},
	{
		.desc = "ID 0, ID 255 and IDs 0-3",
		.apcb = APCB(IDS(0), IDS(255), IDS(0, 1, 2, 3)),
		.apm = "8000000000000000000000000000000000000000000000000000000000000000",
		.aqm = "0000000000000000000000000000000000000000000000000000000000000001",
		.adm = "f000000000000000000000000000000000000000000000000000000000000000",
	},
	{
		.desc = "word boundaries and lower case",
		.apcb = APCB(IDS(63, 64), IDS(4), IDS(168, 169, 170, 171)),
		.apm = "0000000000000001800000000000000000000000000000000000000000000000",
		.aqm = "0800000000000000000000000000000000000000000000000000000000000000",
		.adm = "000000000000000000000000000000000000000000f000000000000000000000",
	},
	{
		.desc = "room for exactly the line",
		.apcb = APCB(IDS(0), IDS(), IDS()),
		.size = AP_CONFIG_LINE_LEN + 1,
		.apm = "8000000000000000000000000000000000000000000000000000000000000000",
		.aqm = ZERO64,
		.adm = ZERO64,
	},
	{
		.desc = "one byte short: nothing",
		.apcb = APCB(IDS(0), IDS(), IDS()),
		.size = AP_CONFIG_LINE_LEN,
	},
};

KUNIT_ARRAY_PARAM_DESC(ap_config, ap_config_cases, desc);

static void format_ap_config_test(struct kunit *test)
{
	const struct ap_config_case *c = test->param_value;
	size_t size = c->size ?: PAGE_SIZE;
	char want[AP_CONFIG_LINE_LEN + 1] = "";
	struct vfio_ap_apcb apcb;
	char *buf = guarded_buf(test, size);

	if (c->apm)
		KUNIT_ASSERT_EQ(test, snprintf(want, sizeof(want),
					       "0x%s,0x%s,0x%s\n",
					       c->apm, c->aqm, c->adm),
				AP_CONFIG_LINE_LEN);
	ids_to_apcb(&c->apcb, &apcb);
	expect_output(test, buf, size,
		      vfio_ap_format_ap_config(buf, size, &apcb), want);
}

/* --- vfio_ap_format_id_ranges() --- */

struct ranges_case {
	const char *desc;
	struct id_list ids;
	unsigned int every;	/* also set 0, every, 2 * every, ... */
	int digits;
	size_t size;		/* 0: VFIO_AP_ID_RANGES_LEN */
	const char *want;	/* NULL: -ENOSPC and an empty buffer */
};

static const struct ranges_case ranges_cases[] = {
	{ "none", IDS(), 0, 2, 0, "none" },
	{ "one adapter", IDS(5), 0, 2, 0, "05" },
	{ "adapters, a run and a single", IDS(10, 6, 5), 0, 2, 0,
	  "05-06,0a" },
	{ "domains, a single and a run", IDS(0x49, 4, 0x47, 0x48), 0, 4, 0,
	  "0004,0047-0049" },
	{ "lowest and highest", IDS(0, 255), 0, 2, 0, "00,ff" },
	{ "every adapter", IDS(), 1, 2, 0, "00-ff" },
	{ "every domain", IDS(), 1, 4, 0, "0000-00ff" },
	{ "every other adapter: the count", IDS(), 2, 2, 0,
	  "128 IDs in 128 ranges from 00 to fe" },
	{ "every other domain: the count", IDS(), 2, 4, 0,
	  "128 IDs in 128 ranges from 0000 to 00fe" },
	{ "every other adapter and ff", IDS(255), 2, 2, 0,
	  "129 IDs in 128 ranges from 00 to ff" },
	{ "every other domain and 0047: 0046-0048 join", IDS(0x47), 2, 4, 0,
	  "129 IDs in 127 ranges from 0000 to 00fe" },
	{ "room for exactly the list", IDS(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
					   20, 22), 0, 2, 36,
	  "00,02,04,06,08,0a,0c,0e,10,12,14,16" },
	{ "one byte short: the count", IDS(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
					   20, 22), 0, 2, 35,
	  "12 IDs in 12 ranges from 00 to 16" },
	{ "no room for the count either", IDS(5, 6, 10), 0, 2, 8, NULL },
	{ "room for the NUL only", IDS(5), 0, 2, 1, NULL },
	{ "no room for none", IDS(), 0, 2, 4, NULL },
};

KUNIT_ARRAY_PARAM_DESC(ranges, ranges_cases, desc);

static void format_id_ranges_test(struct kunit *test)
{
	const struct ranges_case *c = test->param_value;
	size_t size = c->size ?: VFIO_AP_ID_RANGES_LEN;
	char *buf = guarded_buf(test, size);
	DECLARE_BITMAP(mask, NBITS);
	unsigned int id;
	int len;

	ids_to_mask(&c->ids, mask);
	for (id = 0; c->every && id < NBITS; id += c->every)
		set_bit_inv(id, mask);
	len = vfio_ap_format_id_ranges(buf, size, mask, c->digits);
	if (c->want) {
		expect_output(test, buf, size, len, c->want);
		return;
	}
	KUNIT_EXPECT_EQ(test, len, -ENOSPC);
	KUNIT_EXPECT_STREQ(test, buf, "");
	KUNIT_EXPECT_EQ_MSG(test, buf[size], (char)CANARY,
			    "wrote past the buffer");
}

/* Reads a list back into @mask; false if @s is not a list of ranges. */
static bool ranges_parse(const char *s, unsigned long *mask)
{
	unsigned int first, last, id;
	int n;

	bitmap_zero(mask, NBITS);
	while (*s) {
		if (sscanf(s, "%x-%x%n", &first, &last, &n) == 2) {
			if (first >= last)
				return false;
		} else if (sscanf(s, "%x%n", &first, &n) == 1) {
			last = first;
		} else {
			return false;
		}
		if (last >= NBITS)
			return false;
		for (id = first; id <= last; id++)
			set_bit_inv(id, mask);
		s += n;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return false;
	}
	return true;
}

/*
 * Whatever the mask, the output stays within VFIO_AP_ID_RANGES_LEN and is
 * either the whole list (it reads back to the same mask) or the count of
 * all its IDs, never a cut list.  Strided masks reach the longest lists.
 */
static void check_id_ranges_bound(struct kunit *test, char *buf, int digits,
				  unsigned int stride, unsigned int start)
{
	DECLARE_BITMAP(mask, NBITS);
	DECLARE_BITMAP(back, NBITS);
	unsigned int id, counted;
	int len;

	bitmap_zero(mask, NBITS);
	for (id = start; id < NBITS; id += stride)
		set_bit_inv(id, mask);
	len = vfio_ap_format_id_ranges(buf, VFIO_AP_ID_RANGES_LEN, mask, digits);
	KUNIT_ASSERT_GT(test, len, 0);
	KUNIT_EXPECT_LT(test, len, VFIO_AP_ID_RANGES_LEN);
	KUNIT_EXPECT_EQ(test, len, (int)strlen(buf));
	KUNIT_EXPECT_EQ(test, buf[VFIO_AP_ID_RANGES_LEN], (char)CANARY);
	if (strstr(buf, " IDs in ")) {
		if (sscanf(buf, "%u IDs", &counted) != 1)
			KUNIT_FAIL(test, "no count in %s", buf);
		else
			KUNIT_EXPECT_EQ_MSG(test, counted,
					    bitmap_weight(mask, NBITS), "%s",
					    buf);
		return;
	}
	KUNIT_EXPECT_TRUE_MSG(test, ranges_parse(buf, back), "%s", buf);
	KUNIT_EXPECT_TRUE_MSG(test, bitmap_equal(mask, back, NBITS),
			      "digits %d stride %u start %u: %s", digits,
			      stride, start, buf);
}

static void format_id_ranges_bound_test(struct kunit *test)
{
	char *buf = guarded_buf(test, VFIO_AP_ID_RANGES_LEN);
	unsigned int stride, start;

	for (stride = 1; stride <= 9; stride++) {
		for (start = 0; start < stride; start++) {
			check_id_ranges_bound(test, buf, 2, stride, start);
			check_id_ranges_bound(test, buf, 4, stride, start);
		}
	}
}

/* --- vfio_ap_format_why() --- */

#define LINE(k, r, i, q, c)	{ .kind = VFIO_AP_WHY_##k, \
				  .reason = VFIO_AP_WHY_##r, .id = (i), \
				  .apqi = (q), .rc = (c) }

struct why_case {
	const char *desc;
	bool nothing;			/* format the "nothing missing" line */
	struct vfio_ap_why_line line;
	const char *driver;
	size_t size;			/* 0: VFIO_AP_WHY_LINE_LEN */
	const char *want;
};

/* The lines Documentation/arch/s390/vfio-ap.rst explains, and the edges. */
static const struct why_case why_cases[] = {
	{ .desc = "nothing missing", .nothing = true,
	  .want = "nothing missing\n" },
	{ .desc = "adapter not in the host",
	  .line = LINE(ADAPTER, NOT_IN_HOST, 8, 0, 0),
	  .want = "adapter 08: not in the host's AP configuration\n" },
	{ .desc = "domain not in the host",
	  .line = LINE(DOMAIN, NOT_IN_HOST, 3, 0, 0),
	  .want = "domain 0003: not in the host's AP configuration\n" },
	{ .desc = "control domain not in the host",
	  .line = LINE(CONTROL_DOMAIN, NOT_IN_HOST, 0xff, 0, 0),
	  .want = "control domain 00ff: not in the host's AP configuration\n" },
	{ .desc = "pending",
	  .line = LINE(ADAPTER, PENDING, 0xff, 0, 0),
	  .want = "adapter ff: waits for the AP bus to finish its scan\n" },
	{ .desc = "pending domain",
	  .line = LINE(DOMAIN, PENDING, 0x47, 0, 0),
	  .want = "domain 0047: waits for the AP bus to finish its scan\n" },
	{ .desc = "queue of another driver",
	  .line = LINE(ADAPTER, QUEUE_DRIVER, 5, 4, 0), .driver = "cex4queue",
	  .want = "adapter 05: queue 05.0004 is bound to cex4queue, not vfio_ap\n" },
	{ .desc = "queue of no driver",
	  .line = LINE(ADAPTER, QUEUE_DRIVER, 6, 0xab, 0), .driver = "",
	  .want = "adapter 06: queue 06.00ab is bound to no driver\n" },
	{ .desc = "queue of no driver, NULL",
	  .line = LINE(ADAPTER, QUEUE_DRIVER, 6, 0xab, 0),
	  .want = "adapter 06: queue 06.00ab is bound to no driver\n" },
	{ .desc = "queue without a device",
	  .line = LINE(ADAPTER, QUEUE_NO_DEVICE, 0, 0xff, 0),
	  .want = "adapter 00: queue 00.00ff has no device on the AP bus\n" },
	{ .desc = "reset failed",
	  .line = LINE(ADAPTER, RESET_FAILED, 5, 4, 6),
	  .want = "adapter 05: queue 05.0004 withheld: reset failed, response code 0x06\n" },
	{ .desc = "reset timed out",
	  .line = LINE(ADAPTER, RESET_TIMEOUT, 0xab, 0x47, 2),
	  .want = "adapter ab: queue ab.0047 withheld: reset timed out, response code 0x02\n" },
	{ .desc = "queue unusable otherwise",
	  .line = LINE(ADAPTER, QUEUE_UNUSABLE, 1, 2, 0),
	  .want = "adapter 01: queue 01.0002 is not usable\n" },
	{ .desc = "exactly the room it needs",
	  .line = LINE(ADAPTER, NOT_IN_HOST, 8, 0, 0), .size = 48,
	  .want = "adapter 08: not in the host's AP configuration\n" },
	{ .desc = "one byte short: nothing, not half a line",
	  .line = LINE(ADAPTER, NOT_IN_HOST, 8, 0, 0), .size = 47,
	  .want = "" },
	{ .desc = "queue line one byte short",
	  .line = LINE(ADAPTER, QUEUE_NO_DEVICE, 0, 0xff, 0), .size = 54,
	  .want = "" },
};

KUNIT_ARRAY_PARAM_DESC(why, why_cases, desc);

static void format_why_test(struct kunit *test)
{
	const struct why_case *c = test->param_value;
	size_t size = c->size ?: VFIO_AP_WHY_LINE_LEN;
	char *buf = guarded_buf(test, size);

	expect_output(test, buf, size,
		      vfio_ap_format_why(buf, size, c->nothing ? NULL : &c->line,
					 c->driver),
		      c->want);
}

/* VFIO_AP_WHY_LINE_LEN promises room for a driver name of 63 characters. */
static void format_why_long_driver_test(struct kunit *test)
{
	static const struct vfio_ap_why_line line =
		LINE(ADAPTER, QUEUE_DRIVER, 0xff, 0xff, 0);
	char *buf = guarded_buf(test, VFIO_AP_WHY_LINE_LEN);
	char driver[64], want[VFIO_AP_WHY_LINE_LEN + 64];

	memset(driver, 'd', sizeof(driver) - 1);
	driver[sizeof(driver) - 1] = '\0';
	snprintf(want, sizeof(want),
		 "adapter ff: queue ff.00ff is bound to %s, not vfio_ap\n",
		 driver);
	expect_output(test, buf, VFIO_AP_WHY_LINE_LEN,
		      vfio_ap_format_why(buf, VFIO_AP_WHY_LINE_LEN, &line,
					 driver),
		      want);
}

static void format_why_zero_size_test(struct kunit *test)
{
	char buf[1] = { CANARY };

	KUNIT_EXPECT_EQ(test, vfio_ap_format_why(buf, 0, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, buf[0], (char)CANARY);
}

static struct kunit_case vfio_ap_format_test_cases[] = {
	KUNIT_CASE_PARAM(parse_id_test, parse_id_gen_params),
	KUNIT_CASE_PARAM(parse_ap_config_test, parse_config_gen_params),
	KUNIT_CASE(parse_ap_config_full_test),
	KUNIT_CASE(ap_config_round_trip_test),
	KUNIT_CASE_PARAM(check_apcb_limits_test, limits_gen_params),
	KUNIT_CASE_PARAM(format_matrix_test, matrix_gen_params),
	KUNIT_CASE(format_full_matrix_test),
	KUNIT_CASE(format_all_adapters_test),
	KUNIT_CASE(format_zero_size_test),
	KUNIT_CASE_PARAM(format_domains_test, domains_gen_params),
	KUNIT_CASE_PARAM(format_ap_config_test, ap_config_gen_params),
	KUNIT_CASE_PARAM(format_id_ranges_test, ranges_gen_params),
	KUNIT_CASE(format_id_ranges_bound_test),
	KUNIT_CASE_PARAM(format_why_test, why_gen_params),
	KUNIT_CASE(format_why_long_driver_test),
	KUNIT_CASE(format_why_zero_size_test),
	{}
};

static struct kunit_suite vfio_ap_format_test_suite = {
	.name = "vfio_ap_format",
	.test_cases = vfio_ap_format_test_cases,
};

kunit_test_suite(vfio_ap_format_test_suite);

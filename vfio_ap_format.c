// SPDX-License-Identifier: GPL-2.0
/*
 * Sysfs input and output: parses the IDs and masks user space writes and
 * formats the matrices and masks it reads, in the formats of the ABI.  Also
 * the bounded ID range lists the driver's log lines name APQNs with, and
 * the lines of the debugfs view of what a guest lacks.
 */

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/hex.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/sprintf.h>
#include <linux/stdarg.h>

#include "vfio_ap_format.h"

#define VFIO_AP_MASK_BITS		256
#define VFIO_AP_MASK_HEX_DIGITS		(VFIO_AP_MASK_BITS / 4)
#define VFIO_AP_HEX_DIGITS_PER_LONG	(BITS_PER_LONG / 4)

static_assert(VFIO_AP_MAX_ADAPTERS == VFIO_AP_MASK_BITS);
static_assert(VFIO_AP_MAX_DOMAINS == VFIO_AP_MASK_BITS);

/**
 * vfio_ap_parse_id() - parse an adapter or domain number written to sysfs
 * @buf: NUL-terminated input, optionally ending in one newline
 * @max_id: highest number the caller accepts
 * @id: where the number is stored on success
 *
 * Decimal, octal (leading 0) and hexadecimal (leading 0x) are accepted, as
 * kstrtoul() accepts them.
 *
 * Return: 0 on success, -EINVAL if @buf is not a number, -ERANGE if it does
 * not fit an unsigned long, -ENODEV if it is above @max_id.
 */
int vfio_ap_parse_id(const char *buf, unsigned int max_id, unsigned long *id)
{
	unsigned long val;
	int ret;

	ret = kstrtoul(buf, 0, &val);
	if (ret)
		return ret;
	if (val > max_id)
		return -ENODEV;
	*id = val;
	return 0;
}

/*
 * Hex digit @digit of a mask covers IDs 4 * @digit to 4 * @digit + 3, its
 * top bit being the lowest ID: digits run through each word from its most
 * significant nibble down, exactly like the MSB-0 bits.
 */
static unsigned int vfio_ap_digit_shift(unsigned int digit)
{
	return BITS_PER_LONG - 4 * (digit % VFIO_AP_HEX_DIGITS_PER_LONG + 1);
}

static void vfio_ap_mask_put_digit(unsigned long *mask, unsigned int digit,
				   unsigned long value)
{
	mask[digit / VFIO_AP_HEX_DIGITS_PER_LONG] |=
		value << vfio_ap_digit_shift(digit);
}

static unsigned int vfio_ap_mask_get_digit(const unsigned long *mask,
					   unsigned int digit)
{
	return (mask[digit / VFIO_AP_HEX_DIGITS_PER_LONG] >>
		vfio_ap_digit_shift(digit)) & 0xf;
}

/*
 * "0x" and "x" may precede the digits of a mask; the tools write them in
 * lower case, and an upper-case X is rejected as a bad character.
 */
static const char *vfio_ap_skip_hex_prefix(const char *s)
{
	if (s[0] == '0' && s[1] == 'x')
		return s + 2;
	if (s[0] == 'x')
		return s + 1;
	return s;
}

/*
 * Parse one mask field and leave *@pos on the first character after it.
 * Missing digits are zero bits on the right, so the digits given always
 * describe the lowest IDs.  A field without digits is rejected rather than
 * read as an empty mask: it is more likely a typo than a request.
 */
static int vfio_ap_parse_mask_field(const char **pos, unsigned long *mask)
{
	const char *s = vfio_ap_skip_hex_prefix(*pos);
	unsigned int digits = 0;
	int value;

	bitmap_zero(mask, VFIO_AP_MASK_BITS);
	for (; (value = hex_to_bin(*s)) >= 0; s++) {
		if (digits == VFIO_AP_MASK_HEX_DIGITS)
			return -EINVAL;
		vfio_ap_mask_put_digit(mask, digits++, value);
	}
	if (!digits)
		return -EINVAL;
	*pos = s;
	return 0;
}

/**
 * vfio_ap_parse_ap_config() - parse the three masks written to ap_config
 * @buf: NUL-terminated "adapters,domains,control domains", optionally
 *	 ending in one newline
 * @apcb: where the masks are stored
 *
 * Each field holds 1 to 64 hex digits, optionally preceded by "0x" or "x";
 * the first digit's top bit is ID 0 and a short field is padded with zero
 * bits on the right.  Nothing else, not even blanks, is accepted.
 *
 * Return: 0 on success, -EINVAL on malformed input, in which case @apcb is
 * left in an unspecified state.
 */
int vfio_ap_parse_ap_config(const char *buf, struct vfio_ap_apcb *apcb)
{
	unsigned long *masks[] = { apcb->apm, apcb->aqm, apcb->adm };
	const char *s = buf;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(masks); i++) {
		if (i && *s++ != ',')
			return -EINVAL;
		ret = vfio_ap_parse_mask_field(&s, masks[i]);
		if (ret)
			return ret;
	}
	if (*s == '\n')
		s++;
	return *s ? -EINVAL : 0;
}

static bool vfio_ap_mask_exceeds(const unsigned long *mask,
				 unsigned int max_id)
{
	int highest = vfio_ap_mask_highest_bit(mask, VFIO_AP_MASK_BITS);

	return highest >= 0 && (unsigned int)highest > max_id;
}

/**
 * vfio_ap_check_apcb_limits() - check an APCB against the machine's limits
 * @apcb: the masks to check
 * @max_apid: highest adapter number the machine supports
 * @max_apqi: highest domain number the machine supports
 *
 * Return: 0 if every ID is within the limits, -ENODEV if an adapter is above
 * @max_apid or a usage or control domain above @max_apqi.
 */
int vfio_ap_check_apcb_limits(const struct vfio_ap_apcb *apcb,
			      unsigned int max_apid, unsigned int max_apqi)
{
	if (vfio_ap_mask_exceeds(apcb->apm, max_apid) ||
	    vfio_ap_mask_exceeds(apcb->aqm, max_apqi) ||
	    vfio_ap_mask_exceeds(apcb->adm, max_apqi))
		return -ENODEV;
	return 0;
}

/*
 * Output that takes whole lines or nothing: a reader never sees half an
 * APQN, and a matrix that does not fit simply ends early.
 */
struct vfio_ap_out {
	char *buf;
	size_t size;
	size_t len;
};

static bool vfio_ap_out_init(struct vfio_ap_out *out, char *buf, size_t size)
{
	out->buf = buf;
	out->size = size;
	out->len = 0;
	if (!size)
		return false;
	buf[0] = '\0';
	return true;
}

static __printf(2, 3) bool vfio_ap_out_line(struct vfio_ap_out *out,
					    const char *fmt, ...)
{
	size_t room = out->size - out->len;
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(out->buf + out->len, room, fmt, args);
	va_end(args);
	if ((size_t)n >= room) {
		/* Take back the partial line vsnprintf() left behind. */
		out->buf[out->len] = '\0';
		return false;
	}
	out->len += n;
	return true;
}

static void vfio_ap_out_adapters_only(struct vfio_ap_out *out,
				      const unsigned long *apm)
{
	unsigned long apid;

	for_each_set_bit_inv(apid, apm, VFIO_AP_MAX_ADAPTERS)
		if (!vfio_ap_out_line(out, "%02lx.\n", apid))
			return;
}

static void vfio_ap_out_domains_only(struct vfio_ap_out *out,
				     const unsigned long *aqm)
{
	unsigned long apqi;

	for_each_set_bit_inv(apqi, aqm, VFIO_AP_MAX_DOMAINS)
		if (!vfio_ap_out_line(out, ".%04lx\n", apqi))
			return;
}

static void vfio_ap_out_apqns(struct vfio_ap_out *out,
			      const unsigned long *apm,
			      const unsigned long *aqm)
{
	unsigned long apid, apqi;

	for_each_set_bit_inv(apid, apm, VFIO_AP_MAX_ADAPTERS)
		for_each_set_bit_inv(apqi, aqm, VFIO_AP_MAX_DOMAINS)
			if (!vfio_ap_out_line(out, "%02lx.%04lx\n", apid, apqi))
				return;
}

/**
 * vfio_ap_format_matrix() - format a matrix the way sysfs shows it
 * @buf: output buffer
 * @size: size of @buf
 * @apm: adapters of the matrix
 * @aqm: domains of the matrix
 *
 * One "aa.dddd" line per APQN, adapters in the outer loop, both ascending.
 * Without domains each adapter gets an "aa." line; without adapters each
 * domain gets a ".dddd" line.  Lines that do not fit are left out whole.
 *
 * Return: number of characters written, not counting the terminating NUL.
 */
ssize_t vfio_ap_format_matrix(char *buf, size_t size,
			      const unsigned long *apm,
			      const unsigned long *aqm)
{
	struct vfio_ap_out out;

	if (!vfio_ap_out_init(&out, buf, size))
		return 0;
	if (bitmap_empty(aqm, VFIO_AP_MAX_DOMAINS))
		vfio_ap_out_adapters_only(&out, apm);
	else if (bitmap_empty(apm, VFIO_AP_MAX_ADAPTERS))
		vfio_ap_out_domains_only(&out, aqm);
	else
		vfio_ap_out_apqns(&out, apm, aqm);
	return out.len;
}

/**
 * vfio_ap_format_domains() - format a domain mask the way sysfs shows it
 * @buf: output buffer
 * @size: size of @buf
 * @adm: the domains to list
 *
 * One "dddd" line per domain, ascending.  Lines that do not fit are left
 * out whole.
 *
 * Return: number of characters written, not counting the terminating NUL.
 */
ssize_t vfio_ap_format_domains(char *buf, size_t size,
			       const unsigned long *adm)
{
	struct vfio_ap_out out;
	unsigned long apqi;

	if (!vfio_ap_out_init(&out, buf, size))
		return 0;
	for_each_set_bit_inv(apqi, adm, VFIO_AP_MAX_DOMAINS)
		if (!vfio_ap_out_line(&out, "%04lx\n", apqi))
			break;
	return out.len;
}

static void vfio_ap_mask_to_hex(const unsigned long *mask,
				char hex[VFIO_AP_MASK_HEX_DIGITS + 1])
{
	unsigned int digit;

	for (digit = 0; digit < VFIO_AP_MASK_HEX_DIGITS; digit++)
		hex[digit] = hex_asc[vfio_ap_mask_get_digit(mask, digit)];
	hex[VFIO_AP_MASK_HEX_DIGITS] = '\0';
}

/**
 * vfio_ap_format_ap_config() - format an APCB the way ap_config shows it
 * @buf: output buffer
 * @size: size of @buf
 * @apcb: the masks to show
 *
 * One line "0x<adapters>,0x<domains>,0x<control domains>", each mask as 64
 * lowercase hex digits whose first digit's top bit is ID 0.  If the line
 * does not fit, nothing is written.
 *
 * Return: number of characters written, not counting the terminating NUL.
 */
ssize_t vfio_ap_format_ap_config(char *buf, size_t size,
				 const struct vfio_ap_apcb *apcb)
{
	char apm[VFIO_AP_MASK_HEX_DIGITS + 1];
	char aqm[VFIO_AP_MASK_HEX_DIGITS + 1];
	char adm[VFIO_AP_MASK_HEX_DIGITS + 1];
	struct vfio_ap_out out;

	if (!vfio_ap_out_init(&out, buf, size))
		return 0;
	vfio_ap_mask_to_hex(apcb->apm, apm);
	vfio_ap_mask_to_hex(apcb->aqm, aqm);
	vfio_ap_mask_to_hex(apcb->adm, adm);
	vfio_ap_out_line(&out, "0x%s,0x%s,0x%s\n", apm, aqm, adm);
	return out.len;
}

/* One range, with the comma that separates it from the one before. */
static bool vfio_ap_out_range(struct vfio_ap_out *out, unsigned long first,
			      unsigned long last, int digits)
{
	const char *sep = out->len ? "," : "";

	if (first == last)
		return vfio_ap_out_line(out, "%s%0*lx", sep, digits, first);
	return vfio_ap_out_line(out, "%s%0*lx-%0*lx", sep, digits, first,
				digits, last);
}

/**
 * vfio_ap_format_id_ranges() - list the IDs of a mask as hex ranges
 * @buf: output buffer
 * @size: size of @buf
 * @mask: a 256-bit MSB-0 mask of adapters or domains
 * @digits: hex digits per ID: 2 for adapters, 4 for domains, as in sysfs
 *
 * Runs of consecutive IDs become "first-last", single IDs stay alone, all
 * ascending and separated by commas: adapters 5, 6 and 10 are "05-06,0a".
 * An empty mask is "none".  If the list does not fit in @size, @buf says
 * instead how many IDs in how many ranges, from the lowest to the highest
 * ID, e.g. "128 IDs in 128 ranges from 00 to fe", so that a reader can
 * never take a cut list for the whole.
 *
 * Return: number of characters written, not counting the terminating NUL,
 * or -ENOSPC if not even the count fits (then @buf, if @size allows, is
 * empty).
 */
int vfio_ap_format_id_ranges(char *buf, size_t size, const unsigned long *mask,
			     int digits)
{
	unsigned long id, first = 0, last = 0, lowest = 0;
	unsigned int ids = 0, ranges = 0;
	struct vfio_ap_out out;
	bool fits = true;

	if (!vfio_ap_out_init(&out, buf, size))
		return -ENOSPC;
	for_each_set_bit_inv(id, mask, VFIO_AP_MASK_BITS) {
		ids++;
		if (ranges && id == last + 1) {
			last = id;
			continue;
		}
		/* A range ended: print it while everything so far fits. */
		if (ranges)
			fits = fits && vfio_ap_out_range(&out, first, last,
							 digits);
		else
			lowest = id;
		ranges++;
		first = id;
		last = id;
	}
	if (!ranges)
		return vfio_ap_out_line(&out, "none") ? out.len : -ENOSPC;
	if (fits && vfio_ap_out_range(&out, first, last, digits))
		return out.len;

	vfio_ap_out_init(&out, buf, size);
	if (!vfio_ap_out_line(&out, "%u IDs in %u ranges from %0*lx to %0*lx",
			      ids, ranges, digits, lowest, digits, last))
		return -ENOSPC;
	return out.len;
}

/**
 * vfio_ap_apqns_text() - name a set of APQNs in bounded space
 * @text: where the two range lists go
 * @apm: the adapters
 * @aqm: the domains
 *
 * A refusal concerns @apm x @aqm, which two range lists name exactly
 * where one line per APQN could take 65536 lines.
 */
void vfio_ap_apqns_text(struct vfio_ap_apqns_text *text,
			const unsigned long *apm, const unsigned long *aqm)
{
	vfio_ap_format_id_ranges(text->apids, sizeof(text->apids), apm, 2);
	vfio_ap_format_id_ranges(text->apqis, sizeof(text->apqis), aqm, 4);
}

/* "adapter 05: ", "domain 0004: " or "control domain 0004: " */
static bool vfio_ap_out_why_id(struct vfio_ap_out *out,
			       const struct vfio_ap_why_line *line)
{
	switch (line->kind) {
	case VFIO_AP_WHY_ADAPTER:
		return vfio_ap_out_line(out, "adapter %02x: ", line->id);
	case VFIO_AP_WHY_DOMAIN:
		return vfio_ap_out_line(out, "domain %04x: ", line->id);
	default:
		return vfio_ap_out_line(out, "control domain %04x: ", line->id);
	}
}

/* What is wrong with queue @line->id.@line->apqi, and the newline. */
static bool vfio_ap_out_why_queue(struct vfio_ap_out *out,
				  const struct vfio_ap_why_line *line,
				  const char *driver)
{
	if (!vfio_ap_out_line(out, "queue %02x.%04x ", line->id, line->apqi))
		return false;
	switch (line->reason) {
	case VFIO_AP_WHY_QUEUE_DRIVER:
		if (!driver || !*driver)
			return vfio_ap_out_line(out, "is bound to no driver\n");
		return vfio_ap_out_line(out, "is bound to %s, not vfio_ap\n",
					driver);
	case VFIO_AP_WHY_QUEUE_NO_DEVICE:
		return vfio_ap_out_line(out, "has no device on the AP bus\n");
	case VFIO_AP_WHY_RESET_FAILED:
		return vfio_ap_out_line(out, "withheld: reset failed, response code 0x%02x\n",
					line->rc);
	case VFIO_AP_WHY_RESET_TIMEOUT:
		return vfio_ap_out_line(out, "withheld: reset timed out, response code 0x%02x\n",
					line->rc);
	default:
		return vfio_ap_out_line(out, "is not usable\n");
	}
}

/**
 * vfio_ap_format_why() - format one line of the not_in_guest view
 * @buf: output buffer
 * @size: size of @buf; VFIO_AP_WHY_LINE_LEN fits every line
 * @line: what the guest lacks and why, or NULL if it lacks nothing
 * @driver: for %VFIO_AP_WHY_QUEUE_DRIVER, the name of the queue's driver;
 *	    NULL or "" if it has none
 *
 * One line per assigned ID, or per queue that keeps an adapter out, e.g.
 * "adapter 05: queue 05.0004 is bound to cex4queue, not vfio_ap"; IDs are
 * hex with 2 digits for adapters and 4 for domains, as sysfs shows them.
 * Without @line the line is "nothing missing".  A line that does not fit
 * is left out whole.
 *
 * Return: number of characters written, not counting the terminating NUL.
 */
int vfio_ap_format_why(char *buf, size_t size,
		       const struct vfio_ap_why_line *line,
		       const char *driver)
{
	struct vfio_ap_out out;
	bool fits;

	if (!vfio_ap_out_init(&out, buf, size))
		return 0;
	if (!line)
		fits = vfio_ap_out_line(&out, "nothing missing\n");
	else if (!vfio_ap_out_why_id(&out, line))
		fits = false;
	else if (line->reason == VFIO_AP_WHY_NOT_IN_HOST)
		fits = vfio_ap_out_line(&out, "not in the host's AP configuration\n");
	else if (line->reason == VFIO_AP_WHY_PENDING)
		fits = vfio_ap_out_line(&out, "waits for the AP bus to finish its scan\n");
	else
		fits = vfio_ap_out_why_queue(&out, line, driver);
	if (!fits)
		vfio_ap_out_init(&out, buf, size);
	return out.len;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * AP facility simulator for the vfio_ap lab.
 *
 * qemu TCG does not emulate the AP instructions (PQAP, NQAP, DQAP). The
 * lab's kernel replaces the instruction wrappers of <asm/ap.h> with calls
 * into this file, which keeps a model of the host AP configuration and of
 * every AP queue, so that the unmodified AP bus, zcrypt and vfio_ap code
 * can run on a machine without crypto adapters. The model is driven from
 * the kernel command line (ap_sim.config=) and from debugfs (ap_sim/).
 *
 * All state sits behind one spinlock that is taken with interrupts off:
 * instructions arrive from tasklets, timers, process context and vCPUs,
 * and none of them may sleep.
 */

#define KMSG_COMPONENT "ap_sim"
#define pr_fmt(fmt) KMSG_COMPONENT ": " fmt

#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/export.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/ap.h>
#include <asm/facility.h>
#include <asm/zcrypt.h>

#include "ap_bus.h"

#define SIM_IDS		256		/* adapter and domain numbers */
#define SIM_QDEPTH	8		/* replies a queue holds (qd + 1) */
#define SIM_MAX_MSG	AP_DEFAULT_MAX_MSG_SIZE	/* TAPQ ml field 0 */
#define SIM_RNG_MAX	4096		/* random bytes per CCA RNG reply */
#define SIM_CFG_MAX	4096		/* longest config string accepted */

/* PQAP function codes (GR0 bits 32-39 without the upper bit) */
#define PQAP_TAPQ	0
#define PQAP_RAPQ	1
#define PQAP_ZAPQ	2
#define PQAP_AQIC	3
#define PQAP_QCI	4
#define PQAP_QACT	5
#define PQAP_BAPQ	7
#define PQAP_AAPQ	8

enum sim_mode { SIM_ACCEL, SIM_CCA, SIM_EP11, SIM_NR_MODES };

static const char * const sim_mode_names[SIM_NR_MODES] = {
	[SIM_ACCEL] = "accel",
	[SIM_CCA] = "cca",
	[SIM_EP11] = "ep11",
};

/* The host configuration, as QCI reports it plus each adapter's kind. */
struct sim_config {
	DECLARE_BITMAP(apm, SIM_IDS);	/* adapters */
	DECLARE_BITMAP(aqm, SIM_IDS);	/* usage domains */
	DECLARE_BITMAP(adm, SIM_IDS);	/* control domains */
	u8 type;			/* default adapter type */
	u8 mode;			/* default adapter mode */
	bool apxa;
	u8 na;
	u8 nd;
	u8 ap_type[SIM_IDS];		/* per adapter */
	u8 ap_mode[SIM_IDS];
};

/* A reply waiting on a queue, complete as DQAP will hand it out. */
struct sim_reply {
	struct sim_reply *next;
	unsigned long psmid;
	size_t len;
	size_t off;			/* already dequeued (partial DQAP) */
	u8 data[];
};

#define SQ_IRQ		0x01		/* interruptions enabled */
#define SQ_RESET	0x02		/* reset in progress */
#define SQ_HANG		0x04		/* resets never complete */
#define SQ_REFILL	0x08		/* fault: work arrives after each reset */
#define SQ_PENDING	0x10		/* that work: the queue is not empty */

struct sim_queue {
	u32 zapq, rapq, aqic_on, aqic_off, nqap, dqap, refills;
	u64 nib;			/* notification indicator byte */
	ktime_t reset_end;
	u32 gisa;
	u8 isc, gisc, gf;
	u8 flags;
	u8 stuck_rc;			/* fault: every instruction fails */
	u8 aqic_fail_rc;		/* fault: next AQIC fails */
	u8 reset_fail_rc;		/* fault: next resets fail ... */
	u8 reset_fail_cnt;		/* ... this many of them */
	u8 nreplies;
	struct sim_reply *replies;
};

static DEFINE_SPINLOCK(sim_lock);
/* Serialises control writes and the bus rescans that follow them. */
static DEFINE_MUTEX(sim_ctl_mutex);

/* Valid from the start: empty configuration, APXA defaults. */
static struct sim_config sim_cfg = {
	.type = AP_DEVICE_TYPE_CEX8,
	.mode = SIM_CCA,
	.apxa = true,
	.na = 255,
	.nd = 255,
};

/* Per-adapter blocks of 256 queues, allocated when first needed. */
static struct sim_queue *sim_blk[SIM_IDS];
static unsigned int sim_reset_delay_ms;

static char sim_boot_config[SIM_CFG_MAX];
module_param_string(config, sim_boot_config, sizeof(sim_boot_config), 0444);
MODULE_PARM_DESC(config, "Initial AP configuration, same syntax as debugfs ap_sim/config");
static bool sim_boot_done;

static int sim_parse_config(char *s, struct sim_config *cfg);

/*
 * The boot configuration may be needed before our initcall runs (initcall
 * order is not ours to choose), so the first instruction parses it too.
 * Parsing allocates nothing. Called with sim_lock held.
 */
static void sim_boot_config_locked(void)
{
	static struct sim_config boot_cfg;
	static char buf[SIM_CFG_MAX];

	if (sim_boot_done)
		return;
	sim_boot_done = true;
	strscpy(buf, sim_boot_config, sizeof(buf));
	if (sim_parse_config(buf, &boot_cfg))
		pr_err("invalid ap_sim.config, starting with no adapters\n");
	else
		sim_cfg = boot_cfg;
}

static struct sim_queue *sim_queue_get(unsigned int card, unsigned int dom)
{
	struct sim_queue *blk = sim_blk[card];

	if (!blk) {
		/* atomic context; the control paths preallocate with sleep */
		blk = kcalloc(SIM_IDS, sizeof(*blk), GFP_ATOMIC | __GFP_NOWARN);
		if (!blk)
			return NULL;
		sim_blk[card] = blk;
	}
	return &blk[dom];
}

/* Allocate the queue block of an adapter from a context that may sleep. */
static void sim_prealloc(unsigned int card)
{
	struct sim_queue *blk;
	unsigned long flags;

	if (READ_ONCE(sim_blk[card]))
		return;
	blk = kcalloc(SIM_IDS, sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return;
	spin_lock_irqsave(&sim_lock, flags);
	if (!sim_blk[card]) {
		sim_blk[card] = blk;
		blk = NULL;
	}
	spin_unlock_irqrestore(&sim_lock, flags);
	kfree(blk);
}

static bool sim_in_config(unsigned int card, unsigned int dom)
{
	return test_bit(card, sim_cfg.apm) && test_bit(dom, sim_cfg.aqm);
}

static void sim_drop_replies(struct sim_queue *q)
{
	struct sim_reply *r;

	while (q->replies) {
		r = q->replies;
		q->replies = r->next;
		kfree(r);
	}
	q->nreplies = 0;
}

/* Let a pending reset complete once its latency has passed. */
static void sim_update(struct sim_queue *q)
{
	if ((q->flags & SQ_RESET) && !(q->flags & SQ_HANG) &&
	    ktime_compare(ktime_get(), q->reset_end) >= 0) {
		q->flags &= ~SQ_RESET;
		/* a guest that keeps enqueueing: new work right after */
		if (q->flags & SQ_REFILL) {
			q->flags |= SQ_PENDING;
			q->refills++;
		}
	}
}

/*
 * Response code every instruction on this APQN gets before looking at
 * what it asks for: 01 outside the configuration, the injected fault
 * code, 02 while a reset is in progress, else 00.
 */
static u8 sim_base_rc(unsigned int card, unsigned int dom,
		      struct sim_queue *q)
{
	if (!sim_in_config(card, dom) || !q)
		return AP_RESPONSE_Q_NOT_AVAIL;
	sim_update(q);
	if (q->stuck_rc)
		return q->stuck_rc;
	if (q->flags & SQ_RESET)
		return AP_RESPONSE_RESET_IN_PROGRESS;
	return AP_RESPONSE_NORMAL;
}

static unsigned long sim_status(u8 rc, struct sim_queue *q)
{
	union ap_queue_status_reg reg = { .value = 0 };

	reg.status.response_code = rc;
	if (rc == AP_RESPONSE_Q_NOT_AVAIL || !q)
		return reg.value;
	reg.status.queue_empty = !q->replies && !(q->flags & SQ_PENDING);
	reg.status.replies_waiting = !!q->replies;
	reg.status.irq_enabled = !!(q->flags & SQ_IRQ);
	return reg.value;
}

/* TAPQ GR2: what the adapter is, as the AP bus and zcrypt decode it. */
static unsigned long sim_hwinfo(unsigned int card)
{
	struct ap_tapq_hwinfo hw = { .value = 0 };

	hw.apsc = 1;
	hw.apxa = sim_cfg.apxa;
	switch (sim_cfg.ap_mode[card]) {
	case SIM_ACCEL:
		hw.accel = 1;
		hw.mex4k = 1;
		hw.crt4k = 1;
		break;
	case SIM_CCA:
		hw.cca = 1;
		hw.mex4k = 1;
		hw.crt4k = 1;
		break;
	default:
		hw.ep11 = 1;
		break;
	}
	hw.at = sim_cfg.ap_type[card];
	hw.nd = sim_cfg.nd;
	hw.qd = SIM_QDEPTH - 1;
	hw.bs = AP_BS_Q_USABLE;
	return hw.value;
}

static void sim_tapq(unsigned int card, unsigned int dom,
		     unsigned long *gr1, unsigned long *gr2)
{
	struct sim_queue *q = NULL;
	u8 rc;

	if (sim_in_config(card, dom))
		q = sim_queue_get(card, dom);
	rc = sim_base_rc(card, dom, q);
	*gr1 = sim_status(rc, q);
	*gr2 = rc == AP_RESPONSE_Q_NOT_AVAIL ? 0 : sim_hwinfo(card);
}

static void sim_reset(unsigned int card, unsigned int dom, bool zeroize,
		      unsigned long *gr1)
{
	struct sim_queue *q = sim_queue_get(card, dom);
	u8 rc;

	if (q) {
		if (zeroize)
			q->zapq++;
		else
			q->rapq++;
	}
	rc = sim_base_rc(card, dom, q);
	if (rc == AP_RESPONSE_NORMAL && q->reset_fail_cnt) {
		rc = q->reset_fail_rc;
		q->reset_fail_cnt--;
	}
	if (rc == AP_RESPONSE_NORMAL) {
		/* a reset drops replies and switches interruptions off */
		sim_drop_replies(q);
		q->flags &= ~(SQ_IRQ | SQ_PENDING);
		q->nib = 0;
		q->reset_end = ktime_add_ms(ktime_get(), sim_reset_delay_ms);
		q->flags |= SQ_RESET;
		sim_update(q);
	}
	*gr1 = sim_status(rc, q);
}

static void sim_aqic(unsigned int card, unsigned int dom,
		     unsigned long *gr1, unsigned long *gr2)
{
	struct sim_queue *q = sim_queue_get(card, dom);
	union ap_qirq_ctrl ctrl = { .value = *gr1 };
	u8 rc;

	if (q) {
		if (ctrl.ir)
			q->aqic_on++;
		else
			q->aqic_off++;
	}
	rc = sim_base_rc(card, dom, q);
	if (rc == AP_RESPONSE_NORMAL && q->aqic_fail_rc) {
		rc = q->aqic_fail_rc;
		q->aqic_fail_rc = 0;
	} else if (rc == AP_RESPONSE_NORMAL && ctrl.ir) {
		if (q->flags & SQ_IRQ) {
			rc = AP_RESPONSE_OTHERWISE_CHANGED;
		} else if (!*gr2) {
			rc = AP_RESPONSE_INVALID_ADDRESS;
		} else {
			q->flags |= SQ_IRQ;
			q->isc = ctrl.isc;
			q->gisc = ctrl.gisc;
			q->gf = ctrl.gf;
			q->gisa = ctrl.gisa;
			q->nib = *gr2;
		}
	} else if (rc == AP_RESPONSE_NORMAL) {
		/* disabling what is off is not an error here */
		q->flags &= ~SQ_IRQ;
		q->nib = 0;
	}
	*gr1 = sim_status(rc, q);
}

static void sim_set_mask(unsigned int *mask, unsigned long *bits)
{
	unsigned int i;

	for_each_set_bit(i, bits, SIM_IDS)
		mask[i / 32] |= 0x80000000U >> (i % 32);
}

static void sim_qci(struct ap_config_info *info)
{
	memset(info, 0, sizeof(*info));
	/* APSC keeps the flags non-zero, the AP bus reads 0 as "no QCI" */
	info->apsc = 1;
	info->apxa = sim_cfg.apxa;
	info->na = sim_cfg.na;
	info->nd = sim_cfg.nd;
	sim_set_mask(info->apm, sim_cfg.apm);
	sim_set_mask(info->aqm, sim_cfg.aqm);
	sim_set_mask(info->adm, sim_cfg.adm);
}

/**
 * ap_sim_available() - Whether the AP instructions are installed.
 *
 * Return: always true, the simulator provides them.
 */
bool ap_sim_available(void)
{
	return true;
}
EXPORT_SYMBOL(ap_sim_available);

/**
 * ap_sim_pqap() - Simulate the PQAP instruction.
 * @gr0: function code in bits 32-39, T/F bits, APQN in bits 48-63
 * @gr1: in: AQIC/QACT parameter; out: AP queue status
 * @gr2: in: NIB address (AQIC), QCI block address, secret index (AAPQ);
 *	 out: TAPQ hardware information, QACT information
 *
 * Return: 0 if the instruction completed, -EOPNOTSUPP where the machine
 * would raise a program exception (function not installed).
 */
int ap_sim_pqap(unsigned long gr0, unsigned long *gr1, unsigned long *gr2)
{
	unsigned int fc = (gr0 >> 24) & 0x7f;
	unsigned int card = AP_QID_CARD(gr0), dom = AP_QID_QUEUE(gr0);
	unsigned long flags;
	int rc = 0;

	spin_lock_irqsave(&sim_lock, flags);
	sim_boot_config_locked();
	switch (fc) {
	case PQAP_TAPQ:
		sim_tapq(card, dom, gr1, gr2);
		break;
	case PQAP_RAPQ:
	case PQAP_ZAPQ:
		sim_reset(card, dom, fc == PQAP_ZAPQ, gr1);
		break;
	case PQAP_AQIC:
		sim_aqic(card, dom, gr1, gr2);
		break;
	case PQAP_QCI:
		/* QCI is there only with facility 12, as on the machine */
		if (test_facility(12))
			sim_qci((struct ap_config_info *)*gr2);
		else
			rc = -EOPNOTSUPP;
		break;
	default:
		/* QACT, BAPQ, AAPQ: not installed (QCI C and B bits off) */
		rc = -EOPNOTSUPP;
		break;
	}
	spin_unlock_irqrestore(&sim_lock, flags);
	return rc;
}
EXPORT_SYMBOL(ap_sim_pqap);

/* Wire formats of the only replies the simulator builds. */
struct sim_type82_reply {
	u8 reserved1;
	u8 type;			/* 0x82 */
	u8 reserved2[2];
	u8 reply_code;
	u8 reserved3[3];
} __packed;

struct sim_type86_reply {
	u8 reserved1;
	u8 type;			/* 0x86 */
	u8 format;			/* 0x02 */
	u8 reserved2;
	u8 reply_code;
	u8 reserved3[3];
	u8 reserved4[4];
	u8 apfs[4];
	u32 count1;			/* CPRB */
	u32 offset1;
	u32 count2;			/* data */
	u32 offset2;
	u32 count3;
	u32 offset3;
	u32 count4;
	u32 offset4;
	struct CPRBX cprbx;
} __packed;

#define SIM_T6_OFFSET1		0x10	/* type 6 header: offset of CPRB */
#define SIM_T6_FUNCTION		0x34	/* type 6 header: function code */
#define SIM_RY_FILTERED		0x8b	/* "request not allowed here" */

static struct sim_reply *sim_alloc_reply(unsigned long psmid, size_t len)
{
	struct sim_reply *r;

	r = kzalloc(struct_size(r, data, len), GFP_ATOMIC | __GFP_NOWARN);
	if (r) {
		r->psmid = psmid;
		r->len = len;
	}
	return r;
}

/*
 * A CCA coprocessor answers a type 6 "RL" request (what the zcrypt hwrng
 * sends) with a type 86 reply carrying the CPRB and random bytes.
 */
static struct sim_reply *sim_rng_reply(unsigned long psmid, const u8 *msg,
				       size_t len)
{
	struct sim_type86_reply *t86;
	const struct CPRBX *req;
	struct sim_reply *r;
	u32 off, n;

	off = *(const u32 *)(msg + SIM_T6_OFFSET1);
	if (off > len || len - off < sizeof(*req))
		return NULL;
	req = (const struct CPRBX *)(msg + off);
	n = min_t(u32, req->rpl_datal, SIM_RNG_MAX) & ~3U;
	r = sim_alloc_reply(psmid, sizeof(*t86) + n);
	if (!r)
		return NULL;
	t86 = (struct sim_type86_reply *)r->data;
	t86->type = 0x86;
	t86->format = 0x02;
	t86->count1 = sizeof(t86->cprbx);
	t86->offset1 = offsetof(struct sim_type86_reply, cprbx);
	t86->count2 = n;
	t86->offset2 = sizeof(*t86);
	t86->cprbx = *req;
	t86->cprbx.ccp_rtcode = 0;
	t86->cprbx.ccp_rscode = 0;
	t86->cprbx.rpld_parml = 0;
	t86->cprbx.rpld_datal = n;
	get_random_bytes(r->data + sizeof(*t86), n);
	return r;
}

/*
 * Build the reply to a request. The simulator does no cryptography:
 * everything but the CCA RNG request is refused with a type 82 reply,
 * which zcrypt turns into -EINVAL for the requester without retries.
 */
static struct sim_reply *sim_make_reply(unsigned int card,
					unsigned long psmid,
					const u8 *msg, size_t len)
{
	struct sim_type82_reply *t82;
	struct sim_reply *r = NULL;

	if (sim_cfg.ap_mode[card] == SIM_CCA && len > SIM_T6_FUNCTION + 1 &&
	    msg[1] == 0x06 && msg[SIM_T6_FUNCTION] == 'R' &&
	    msg[SIM_T6_FUNCTION + 1] == 'L')
		r = sim_rng_reply(psmid, msg, len);
	if (r)
		return r;
	r = sim_alloc_reply(psmid, sizeof(*t82));
	if (!r)
		return NULL;
	t82 = (struct sim_type82_reply *)r->data;
	t82->type = 0x82;
	t82->reply_code = SIM_RY_FILTERED;
	return r;
}

/**
 * ap_sim_nqap() - Simulate the NQAP instruction.
 * @gr0: APQN in bits 48-63 (plus the L and special bits)
 * @psmid: program supplied message identifier
 * @msg: the request
 * @len: its length
 *
 * The whole request is taken at once and answered at once: the reply is
 * waiting when NQAP returns, so no interruption is ever needed to fetch it.
 *
 * Return: the AP queue status (GR1).
 */
unsigned long ap_sim_nqap(unsigned long gr0, unsigned long psmid,
			  const void *msg, size_t len)
{
	unsigned int card = AP_QID_CARD(gr0), dom = AP_QID_QUEUE(gr0);
	struct sim_reply *r, **tail;
	struct sim_queue *q;
	unsigned long flags, status;
	u8 rc;

	spin_lock_irqsave(&sim_lock, flags);
	sim_boot_config_locked();
	q = sim_queue_get(card, dom);
	if (q)
		q->nqap++;
	rc = sim_base_rc(card, dom, q);
	if (rc == AP_RESPONSE_NORMAL && len > SIM_MAX_MSG)
		rc = AP_RESPONSE_MESSAGE_TOO_BIG;
	if (rc == AP_RESPONSE_NORMAL && q->nreplies >= SIM_QDEPTH)
		rc = AP_RESPONSE_Q_FULL;
	if (rc == AP_RESPONSE_NORMAL) {
		r = sim_make_reply(card, psmid, msg, len);
		if (r) {
			for (tail = &q->replies; *tail; tail = &(*tail)->next)
				;
			*tail = r;
			q->nreplies++;
		} else {
			/* out of memory: the sender tries again later */
			rc = AP_RESPONSE_Q_FULL;
		}
	}
	status = sim_status(rc, q);
	spin_unlock_irqrestore(&sim_lock, flags);
	return status;
}
EXPORT_SYMBOL(ap_sim_nqap);

/**
 * ap_sim_dqap() - Simulate the DQAP instruction.
 * @gr0: APQN in bits 48-63; left as is, it also continues a partial DQAP
 * @psmid: out: the reply's program supplied message identifier
 * @msg: reply buffer
 * @space: in: size of @msg; out: bytes of @msg left unused
 * @gr2: out: bytes of the reply not yet stored (0 when complete)
 *
 * A reply larger than the buffer is handed out in pieces: each call stores
 * as much as fits and leaves the rest in the queue, as the machine does.
 *
 * Return: the AP queue status (GR1).
 */
unsigned long ap_sim_dqap(unsigned long *gr0, unsigned long *psmid,
			  void *msg, size_t *space, unsigned long *gr2)
{
	unsigned int card = AP_QID_CARD(*gr0), dom = AP_QID_QUEUE(*gr0);
	struct sim_queue *q;
	struct sim_reply *r;
	unsigned long flags, status;
	size_t n;
	u8 rc;

	*gr2 = 0;
	spin_lock_irqsave(&sim_lock, flags);
	sim_boot_config_locked();
	q = sim_queue_get(card, dom);
	if (q)
		q->dqap++;
	rc = sim_base_rc(card, dom, q);
	if (rc == AP_RESPONSE_NORMAL && !q->replies)
		rc = AP_RESPONSE_NO_PENDING_REPLY;
	if (rc == AP_RESPONSE_NORMAL) {
		r = q->replies;
		n = min(*space, r->len - r->off);
		memcpy(msg, r->data + r->off, n);
		r->off += n;
		*space -= n;
		if (r->off < r->len) {
			*gr2 = r->len - r->off;
		} else {
			*psmid = r->psmid;
			q->replies = r->next;
			q->nreplies--;
			kfree(r);
		}
	}
	status = sim_status(rc, q);
	spin_unlock_irqrestore(&sim_lock, flags);
	return status;
}
EXPORT_SYMBOL(ap_sim_dqap);

/* ---- configuration parsing and printing ---- */

/* A number as the control files take it: decimal or 0x-hex. */
static int sim_kstrtouint(const char *s, unsigned int *val)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return kstrtouint(s + 2, 16, val);
	return kstrtouint(s, 10, val);
}

/* "5,6,0x0b,16-31" into a bitmap; empty means none. */
static int sim_parse_list(char *s, unsigned long *bits)
{
	unsigned int from, to;
	char *item, *dash;

	bitmap_zero(bits, SIM_IDS);
	if (!*s)
		return 0;
	while ((item = strsep(&s, ",")) != NULL) {
		dash = strchr(item, '-');
		if (dash)
			*dash++ = '\0';
		if (sim_kstrtouint(item, &from))
			return -EINVAL;
		to = from;
		if (dash && sim_kstrtouint(dash, &to))
			return -EINVAL;
		if (from > to || to >= SIM_IDS)
			return -EINVAL;
		bitmap_set(bits, from, to - from + 1);
	}
	return 0;
}

static int sim_parse_mode(const char *s)
{
	int i;

	for (i = 0; i < SIM_NR_MODES; i++)
		if (!strcmp(s, sim_mode_names[i]))
			return i;
	return -EINVAL;
}

/* Numbers above the limit would make QCI report IDs beyond Na/Nd. */
static bool sim_bits_above(unsigned long *bits, unsigned int max)
{
	return find_next_bit(bits, SIM_IDS, max + 1) < SIM_IDS;
}

/*
 * Parse a whole configuration: whitespace-separated key=value tokens,
 * omitted keys take their defaults. Allocates nothing (also used before
 * the slab is up); @s is modified.
 */
static int sim_parse_config(char *s, struct sim_config *cfg)
{
	int na = -1, nd = -1, apxa = 1, type = AP_DEVICE_TYPE_CEX8;
	int mode = SIM_CCA;
	unsigned int val;
	char *tok, *v;

	memset(cfg, 0, sizeof(*cfg));
	while ((tok = strsep(&s, " \t\n")) != NULL) {
		if (!*tok)
			continue;
		v = strchr(tok, '=');
		if (!v)
			return -EINVAL;
		*v++ = '\0';
		if (!strcmp(tok, "adapters")) {
			if (sim_parse_list(v, cfg->apm))
				return -EINVAL;
		} else if (!strcmp(tok, "domains")) {
			if (sim_parse_list(v, cfg->aqm))
				return -EINVAL;
		} else if (!strcmp(tok, "control_domains")) {
			if (sim_parse_list(v, cfg->adm))
				return -EINVAL;
		} else if (!strcmp(tok, "mode")) {
			mode = sim_parse_mode(v);
			if (mode < 0)
				return -EINVAL;
		} else {
			if (sim_kstrtouint(v, &val) || val >= SIM_IDS)
				return -EINVAL;
			if (!strcmp(tok, "type"))
				type = val;
			else if (!strcmp(tok, "apxa") && val <= 1)
				apxa = val;
			else if (!strcmp(tok, "na"))
				na = val;
			else if (!strcmp(tok, "nd"))
				nd = val;
			else
				return -EINVAL;
		}
	}
	/* without APXA there are at most 64 adapters and 16 domains */
	if (na < 0)
		na = apxa ? 255 : 63;
	if (nd < 0)
		nd = apxa ? 255 : 15;
	if (!apxa && (na > 63 || nd > 15))
		return -EINVAL;
	if (sim_bits_above(cfg->apm, na) || sim_bits_above(cfg->aqm, nd) ||
	    sim_bits_above(cfg->adm, nd))
		return -EINVAL;
	cfg->apxa = apxa;
	cfg->na = na;
	cfg->nd = nd;
	cfg->type = type;
	cfg->mode = mode;
	memset(cfg->ap_type, type, sizeof(cfg->ap_type));
	memset(cfg->ap_mode, mode, sizeof(cfg->ap_mode));
	return 0;
}

static void sim_print_list(struct seq_file *m, const char *key,
			   unsigned long *bits)
{
	unsigned int start, end;
	bool first = true;

	seq_printf(m, "%s=", key);
	for_each_set_bitrange(start, end, bits, SIM_IDS) {
		seq_printf(m, first ? "%u" : ",%u", start);
		if (end - start > 1)
			seq_printf(m, "-%u", end - 1);
		first = false;
	}
}

/* ---- applying changes ---- */

/*
 * Make the AP bus see a change before the control write returns, as the
 * machine-check handler does on a real configuration change. A scan that
 * was already running when we changed the model may have missed it; if
 * the first call reports "no change" the second one is sure to start
 * after our change.
 */
static void sim_rescan(void)
{
#if IS_BUILTIN(CONFIG_AP)
	if (!ap_bus_force_rescan())
		ap_bus_force_rescan();
#endif
}

/* Forget the runtime state of queues that left the configuration. */
static void sim_forget_unconfigured_locked(void)
{
	unsigned int card, dom;
	struct sim_queue *q;

	for (card = 0; card < SIM_IDS; card++) {
		if (!sim_blk[card])
			continue;
		for (dom = 0; dom < SIM_IDS; dom++) {
			if (sim_in_config(card, dom))
				continue;
			q = &sim_blk[card][dom];
			sim_drop_replies(q);
			q->flags &= SQ_HANG | SQ_REFILL;
			q->nib = 0;
		}
	}
}

static void sim_prealloc_config(struct sim_config *cfg)
{
	unsigned int card;

	for_each_set_bit(card, cfg->apm, SIM_IDS)
		sim_prealloc(card);
}

/* Install @cfg as the new configuration and tell the AP bus. */
static void sim_apply_config(struct sim_config *cfg)
{
	unsigned long flags;

	sim_prealloc_config(cfg);
	spin_lock_irqsave(&sim_lock, flags);
	sim_boot_config_locked();
	sim_cfg = *cfg;
	sim_forget_unconfigured_locked();
	spin_unlock_irqrestore(&sim_lock, flags);
	sim_rescan();
}

/* ---- debugfs control surface ---- */

static char *sim_get_user_string(const char __user *ubuf, size_t count,
				 size_t max)
{
	if (count > max)
		return ERR_PTR(-EINVAL);
	return memdup_user_nul(ubuf, count);
}

/*
 * A snapshot of the configuration for the readers, which must not wait
 * for the control mutex: a write holds it across a bus rescan.
 */
static struct sim_config *sim_config_snapshot(void)
{
	struct sim_config *cfg;
	unsigned long flags;

	cfg = kmalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return NULL;
	spin_lock_irqsave(&sim_lock, flags);
	sim_boot_config_locked();
	*cfg = sim_cfg;
	spin_unlock_irqrestore(&sim_lock, flags);
	return cfg;
}

static int sim_config_show(struct seq_file *m, void *unused)
{
	struct sim_config *cfg = sim_config_snapshot();

	if (!cfg)
		return -ENOMEM;
	sim_print_list(m, "adapters", cfg->apm);
	sim_print_list(m, " domains", cfg->aqm);
	sim_print_list(m, " control_domains", cfg->adm);
	seq_printf(m, " type=%u mode=%s apxa=%d na=%u nd=%u\n", cfg->type,
		   sim_mode_names[cfg->mode], cfg->apxa, cfg->na, cfg->nd);
	kfree(cfg);
	return 0;
}

static int sim_config_open(struct inode *inode, struct file *file)
{
	return single_open(file, sim_config_show, NULL);
}

static ssize_t sim_config_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	static struct sim_config cfg;
	char *buf;
	int rc;

	buf = sim_get_user_string(ubuf, count, SIM_CFG_MAX - 1);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	mutex_lock(&sim_ctl_mutex);
	rc = sim_parse_config(buf, &cfg);
	if (!rc)
		sim_apply_config(&cfg);
	mutex_unlock(&sim_ctl_mutex);
	kfree(buf);
	return rc ? rc : count;
}

static const struct file_operations sim_config_fops = {
	.owner = THIS_MODULE,
	.open = sim_config_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = sim_config_write,
};

/* One of the add_ and remove_ files: which mask, and add or remove. */
enum sim_edit { SIM_EDIT_APM, SIM_EDIT_AQM, SIM_EDIT_ADM };

struct sim_edit_file {
	const char *name;
	enum sim_edit mask;
	bool add;
};

static const struct sim_edit_file sim_edit_files[] = {
	{ "add_adapter", SIM_EDIT_APM, true },
	{ "remove_adapter", SIM_EDIT_APM, false },
	{ "add_domain", SIM_EDIT_AQM, true },
	{ "remove_domain", SIM_EDIT_AQM, false },
	{ "add_control_domain", SIM_EDIT_ADM, true },
	{ "remove_control_domain", SIM_EDIT_ADM, false },
};

static ssize_t sim_edit_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	const struct sim_edit_file *ef = file->private_data;
	static struct sim_config cfg;
	unsigned long flags, *bits;
	unsigned int id, max;
	char *buf;
	int rc;

	buf = sim_get_user_string(ubuf, count, 32);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	rc = sim_kstrtouint(strim(buf), &id);
	kfree(buf);
	if (rc)
		return -EINVAL;
	mutex_lock(&sim_ctl_mutex);
	spin_lock_irqsave(&sim_lock, flags);
	sim_boot_config_locked();
	cfg = sim_cfg;
	spin_unlock_irqrestore(&sim_lock, flags);
	switch (ef->mask) {
	case SIM_EDIT_APM:
		bits = cfg.apm;
		max = cfg.na;
		break;
	case SIM_EDIT_AQM:
		bits = cfg.aqm;
		max = cfg.nd;
		break;
	default:
		bits = cfg.adm;
		max = cfg.nd;
		break;
	}
	if (id > max) {
		rc = -EINVAL;
	} else {
		if (ef->add)
			set_bit(id, bits);
		else
			clear_bit(id, bits);
		sim_apply_config(&cfg);
	}
	mutex_unlock(&sim_ctl_mutex);
	return rc ? rc : count;
}

static const struct file_operations sim_edit_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_edit_write,
	.llseek = noop_llseek,
};

static int sim_adapter_mode_show(struct seq_file *m, void *unused)
{
	struct sim_config *cfg = sim_config_snapshot();
	unsigned int card;

	if (!cfg)
		return -ENOMEM;
	for_each_set_bit(card, cfg->apm, SIM_IDS)
		seq_printf(m, "%u %u %s\n", card, cfg->ap_type[card],
			   sim_mode_names[cfg->ap_mode[card]]);
	kfree(cfg);
	return 0;
}

static int sim_adapter_mode_open(struct inode *inode, struct file *file)
{
	return single_open(file, sim_adapter_mode_show, NULL);
}

/* "<apid> <type> accel|cca|ep11" */
static ssize_t sim_adapter_mode_write(struct file *file,
				      const char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	static struct sim_config cfg;
	char *buf, *s, *tok[3];
	unsigned int card, type;
	unsigned long flags;
	int i, mode, rc = -EINVAL;

	buf = sim_get_user_string(ubuf, count, 64);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	s = strim(buf);
	for (i = 0; i < 3; i++) {
		do {
			tok[i] = strsep(&s, " \t");
		} while (tok[i] && !*tok[i]);
		if (!tok[i])
			goto out;
	}
	if (s && *skip_spaces(s))
		goto out;
	mode = sim_parse_mode(tok[2]);
	if (sim_kstrtouint(tok[0], &card) || sim_kstrtouint(tok[1], &type) ||
	    card >= SIM_IDS || type >= SIM_IDS || mode < 0)
		goto out;
	mutex_lock(&sim_ctl_mutex);
	spin_lock_irqsave(&sim_lock, flags);
	sim_boot_config_locked();
	cfg = sim_cfg;
	spin_unlock_irqrestore(&sim_lock, flags);
	if (card <= cfg.na) {
		cfg.ap_type[card] = type;
		cfg.ap_mode[card] = mode;
		sim_apply_config(&cfg);
		rc = 0;
	}
	mutex_unlock(&sim_ctl_mutex);
out:
	kfree(buf);
	return rc ? rc : count;
}

static const struct file_operations sim_adapter_mode_fops = {
	.owner = THIS_MODULE,
	.open = sim_adapter_mode_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = sim_adapter_mode_write,
};

/* Apply one fault keyword to a queue. Called with sim_lock held. */
static int sim_fault_apply(struct sim_queue *q, const char *what)
{
	unsigned int val;

	if (!strcmp(what, "clear")) {
		q->stuck_rc = 0;
		q->flags &= ~(SQ_HANG | SQ_REFILL | SQ_PENDING);
		q->aqic_fail_rc = 0;
		q->reset_fail_rc = 0;
		q->reset_fail_cnt = 0;
	} else if (!strcmp(what, "checkstop")) {
		q->stuck_rc = AP_RESPONSE_CHECKSTOPPED;
	} else if (!strcmp(what, "deconfig")) {
		q->stuck_rc = AP_RESPONSE_DECONFIGURED;
	} else if (!strcmp(what, "reset_hang")) {
		q->flags |= SQ_HANG;
	} else if (!strcmp(what, "refill")) {
		q->flags |= SQ_REFILL;
	} else if (!strcmp(what, "busy")) {
		q->reset_fail_rc = AP_RESPONSE_BUSY;
		q->reset_fail_cnt = 1;
	} else if (str_has_prefix(what, "busy=")) {
		if (kstrtouint(what + 5, 10, &val) || val > 255)
			return -EINVAL;
		q->reset_fail_rc = AP_RESPONSE_BUSY;
		q->reset_fail_cnt = val;
	} else if (str_has_prefix(what, "reset_fail=")) {
		char code[4] = {};
		const char *n = strchr(what, ':');
		unsigned int cnt = 1;

		/* <hex>[:<count>]: the next <count> resets fail */
		if (n && (kstrtouint(n + 1, 10, &cnt) || !cnt || cnt > 255))
			return -EINVAL;
		strscpy(code, what + 11, n ? min_t(size_t, n - what - 10,
						   sizeof(code)) : sizeof(code));
		if (kstrtouint(code, 16, &val) || !val || val > 255)
			return -EINVAL;
		q->reset_fail_rc = val;
		q->reset_fail_cnt = cnt;
	} else if (str_has_prefix(what, "aqic_fail=")) {
		if (kstrtouint(what + 10, 16, &val) || !val || val > 255)
			return -EINVAL;
		q->aqic_fail_rc = val;
	} else if (str_has_prefix(what, "rc=")) {
		if (kstrtouint(what + 3, 16, &val) || !val || val > 255)
			return -EINVAL;
		q->stuck_rc = val;
	} else {
		return -EINVAL;
	}
	return 0;
}

/*
 * Apply a valid keyword to @q; true if the queue's state as TAPQ shows it
 * to the AP bus (checkstopped, deconfigured) changed. Called with sim_lock
 * held.
 */
static bool sim_fault_set(struct sim_queue *q, const char *what)
{
	u8 before = q->stuck_rc;

	sim_fault_apply(q, what);
	return q->stuck_rc != before;
}

/* "<aa>.<dddd> <what>" or "all clear" */
static ssize_t sim_fault_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	unsigned int card, dom, i;
	char *buf, *s, *apqn, *what, *dot;
	struct sim_queue scratch = {};
	bool seen_changed = false;
	unsigned long flags;
	int rc = -EINVAL;

	buf = sim_get_user_string(ubuf, count, 64);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	s = strim(buf);
	apqn = strsep(&s, " \t");
	what = s ? skip_spaces(s) : NULL;
	if (!what || !*what || strpbrk(what, " \t"))
		goto out;
	/* check the keyword before touching any queue */
	if (sim_fault_apply(&scratch, what))
		goto out;
	mutex_lock(&sim_ctl_mutex);
	if (!strcmp(apqn, "all")) {
		if (!strcmp(what, "clear")) {
			spin_lock_irqsave(&sim_lock, flags);
			for (card = 0; card < SIM_IDS; card++)
				for (i = 0; sim_blk[card] && i < SIM_IDS; i++)
					seen_changed |= sim_fault_set(&sim_blk[card][i],
								      what);
			spin_unlock_irqrestore(&sim_lock, flags);
			rc = 0;
		}
	} else {
		dot = strchr(apqn, '.');
		if (dot) {
			*dot++ = '\0';
			if (!kstrtouint(apqn, 16, &card) &&
			    !kstrtouint(dot, 16, &dom) &&
			    card < SIM_IDS && dom < SIM_IDS)
				rc = 0;
		}
		if (!rc) {
			sim_prealloc(card);
			spin_lock_irqsave(&sim_lock, flags);
			if (sim_blk[card])
				seen_changed = sim_fault_set(&sim_blk[card][dom],
							     what);
			else
				rc = -ENOMEM;
			spin_unlock_irqrestore(&sim_lock, flags);
		}
	}
	/*
	 * checkstop and deconfig show in the bus only after a scan; a scan
	 * takes about a second on the lab's debug kernel, and every test
	 * starts by clearing all faults, so scan only for a visible change.
	 */
	if (!rc && seen_changed)
		sim_rescan();
	mutex_unlock(&sim_ctl_mutex);
out:
	kfree(buf);
	return rc ? rc : count;
}

static const struct file_operations sim_fault_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_fault_write,
	.llseek = noop_llseek,
};

static int sim_counters_show(struct seq_file *m, void *unused)
{
	unsigned int card, dom;
	struct sim_queue q;
	unsigned long flags;

	for (card = 0; card < SIM_IDS; card++) {
		if (!READ_ONCE(sim_blk[card]))
			continue;
		for (dom = 0; dom < SIM_IDS; dom++) {
			spin_lock_irqsave(&sim_lock, flags);
			q = sim_blk[card][dom];
			spin_unlock_irqrestore(&sim_lock, flags);
			if (!(q.zapq | q.rapq | q.aqic_on | q.aqic_off |
			      q.nqap | q.dqap | q.refills) &&
			    !(q.flags & SQ_IRQ))
				continue;
			seq_printf(m, "%02x.%04x zapq=%u rapq=%u aqic_on=%u aqic_off=%u irq=%d nqap=%u dqap=%u",
				   card, dom, q.zapq, q.rapq, q.aqic_on,
				   q.aqic_off, !!(q.flags & SQ_IRQ), q.nqap,
				   q.dqap);
			if (q.refills)
				seq_printf(m, " refills=%u", q.refills);
			if (q.flags & SQ_IRQ)
				seq_printf(m, " isc=%u gisc=%u gf=%u gisa=0x%x nib=0x%llx",
					   q.isc, q.gisc, q.gf, q.gisa, q.nib);
			seq_putc(m, '\n');
		}
	}
	return 0;
}

static int sim_counters_open(struct inode *inode, struct file *file)
{
	return single_open(file, sim_counters_show, NULL);
}

static ssize_t sim_counters_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	unsigned int card, dom;
	struct sim_queue *q;
	unsigned long flags;

	spin_lock_irqsave(&sim_lock, flags);
	for (card = 0; card < SIM_IDS; card++) {
		for (dom = 0; sim_blk[card] && dom < SIM_IDS; dom++) {
			q = &sim_blk[card][dom];
			q->zapq = 0;
			q->rapq = 0;
			q->aqic_on = 0;
			q->aqic_off = 0;
			q->nqap = 0;
			q->dqap = 0;
			q->refills = 0;
		}
	}
	spin_unlock_irqrestore(&sim_lock, flags);
	return count;
}

static const struct file_operations sim_counters_fops = {
	.owner = THIS_MODULE,
	.open = sim_counters_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = sim_counters_write,
};

static int sim_reset_delay_get(void *data, u64 *val)
{
	*val = READ_ONCE(sim_reset_delay_ms);
	return 0;
}

static int sim_reset_delay_set(void *data, u64 val)
{
	if (val > UINT_MAX)
		return -EINVAL;
	WRITE_ONCE(sim_reset_delay_ms, val);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(sim_reset_delay_fops, sim_reset_delay_get,
			 sim_reset_delay_set, "%llu\n");

static int __init ap_sim_init(void)
{
	struct dentry *dir;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&sim_lock, flags);
	sim_boot_config_locked();
	spin_unlock_irqrestore(&sim_lock, flags);
	sim_prealloc_config(&sim_cfg);

	dir = debugfs_create_dir("ap_sim", NULL);
	debugfs_create_file("config", 0600, dir, NULL, &sim_config_fops);
	for (i = 0; i < ARRAY_SIZE(sim_edit_files); i++)
		debugfs_create_file(sim_edit_files[i].name, 0200, dir,
				    (void *)&sim_edit_files[i],
				    &sim_edit_fops);
	debugfs_create_file("adapter_mode", 0600, dir, NULL,
			    &sim_adapter_mode_fops);
	debugfs_create_file("fault", 0200, dir, NULL, &sim_fault_fops);
	debugfs_create_file("counters", 0600, dir, NULL, &sim_counters_fops);
	debugfs_create_file_unsafe("reset_delay_ms", 0600, dir, NULL,
				   &sim_reset_delay_fops);
	pr_info("AP simulator ready\n");
	return 0;
}

/* before the AP bus (device_initcall) scans for the first time */
arch_initcall(ap_sim_init);

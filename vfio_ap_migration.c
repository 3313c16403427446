// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO migration of a vfio_ap device: the state machine VFIO drives, the
 * data fds that carry the stream of vfio_ap_migration.h, and the checks a
 * target runs before it accepts a source guest's AP configuration.
 *
 * What migrates is small and known in full at any time: the guest's APCB,
 * what each of its queues is, and the guest's interrupt settings.  A
 * saving session therefore snapshots one complete record when it starts
 * and another when the guest stops; reads only copy bytes.  A resuming
 * session checks each record as soon as its last byte is written, so a
 * target that cannot take the guest says so during PRE_COPY, while the
 * source guest still runs; leaving RESUMING checks the final record once
 * more against the host as it is then.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <asm/ap.h>

#include "vfio_ap_migration.h"
#include "vfio_ap_private.h"

/**
 * struct vfio_ap_mig_file - one data fd
 * @filp: the file
 * @lock: serializes reads, writes and the device side's changes
 * @m: the mdev, or NULL once the session ended: the fd may outlive the
 *     device, and then only answers -ENODEV
 * @saving: a saving fd (read) rather than a resuming one (write)
 * @final: saving: the final record is in @buf; resuming: @buf holds a
 *	   complete final record
 * @buf: saving: the bytes to read; resuming: the record being received
 * @len: saving: bytes in @buf; resuming: the record's length from its
 *	 header, 0 while the header is incomplete
 * @pos: saving: bytes read so far; resuming: bytes of the record received
 * @hdr: resuming: the record header being received
 * @err: resuming: the error that ended the session, returned from then on
 */
struct vfio_ap_mig_file {
	struct file *filp;
	struct mutex lock;		/* inside mig_lock, outside cfg_lock */
	struct vfio_ap_mdev *m;
	bool saving;
	bool final;
	u8 *buf;
	size_t len;
	size_t pos;
	struct vfio_ap_mig_header hdr;
	int err;
};

/* --- what a queue is: the TAPQ bits a target must match --- */

static u32 vfio_ap_mig_mode_bits(void)
{
	struct ap_tapq_hwinfo hw = { .value = 0 };

	hw.cca = 1;
	hw.accel = 1;
	hw.ep11 = 1;
	return hw.fac;
}

/* Facilities a guest may have used; the target must have them too. */
static u32 vfio_ap_mig_cap_bits(void)
{
	struct ap_tapq_hwinfo hw = { .value = 0 };

	hw.apsc = 1;
	hw.mex4k = 1;
	hw.crt4k = 1;
	hw.slcf = 1;
	return hw.fac;
}

static const char *vfio_ap_mig_mode_name(u32 fac)
{
	struct ap_tapq_hwinfo hw = { .value = 0 };

	hw.fac = fac & vfio_ap_mig_mode_bits();
	if (hw.fac == 0)
		return "none";
	if (hw.cca && !hw.accel && !hw.ep11)
		return "CCA";
	if (hw.accel && !hw.cca && !hw.ep11)
		return "accelerator";
	if (hw.ep11 && !hw.cca && !hw.accel)
		return "EP11";
	return "mixed";
}

static const struct ap_tapq_hwinfo *vfio_ap_mig_hwinfo(struct vfio_ap_queue *q)
{
	return &q->apq->card->hwinfo;
}

/* --- the source: records --- */

static bool vfio_ap_mig_protected(struct vfio_ap_mdev *m)
{
	return m->kvm && READ_ONCE(m->kvm->arch.pv.handle);
}

/* Context: cfg_lock held. */
static size_t vfio_ap_mig_guest_queues(struct vfio_ap_mdev *m)
{
	vfio_ap_assert_cfg_locked();
	return bitmap_weight(m->guest.apm, VFIO_AP_MAX_ADAPTERS) *
	       bitmap_weight(m->guest.aqm, VFIO_AP_MAX_DOMAINS);
}

static void vfio_ap_mig_fill_queue(struct vfio_ap_mig_queue *e,
				   struct vfio_ap_mdev *m,
				   struct vfio_ap_queue *q)
{
	const struct ap_tapq_hwinfo *hw = vfio_ap_mig_hwinfo(q);
	dma_addr_t nib;
	u8 gisc;

	e->apqn = cpu_to_be16(q->qid);
	e->type = hw->at;
	e->ml = hw->ml;
	e->facilities = cpu_to_be32(hw->fac);
	if (vfio_ap_irq_get(q, m, &gisc, &nib)) {
		e->irq_flags = VFIO_AP_MIG_IRQ_ON;
		e->isc = gisc;
		e->nib = cpu_to_be64(nib);
	}
}

/* Every APQN of the guest is a bound queue (abi.md 5); check it anyway. */
static int vfio_ap_mig_fill_queues(struct vfio_ap_mig_queue *e,
				   struct vfio_ap_mdev *m)
{
	struct vfio_ap_queue *q;
	unsigned long apid, apqi;

	vfio_ap_assert_cfg_locked();
	vfio_ap_assert_state_locked();
	for_each_set_bit_inv(apid, m->guest.apm, VFIO_AP_MAX_ADAPTERS) {
		for_each_set_bit_inv(apqi, m->guest.aqm, VFIO_AP_MAX_DOMAINS) {
			q = vfio_ap_queue_lookup(apid, apqi);
			if (!q)
				return -ENODEV;
			vfio_ap_mig_fill_queue(e++, m, q);
		}
	}

	return 0;
}

/*
 * One record of the guest as it is now.  The buffer is sized under
 * cfg_lock, which every change of the guest's APCB holds; the interrupt
 * settings are read under state_lock, which AQIC holds.
 */
static int vfio_ap_mig_record(struct vfio_ap_mdev *m, bool final, u8 **rec,
			      size_t *len)
{
	struct vfio_ap_mig_header *hdr;
	struct vfio_ap_mig_apcb *apcb;
	size_t n;
	int ret;

	mutex_lock(&vfio_ap_drv.cfg_lock);
	n = vfio_ap_mig_guest_queues(m);
	*len = vfio_ap_mig_record_len(n);
	*rec = kvzalloc(*len, GFP_KERNEL_ACCOUNT);
	if (!*rec) {
		mutex_unlock(&vfio_ap_drv.cfg_lock);
		return -ENOMEM;
	}
	hdr = (struct vfio_ap_mig_header *)*rec;
	apcb = (struct vfio_ap_mig_apcb *)(hdr + 1);
	hdr->magic = cpu_to_be32(VFIO_AP_MIG_MAGIC);
	hdr->version = cpu_to_be16(VFIO_AP_MIG_VERSION);
	hdr->header_len = cpu_to_be16(sizeof(*hdr));
	hdr->total_len = cpu_to_be32(*len);
	hdr->flags = cpu_to_be32(final ? VFIO_AP_MIG_FINAL : 0);
	hdr->nr_queues = cpu_to_be32(n);
	hdr->entry_len = cpu_to_be16(sizeof(struct vfio_ap_mig_queue));
	/* Our bitmaps are MSB-0, as the stream's masks: a copy converts. */
	memcpy(apcb->apm, m->guest.apm, sizeof(apcb->apm));
	memcpy(apcb->aqm, m->guest.aqm, sizeof(apcb->aqm));
	memcpy(apcb->adm, m->guest.adm, sizeof(apcb->adm));

	mutex_lock(&vfio_ap_drv.state_lock);
	ret = vfio_ap_mig_fill_queues((struct vfio_ap_mig_queue *)(apcb + 1), m);
	mutex_unlock(&vfio_ap_drv.state_lock);
	mutex_unlock(&vfio_ap_drv.cfg_lock);
	if (ret) {
		kvfree(*rec);
		*rec = NULL;
	}

	return ret;
}

/* --- the target: checking a record --- */

static void vfio_ap_mig_apcb_get(struct vfio_ap_apcb *apcb,
				 const struct vfio_ap_mig_apcb *s)
{
	memcpy(apcb->apm, s->apm, sizeof(s->apm));
	memcpy(apcb->aqm, s->aqm, sizeof(s->aqm));
	memcpy(apcb->adm, s->adm, sizeof(s->adm));
}

/* The header alone, as soon as it is complete. */
static int vfio_ap_mig_check_header(struct vfio_ap_mdev *m,
				    const struct vfio_ap_mig_header *hdr)
{
	struct device *dev = vfio_ap_mdev_dev(m);
	u32 n = be32_to_cpu(hdr->nr_queues);

	if (be32_to_cpu(hdr->magic) != VFIO_AP_MIG_MAGIC) {
		dev_warn(dev, "migration stream: bad magic %#010x\n",
			 be32_to_cpu(hdr->magic));
		return -EINVAL;
	}
	if (be16_to_cpu(hdr->version) != VFIO_AP_MIG_VERSION) {
		dev_warn(dev, "migration stream: version %u, this driver reads %u\n",
			 be16_to_cpu(hdr->version), VFIO_AP_MIG_VERSION);
		return -EINVAL;
	}
	if (be16_to_cpu(hdr->header_len) != sizeof(*hdr) ||
	    be16_to_cpu(hdr->entry_len) != sizeof(struct vfio_ap_mig_queue) ||
	    n > VFIO_AP_MIG_MAX_QUEUES ||
	    be32_to_cpu(hdr->total_len) != vfio_ap_mig_record_len(n) ||
	    be32_to_cpu(hdr->flags) & ~VFIO_AP_MIG_FINAL ||
	    memchr_inv(hdr->reserved, 0, sizeof(hdr->reserved))) {
		dev_warn(dev, "migration stream: malformed record header\n");
		return -EINVAL;
	}

	return 0;
}

static int vfio_ap_mig_check_entry(struct vfio_ap_mdev *m,
				   const struct vfio_ap_mig_queue *e,
				   unsigned long apid, unsigned long apqi)
{
	bool on = e->irq_flags & VFIO_AP_MIG_IRQ_ON;

	if (be16_to_cpu(e->apqn) != AP_MKQID(apid, apqi) ||
	    e->irq_flags & ~VFIO_AP_MIG_IRQ_ON ||
	    memchr_inv(e->reserved, 0, sizeof(e->reserved)) ||
	    e->isc > 7 || (on && !e->nib) || (!on && (e->isc || e->nib))) {
		dev_warn(vfio_ap_mdev_dev(m),
			 "migration stream: malformed entry for queue %02lx.%04lx\n",
			 apid, apqi);
		return -EINVAL;
	}

	return 0;
}

/* The queue entries of a record whose header passed, and their end. */
static const struct vfio_ap_mig_queue *vfio_ap_mig_entries(const u8 *rec)
{
	return (const void *)(rec + vfio_ap_mig_record_len(0));
}

static const struct vfio_ap_mig_queue *vfio_ap_mig_entries_end(const u8 *rec)
{
	const struct vfio_ap_mig_header *hdr = (const void *)rec;

	return vfio_ap_mig_entries(rec) + be32_to_cpu(hdr->nr_queues);
}

/* A record whose header passed: entries match the APCB, one per APQN. */
static int vfio_ap_mig_check_body(struct vfio_ap_mdev *m, const u8 *rec,
				  struct vfio_ap_apcb *apcb)
{
	const struct vfio_ap_mig_header *hdr = (const void *)rec;
	const struct vfio_ap_mig_apcb *s = (const void *)(hdr + 1);
	const struct vfio_ap_mig_queue *e = (const void *)(s + 1);
	unsigned long apid, apqi;
	int ret;

	vfio_ap_mig_apcb_get(apcb, s);
	if (be32_to_cpu(hdr->nr_queues) !=
	    bitmap_weight(apcb->apm, VFIO_AP_MAX_ADAPTERS) *
	    bitmap_weight(apcb->aqm, VFIO_AP_MAX_DOMAINS)) {
		dev_warn(vfio_ap_mdev_dev(m),
			 "migration stream: %u entries do not match the APCB\n",
			 be32_to_cpu(hdr->nr_queues));
		return -EINVAL;
	}
	for_each_set_bit_inv(apid, apcb->apm, VFIO_AP_MAX_ADAPTERS) {
		for_each_set_bit_inv(apqi, apcb->aqm, VFIO_AP_MAX_DOMAINS) {
			ret = vfio_ap_mig_check_entry(m, e++, apid, apqi);
			if (ret)
				return ret;
		}
	}

	return 0;
}

/* Why the target guest cannot have an APQN of the source guest, if so. */
static const char *vfio_ap_mig_queue_missing(struct vfio_ap_mdev *m,
					     unsigned long apid,
					     unsigned long apqi)
{
	struct vfio_ap_queue *q;

	vfio_ap_assert_cfg_locked();
	if (!test_bit_inv(apid, m->assigned.apm) ||
	    !test_bit_inv(apqi, m->assigned.aqm))
		return "not assigned to this mdev";
	if (!vfio_ap_host_has_queue(AP_MKQID(apid, apqi)))
		return "not in the host's AP configuration";
	q = vfio_ap_queue_lookup(apid, apqi);
	if (!q)
		return "not bound to vfio_ap";
	if (!vfio_ap_queue_usable(q))
		return "not usable (being removed, or its reset failed)";

	return NULL;
}

static int vfio_ap_mig_check_hw(struct vfio_ap_mdev *m,
				const struct vfio_ap_mig_queue *e,
				unsigned long apid, unsigned long apqi)
{
	const struct ap_tapq_hwinfo *hw;
	struct device *dev = vfio_ap_mdev_dev(m);
	u32 fac = be32_to_cpu(e->facilities);
	u32 mode = vfio_ap_mig_mode_bits(), caps = vfio_ap_mig_cap_bits();

	hw = vfio_ap_mig_hwinfo(vfio_ap_queue_lookup(apid, apqi));
	if (hw->at != e->type) {
		dev_warn(dev, "migration: queue %02lx.%04lx: adapter type %u here, %u on the source\n",
			 apid, apqi, hw->at, e->type);
		return -EOPNOTSUPP;
	}
	if ((hw->fac & mode) != (fac & mode)) {
		dev_warn(dev, "migration: queue %02lx.%04lx: %s mode here, %s on the source\n",
			 apid, apqi, vfio_ap_mig_mode_name(hw->fac),
			 vfio_ap_mig_mode_name(fac));
		return -EOPNOTSUPP;
	}
	if (fac & caps & ~hw->fac) {
		dev_warn(dev, "migration: queue %02lx.%04lx: lacks facilities %#010x the source had\n",
			 apid, apqi, fac & caps & ~hw->fac);
		return -EOPNOTSUPP;
	}
	if (hw->ml < e->ml) {
		dev_warn(dev, "migration: queue %02lx.%04lx: message size code %u here, %u on the source\n",
			 apid, apqi, hw->ml, e->ml);
		return -EOPNOTSUPP;
	}

	return 0;
}

/* The NIB must be memory of the target guest: the pin depends on it. */
static int vfio_ap_mig_check_nib(struct vfio_ap_mdev *m,
				 const struct vfio_ap_mig_queue *e,
				 unsigned long apid, unsigned long apqi)
{
	u64 nib = be64_to_cpu(e->nib);

	if (!(e->irq_flags & VFIO_AP_MIG_IRQ_ON) ||
	    vfio_ap_irq_nib_in_guest(m->kvm, nib))
		return 0;
	dev_warn(vfio_ap_mdev_dev(m),
		 "migration: queue %02lx.%04lx: NIB %#llx is not memory of the guest here\n",
		 apid, apqi, nib);
	return -EINVAL;
}

static int vfio_ap_mig_check_queues(struct vfio_ap_mdev *m, const u8 *rec,
				    const struct vfio_ap_apcb *apcb)
{
	const struct vfio_ap_mig_queue *e;
	unsigned long apid, apqi;
	const char *why;
	int ret;

	vfio_ap_assert_cfg_locked();
	e = vfio_ap_mig_entries(rec);
	for_each_set_bit_inv(apid, apcb->apm, VFIO_AP_MAX_ADAPTERS) {
		for_each_set_bit_inv(apqi, apcb->aqm, VFIO_AP_MAX_DOMAINS) {
			why = vfio_ap_mig_queue_missing(m, apid, apqi);
			if (why) {
				dev_warn(vfio_ap_mdev_dev(m),
					 "migration: queue %02lx.%04lx: %s\n",
					 apid, apqi, why);
				return -ENODEV;
			}
			ret = vfio_ap_mig_check_hw(m, e, apid, apqi);
			if (!ret)
				ret = vfio_ap_mig_check_nib(m, e, apid, apqi);
			if (ret)
				return ret;
			e++;
		}
	}

	return 0;
}

static int vfio_ap_mig_check_control(struct vfio_ap_mdev *m,
				     const struct vfio_ap_apcb *apcb)
{
	const struct vfio_ap_apcb *host = vfio_ap_host_config();
	unsigned long dom;

	vfio_ap_assert_cfg_locked();
	for_each_set_bit_inv(dom, apcb->adm, VFIO_AP_MAX_DOMAINS) {
		if (test_bit_inv(dom, m->assigned.adm) &&
		    test_bit_inv(dom, host->adm))
			continue;
		dev_warn(vfio_ap_mdev_dev(m),
			 "migration: control domain %04lx: %s\n", dom,
			 test_bit_inv(dom, m->assigned.adm) ?
			 "not in the host's AP configuration" :
			 "not assigned to this mdev");
		return -ENODEV;
	}

	return 0;
}

/* The first ID set in @a and not in @b, or -1. */
static long vfio_ap_mig_first_extra(const unsigned long *a,
				    const unsigned long *b)
{
	unsigned long id;

	for_each_set_bit_inv(id, a, VFIO_AP_MAX_DOMAINS)
		if (!test_bit_inv(id, b))
			return id;
	return -1;
}

/*
 * Every APQN and control domain of the source guest is here and fits; the
 * target guest must now see exactly the source APCB.  What is left to
 * differ: the target grants more, or withholds an adapter because one of
 * its queues over the target's domains is not usable.
 */
static int vfio_ap_mig_check_view(struct vfio_ap_mdev *m,
				  const struct vfio_ap_apcb *apcb)
{
	static const char * const what[] = { "adapter", "domain",
					     "control domain" };
	const unsigned long *here[] = { m->guest.apm, m->guest.aqm,
					m->guest.adm };
	const unsigned long *src[] = { apcb->apm, apcb->aqm, apcb->adm };
	struct device *dev = vfio_ap_mdev_dev(m);
	long id;
	int i;

	vfio_ap_assert_cfg_locked();
	for (i = 0; i < ARRAY_SIZE(what); i++) {
		id = vfio_ap_mig_first_extra(src[i], here[i]);
		if (id >= 0) {
			dev_warn(dev, "migration: %s %02lx: withheld from the guest here (a queue of it is not usable)\n",
				 what[i], id);
			return -ENODEV;
		}
		id = vfio_ap_mig_first_extra(here[i], src[i]);
		if (id >= 0) {
			dev_warn(dev, "migration: %s %02lx: the guest would get it here, the source guest did not have it\n",
				 what[i], id);
			return -EEXIST;
		}
	}

	return 0;
}

/* A complete record, against this mdev and this host as they are now. */
static int vfio_ap_mig_check_record(struct vfio_ap_mdev *m, const u8 *rec)
{
	struct vfio_ap_apcb apcb;
	int ret;

	ret = vfio_ap_mig_check_body(m, rec, &apcb);
	if (ret)
		return ret;

	mutex_lock(&vfio_ap_drv.cfg_lock);
	ret = vfio_ap_mig_check_queues(m, rec, &apcb);
	if (!ret)
		ret = vfio_ap_mig_check_control(m, &apcb);
	if (!ret)
		ret = vfio_ap_mig_check_view(m, &apcb);
	mutex_unlock(&vfio_ap_drv.cfg_lock);

	return ret;
}

/* --- data fds --- */

static ssize_t vfio_ap_mig_read(struct file *filp, char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct vfio_ap_mig_file *f = filp->private_data;
	ssize_t ret;

	mutex_lock(&f->lock);
	if (!f->m) {
		ret = -ENODEV;
	} else if (f->pos == f->len) {
		/* PRE_COPY's end of stream is temporary (VFIO uAPI). */
		ret = f->final ? 0 : -ENOMSG;
	} else {
		len = min(len, f->len - f->pos);
		ret = copy_to_user(ubuf, f->buf + f->pos, len) ? -EFAULT : len;
		if (ret > 0)
			f->pos += len;
	}
	mutex_unlock(&f->lock);

	return ret;
}

/* Take up to @len bytes of the header; 0 or -errno once it is complete. */
static int vfio_ap_mig_take_header(struct vfio_ap_mig_file *f,
				   const char __user **ubuf, size_t *len)
{
	size_t n = min(*len, sizeof(f->hdr) - f->pos);
	int ret;

	if (copy_from_user((u8 *)&f->hdr + f->pos, *ubuf, n))
		return -EFAULT;
	f->pos += n;
	*ubuf += n;
	*len -= n;
	if (f->pos < sizeof(f->hdr))
		return 0;

	ret = vfio_ap_mig_check_header(f->m, &f->hdr);
	if (ret)
		return ret;
	f->len = be32_to_cpu(f->hdr.total_len);
	f->buf = kvzalloc(f->len, GFP_KERNEL_ACCOUNT);
	if (!f->buf)
		return -ENOMEM;
	memcpy(f->buf, &f->hdr, sizeof(f->hdr));

	return 0;
}

/* A record is complete: check it; keep it if it is the final one. */
static int vfio_ap_mig_record_done(struct vfio_ap_mig_file *f)
{
	int ret = vfio_ap_mig_check_record(f->m, f->buf);

	if (ret)
		return ret;
	if (be32_to_cpu(f->hdr.flags) & VFIO_AP_MIG_FINAL) {
		f->final = true;
		return 0;
	}
	kvfree(f->buf);
	f->buf = NULL;
	f->len = 0;
	f->pos = 0;

	return 0;
}

static int vfio_ap_mig_take(struct vfio_ap_mig_file *f,
			    const char __user *ubuf, size_t len)
{
	size_t n;
	int ret;

	while (len) {
		if (f->final) {
			dev_warn(vfio_ap_mdev_dev(f->m),
				 "migration stream: %zu bytes after the final record\n",
				 len);
			return -EFBIG;
		}
		if (!f->buf) {
			ret = vfio_ap_mig_take_header(f, &ubuf, &len);
			if (ret)
				return ret;
			continue;
		}
		n = min(len, f->len - f->pos);
		if (copy_from_user(f->buf + f->pos, ubuf, n))
			return -EFAULT;
		f->pos += n;
		ubuf += n;
		len -= n;
		if (f->pos == f->len) {
			ret = vfio_ap_mig_record_done(f);
			if (ret)
				return ret;
		}
	}

	return 0;
}

/*
 * Any error spoils the session: the device then refuses to leave
 * RESUMING, and only a device reset ends it.  Nothing is applied to the
 * device before RESUMING is left, so there is nothing to undo.
 */
static ssize_t vfio_ap_mig_write(struct file *filp, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct vfio_ap_mig_file *f = filp->private_data;
	ssize_t ret;

	mutex_lock(&f->lock);
	if (!f->m) {
		ret = -ENODEV;
	} else if (f->err) {
		ret = f->err;
	} else {
		ret = vfio_ap_mig_take(f, ubuf, len);
		f->err = ret;
		if (!ret)
			ret = len;
	}
	mutex_unlock(&f->lock);

	return ret;
}

static long vfio_ap_mig_precopy_info(struct vfio_ap_mig_file *f,
				     unsigned long arg)
{
	const size_t minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info = {};
	long ret = 0;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&f->lock);
	if (!f->m || !f->saving || f->final) {
		/* Valid in PRE_COPY and PRE_COPY_P2P only. */
		ret = -EINVAL;
	} else {
		/* Changes while the guest runs come in the final record. */
		info.initial_bytes = f->len - f->pos;
		info.dirty_bytes = 0;
	}
	mutex_unlock(&f->lock);
	if (ret)
		return ret;

	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static long vfio_ap_mig_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	return vfio_ap_mig_precopy_info(filp->private_data, arg);
}

static int vfio_ap_mig_release_file(struct inode *inode, struct file *filp)
{
	struct vfio_ap_mig_file *f = filp->private_data;

	/* The device side holds a reference until it ends the session. */
	kvfree(f->buf);
	mutex_destroy(&f->lock);
	kfree(f);

	return 0;
}

static const struct file_operations vfio_ap_mig_save_fops = {
	.owner = THIS_MODULE,
	.read = vfio_ap_mig_read,
	.unlocked_ioctl = vfio_ap_mig_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = vfio_ap_mig_release_file,
};

static const struct file_operations vfio_ap_mig_resume_fops = {
	.owner = THIS_MODULE,
	.write = vfio_ap_mig_write,
	.unlocked_ioctl = vfio_ap_mig_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = vfio_ap_mig_release_file,
};

/*
 * A new session's fd; @m keeps a reference to it (m->mig_file) until the
 * session ends, the VMM gets the other.
 */
static struct vfio_ap_mig_file *vfio_ap_mig_file_new(struct vfio_ap_mdev *m,
						     bool saving)
{
	struct vfio_ap_mig_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return ERR_PTR(-ENOMEM);
	mutex_init(&f->lock);
	f->m = m;
	f->saving = saving;
	f->filp = anon_inode_getfile("vfio_ap_mig", saving ?
				     &vfio_ap_mig_save_fops :
				     &vfio_ap_mig_resume_fops,
				     f, saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(f->filp)) {
		struct file *filp = f->filp;

		mutex_destroy(&f->lock);
		kfree(f);
		return ERR_CAST(filp);
	}
	stream_open(f->filp->f_inode, f->filp);
	get_file(f->filp);

	return f;
}

/* End the session: the fd answers -ENODEV from now on. */
static void vfio_ap_mig_file_end(struct vfio_ap_mdev *m)
{
	struct vfio_ap_mig_file *f = m->mig_file;

	lockdep_assert_held(&m->mig_lock);
	if (!f)
		return;
	mutex_lock(&f->lock);
	f->m = NULL;
	kvfree(f->buf);
	f->buf = NULL;
	f->len = 0;
	f->pos = 0;
	mutex_unlock(&f->lock);
	m->mig_file = NULL;
	fput(f->filp);
}

/* --- the arcs --- */

static struct file *vfio_ap_mig_start_saving(struct vfio_ap_mdev *m,
					     bool final)
{
	struct vfio_ap_mig_file *f;
	int ret;

	if (vfio_ap_mig_protected(m))
		return ERR_PTR(-EOPNOTSUPP);
	f = vfio_ap_mig_file_new(m, true);
	if (IS_ERR(f))
		return ERR_CAST(f);
	ret = vfio_ap_mig_record(m, final, &f->buf, &f->len);
	if (ret) {
		/* Both references: the VMM never saw this fd. */
		fput(f->filp);
		fput(f->filp);
		return ERR_PTR(ret);
	}
	f->final = final;
	m->mig_file = f;

	return f->filp;
}

/* PRE_COPY_P2P -> STOP_COPY: the same fd goes on with the final record. */
static int vfio_ap_mig_add_final(struct vfio_ap_mdev *m)
{
	struct vfio_ap_mig_file *f = m->mig_file;
	size_t len, rest;
	u8 *rec, *buf;
	int ret;

	ret = vfio_ap_mig_record(m, true, &rec, &len);
	if (ret)
		return ret;

	mutex_lock(&f->lock);
	rest = f->len - f->pos;
	buf = kvzalloc(rest + len, GFP_KERNEL_ACCOUNT);
	if (buf) {
		memcpy(buf, f->buf + f->pos, rest);
		memcpy(buf + rest, rec, len);
		kvfree(f->buf);
		f->buf = buf;
		f->len = rest + len;
		f->pos = 0;
		f->final = true;
	}
	mutex_unlock(&f->lock);
	kvfree(rec);

	return buf ? 0 : -ENOMEM;
}

static struct file *vfio_ap_mig_start_resuming(struct vfio_ap_mdev *m)
{
	struct vfio_ap_mig_file *f;

	if (vfio_ap_mig_protected(m))
		return ERR_PTR(-EOPNOTSUPP);
	f = vfio_ap_mig_file_new(m, false);
	if (IS_ERR(f))
		return ERR_CAST(f);
	m->mig_file = f;

	return f->filp;
}

static void vfio_ap_mig_unrestore(struct vfio_ap_mdev *m,
				  const struct vfio_ap_mig_queue *e,
				  const struct vfio_ap_mig_queue *end)
{
	for (; e < end; e++)
		if (e->irq_flags & VFIO_AP_MIG_IRQ_ON)
			vfio_ap_irq_unrestore(m, be16_to_cpu(e->apqn));
}

/*
 * The queues whose interrupts come back start from a reset, as after the
 * open: one that came into the host since then was reset by the AP bus,
 * which turned its own interrupts on, and AQIC would find them on.  The
 * target's guest has not run, so the reset takes nothing from it.  A
 * reset that fails withholds its queue, which the record's check then
 * names.
 */
static int vfio_ap_mig_reset_irq_queues(struct vfio_ap_mdev *m, const u8 *rec)
{
	const struct vfio_ap_mig_queue *e, *end = vfio_ap_mig_entries_end(rec);
	struct vfio_ap_queue *q;
	unsigned int withheld;
	LIST_HEAD(resets);
	u16 qid;

	mutex_lock(&vfio_ap_drv.cfg_lock);
	for (e = vfio_ap_mig_entries(rec); e < end; e++) {
		if (!(e->irq_flags & VFIO_AP_MIG_IRQ_ON))
			continue;
		qid = be16_to_cpu(e->apqn);
		q = vfio_ap_queue_lookup(vfio_ap_qid_apid(qid),
					 vfio_ap_qid_apqi(qid));
		if (q && vfio_ap_queue_owner(q) == m)
			vfio_ap_reset_batch_add(&resets, q);
	}
	withheld = vfio_ap_guest_run_resets(&resets);
	mutex_unlock(&vfio_ap_drv.cfg_lock);

	return withheld ? vfio_ap_mig_check_record(m, rec) : 0;
}

/*
 * Interrupts back on as the source guest had them, all or none: a queue
 * that refuses turns off those enabled before it.
 */
static int vfio_ap_mig_restore_irqs(struct vfio_ap_mdev *m, const u8 *rec)
{
	const struct vfio_ap_mig_queue *first = vfio_ap_mig_entries(rec);
	const struct vfio_ap_mig_queue *e, *end = vfio_ap_mig_entries_end(rec);
	u16 qid;
	u8 rc;

	for (e = first; e < end; e++) {
		if (!(e->irq_flags & VFIO_AP_MIG_IRQ_ON))
			continue;
		qid = be16_to_cpu(e->apqn);
		rc = vfio_ap_irq_restore(m, qid, e->isc, be64_to_cpu(e->nib));
		if (rc == AP_RESPONSE_NORMAL)
			continue;
		dev_warn(vfio_ap_mdev_dev(m),
			 "migration: queue %02x.%04x: interrupts not restored, response code %#04x\n",
			 vfio_ap_qid_apid(qid), vfio_ap_qid_apqi(qid), rc);
		vfio_ap_mig_unrestore(m, first, e);
		return -EIO;
	}

	return 0;
}

/*
 * RESUMING -> STOP: the final record, checked once more against the host
 * as it is now, then the guest's interrupts restored.  On failure the
 * device stays in RESUMING and the session is spoiled.  The record stays
 * put after the lock is dropped: the final record takes no more writes,
 * and only a holder of mig_lock ends the session.
 */
static int vfio_ap_mig_load(struct vfio_ap_mdev *m)
{
	struct vfio_ap_mig_file *f = m->mig_file;
	int ret;

	mutex_lock(&f->lock);
	if (f->err) {
		ret = f->err;
	} else if (!f->final) {
		dev_warn(vfio_ap_mdev_dev(m),
			 "migration stream: incomplete, no final record\n");
		ret = -EINVAL;
	} else {
		ret = vfio_ap_mig_check_record(m, f->buf);
	}
	f->err = ret;
	mutex_unlock(&f->lock);
	if (ret)
		return ret;

	ret = vfio_ap_mig_reset_irq_queues(m, f->buf);
	if (!ret)
		ret = vfio_ap_mig_restore_irqs(m, f->buf);
	if (ret) {
		mutex_lock(&f->lock);
		f->err = ret;
		mutex_unlock(&f->lock);
	}

	return ret;
}

static struct file *vfio_ap_mig_step(struct vfio_ap_mdev *m,
				     enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = m->mig_state;
	int ret = 0;

	lockdep_assert_held(&m->mig_lock);
	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_PRE_COPY) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     next == VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return vfio_ap_mig_start_saving(m, false);
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_STOP_COPY)
		return vfio_ap_mig_start_saving(m, true);
	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_RESUMING)
		return vfio_ap_mig_start_resuming(m);

	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		ret = vfio_ap_mig_add_final(m);
	} else if (cur == VFIO_DEVICE_STATE_RESUMING) {
		ret = vfio_ap_mig_load(m);
		if (!ret)
			vfio_ap_mig_file_end(m);
	} else if (cur == VFIO_DEVICE_STATE_STOP_COPY ||
		   (cur == VFIO_DEVICE_STATE_PRE_COPY &&
		    next == VFIO_DEVICE_STATE_RUNNING) ||
		   (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
		    next == VFIO_DEVICE_STATE_RUNNING_P2P)) {
		vfio_ap_mig_file_end(m);
	}
	/*
	 * The arcs between RUNNING, RUNNING_P2P and STOP, and between the
	 * two PRE_COPY states, change nothing: the adapters do no DMA and
	 * no peer to peer, and with the vCPUs stopped no AQIC changes the
	 * guest's interrupt settings.
	 */
	return ret ? ERR_PTR(ret) : NULL;
}

static struct file *vfio_ap_mig_set_state(struct vfio_device *vdev,
					  enum vfio_device_mig_state new)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&m->mig_lock);
	while (m->mig_state != new) {
		ret = vfio_mig_get_next_state(vdev, m->mig_state, new, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = vfio_ap_mig_step(m, next);
		if (IS_ERR(res))
			break;
		m->mig_state = next;
		/* Only the last arc of a path may open a session. */
		if (WARN_ON(res && next != new)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&m->mig_lock);

	return res;
}

static int vfio_ap_mig_get_state(struct vfio_device *vdev,
				 enum vfio_device_mig_state *state)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);

	mutex_lock(&m->mig_lock);
	*state = m->mig_state;
	mutex_unlock(&m->mig_lock);

	return 0;
}

static int vfio_ap_mig_get_data_size(struct vfio_device *vdev,
				     unsigned long *stop_copy_length)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);

	mutex_lock(&vfio_ap_drv.cfg_lock);
	*stop_copy_length = vfio_ap_mig_record_len(vfio_ap_mig_guest_queues(m));
	mutex_unlock(&vfio_ap_drv.cfg_lock);

	return 0;
}

static const struct vfio_migration_ops vfio_ap_mig_ops = {
	.migration_set_state = vfio_ap_mig_set_state,
	.migration_get_state = vfio_ap_mig_get_state,
	.migration_get_data_size = vfio_ap_mig_get_data_size,
};

/**
 * vfio_ap_mig_init() - offer VFIO migration on a new vfio_ap device
 * @m: the mdev, from the VFIO device's init callback
 */
void vfio_ap_mig_init(struct vfio_ap_mdev *m)
{
	mutex_init(&m->mig_lock);
	m->mig_state = VFIO_DEVICE_STATE_RUNNING;
	m->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY |
				  VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY;
	m->vdev.mig_ops = &vfio_ap_mig_ops;
}

/**
 * vfio_ap_mig_release() - free what vfio_ap_mig_init() set up
 * @m: the mdev, from the VFIO device's release callback
 */
void vfio_ap_mig_release(struct vfio_ap_mdev *m)
{
	mutex_destroy(&m->mig_lock);
}

/**
 * vfio_ap_mig_reset() - end any migration session, back to RUNNING
 * @m: the mdev, on VFIO_DEVICE_RESET and on close
 *
 * A data fd the VMM still holds answers -ENODEV from now on.
 */
void vfio_ap_mig_reset(struct vfio_ap_mdev *m)
{
	mutex_lock(&m->mig_lock);
	vfio_ap_mig_file_end(m);
	m->mig_state = VFIO_DEVICE_STATE_RUNNING;
	mutex_unlock(&m->mig_lock);
}

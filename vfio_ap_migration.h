/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vfio_ap migration stream, version 1: what a source host's data fd
 * yields and a target host's data fd takes.  VFIO calls the stream opaque
 * to the VMM; it travels between hosts, so every field has a fixed size
 * and offset and is big-endian, and a reader can check every byte.
 * Documentation/arch/s390/vfio-ap.rst ("Migration stream") describes it
 * in words.
 *
 * A stream is one or two records back to back.  A record is a header, the
 * guest's APCB, and one entry per APQN of that APCB (adapters in the outer
 * loop, ascending).  The record read in PRE_COPY lets the target check
 * its resources while the source guest still runs; the last record, which
 * has VFIO_AP_MIG_FINAL set, is read in STOP_COPY and is the one the
 * target takes.
 */
#ifndef _VFIO_AP_MIGRATION_H_
#define _VFIO_AP_MIGRATION_H_

#include <linux/build_bug.h>
#include <linux/types.h>

#define VFIO_AP_MIG_MAGIC	0x5641504dU	/* "VAPM" */
#define VFIO_AP_MIG_VERSION	1

/* Header flags */
#define VFIO_AP_MIG_FINAL	0x00000001U	/* read in STOP_COPY */

/* Queue entry irq_flags */
#define VFIO_AP_MIG_IRQ_ON	0x01		/* the guest enabled AQIC */

/* At most every APQN: 256 adapters x 256 domains. */
#define VFIO_AP_MIG_MAX_QUEUES	(256U * 256U)

/**
 * struct vfio_ap_mig_header - start of a record
 * @magic: VFIO_AP_MIG_MAGIC
 * @version: VFIO_AP_MIG_VERSION
 * @header_len: sizeof(struct vfio_ap_mig_header)
 * @total_len: bytes of the whole record, this header included
 * @flags: VFIO_AP_MIG_FINAL or 0; other bits are zero
 * @nr_queues: entries that follow the APCB
 * @entry_len: sizeof(struct vfio_ap_mig_queue)
 * @reserved: zero
 */
struct vfio_ap_mig_header {
	__be32 magic;
	__be16 version;
	__be16 header_len;
	__be32 total_len;
	__be32 flags;
	__be32 nr_queues;
	__be16 entry_len;
	__be16 reserved[5];
};

/**
 * struct vfio_ap_mig_apcb - the guest's APCB as the source gave it
 * @apm: adapters, bit 0 of byte 0 (the MSB) is APID 0
 * @aqm: usage domains, same layout
 * @adm: control domains, same layout
 */
struct vfio_ap_mig_apcb {
	u8 apm[32];
	u8 aqm[32];
	u8 adm[32];
};

/**
 * struct vfio_ap_mig_queue - one APQN of the guest
 * @apqn: adapter number in the high byte, domain number in the low byte
 * @type: AP type of the adapter (TAPQ GR2 AT), e.g. 14 for CEX8
 * @ml: the adapter's maximum message size code (TAPQ GR2 ML)
 * @facilities: TAPQ GR2 bits 0-31: mode (CCA, accelerator, EP11) and the
 *		facilities the guest may use
 * @irq_flags: VFIO_AP_MIG_IRQ_ON or 0
 * @isc: the guest ISC the guest enabled interrupts with, else 0
 * @reserved: zero
 * @nib: guest address of the notification indicator byte, else 0
 */
struct vfio_ap_mig_queue {
	__be16 apqn;
	u8 type;
	u8 ml;
	__be32 facilities;
	u8 irq_flags;
	u8 isc;
	u8 reserved[6];
	__be64 nib;
};

static_assert(sizeof(struct vfio_ap_mig_header) == 32);
static_assert(sizeof(struct vfio_ap_mig_apcb) == 96);
static_assert(sizeof(struct vfio_ap_mig_queue) == 24);

/* Bytes of a record with @nr_queues entries. */
static inline size_t vfio_ap_mig_record_len(size_t nr_queues)
{
	return sizeof(struct vfio_ap_mig_header) +
	       sizeof(struct vfio_ap_mig_apcb) +
	       nr_queues * sizeof(struct vfio_ap_mig_queue);
}

#endif /* _VFIO_AP_MIGRATION_H_ */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMM's side of VFIO migration for programs that move a vfio_ap
 * guest: the device state machine through VFIO_DEVICE_FEATURE, the data
 * fds, and the stream's layout as Documentation/arch/s390/vfio-ap.rst
 * gives it, with definitions of our own (the test must not trust the
 * driver's header to describe the driver's output).
 */
#ifndef VFIO_AP_MIG_H
#define VFIO_AP_MIG_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

#include "vfio_ap_kvm.h"

/* The stream, version 1. */
#define MIG_MAGIC	0x5641504dU
#define MIG_HDR_LEN	32
#define MIG_APCB_LEN	96
#define MIG_ENTRY_LEN	24
#define MIG_FINAL	1U
#define MIG_IRQ_ON	1U

struct mig_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t header_len;
	uint32_t total_len;
	uint32_t flags;
	uint32_t nr_queues;
	uint16_t entry_len;
	uint16_t reserved[5];
};

struct mig_entry {
	uint16_t apqn;
	uint8_t type;
	uint8_t ml;
	uint32_t facilities;
	uint8_t irq_flags;
	uint8_t isc;
	uint8_t reserved[6];
	uint64_t nib;
};

static_assert(sizeof(struct mig_hdr) == MIG_HDR_LEN, "header layout");
static_assert(sizeof(struct mig_entry) == MIG_ENTRY_LEN, "entry layout");

/* Bytes of one record for a guest of @queues queues. */
#define MIG_RECORD_LEN(queues) \
	(MIG_HDR_LEN + MIG_APCB_LEN + (queues) * MIG_ENTRY_LEN)

/* TAPQ GR2 bits 3-5: CCA coprocessor, accelerator, EP11. */
#define FAC_CCA		0x10000000U
#define FAC_ACCEL	0x08000000U
#define FAC_EP11	0x04000000U

/* enum vfio_device_mig_state; the cross toolchain's UAPI lacks PRE_COPY. */
#define S_ERROR		0
#define S_STOP		1
#define S_RUNNING	2
#define S_STOP_COPY	3
#define S_RESUMING	4
#define S_RUNNING_P2P	5
#define S_PRE_COPY	6
#define S_PRE_COPY_P2P	7

#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY			4
#define VFIO_MIG_GET_PRECOPY_INFO		_IO(VFIO_TYPE, VFIO_BASE + 21)
struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};
#endif
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE	9
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#endif

const char *mig_state_name(unsigned int s);

/* VFIO_DEVICE_FEATURE with @size (at most 64) bytes of payload; 0 or -errno. */
int mig_feature(int dev, uint32_t flags, void *data, size_t size);
/* Set the state; *@data_fd (if given) gets the new session's fd or -1. */
int mig_set(int dev, uint32_t state, int *data_fd);
/* The device's state, or -errno. */
int mig_get(int dev);
/* Read until end of stream, @chunk bytes at a time; bytes or -errno. */
ssize_t mig_read_stream(int fd, uint8_t *buf, size_t size, size_t chunk);
/* Write @len bytes, @chunk at a time; 0 or the first write's -errno. */
int mig_write_stream(int fd, const uint8_t *buf, size_t len, size_t chunk);
/* The guest's CRYCB as the lab's KVM debugfs prints it; 0 or -errno. */
int crycb_text(const struct kvm_guest *g, char *buf, size_t size);

static inline struct mig_hdr *hdr_at(uint8_t *rec)
{
	return (struct mig_hdr *)rec;
}

static inline struct mig_entry *entry_at(uint8_t *rec, unsigned int i)
{
	return (struct mig_entry *)(rec + MIG_HDR_LEN + MIG_APCB_LEN +
				    i * MIG_ENTRY_LEN);
}

/* Mask @which (0 APM, 1 AQM, 2 ADM) of record @rec's APCB. */
static inline uint8_t *apcb_mask(uint8_t *rec, unsigned int which)
{
	return rec + MIG_HDR_LEN + which * 32;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO migration of a vfio_ap device, with this program as the VMM: the
 * state machine through VFIO_DEVICE_FEATURE, the data fds, the stream the
 * source yields (checked against the layout the administrator's guide
 * documents, with the definitions of vfio_ap_mig.h) and what a target does
 * with good, foreign and hostile streams. What a guest sees is read from
 * the lab kernel's KVM debugfs (the CRYCB).
 *
 * Host: adapters 5 and 6 (vfio_ap) and 7 (cex4queue), domains 4, 0x47,
 * 0xab and 0xff. The guest gets 5,6 x 4,0xab and control domain 0xab.
 *
 * The reference module (upstream 6.12) offers no migration: run with
 * LAB_MODULE=reference, the case migration_feature expects the feature
 * to be absent, and run_selftests.sh runs only that case there.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#include "vfio_ap_expect.h"
#include "vfio_ap_kvm.h"
#include "vfio_ap_kvm_expect.h"
#include "vfio_ap_mig.h"

/* The guest's 2 x 2 queues: one record has this many bytes. */
#define GUEST_QUEUES	4
#define RECORD_LEN	MIG_RECORD_LEN(GUEST_QUEUES)
#define STREAM_MAX	(2 * 1024 * 1024)

/*
 * Cases that loop over states or streams, each step a device reset (or
 * a new VM): well inside this on the debug kernel, also under load.
 */
#define LOOP_TIMEOUT	240

static const unsigned int states[] = {
	S_RUNNING, S_RUNNING_P2P, S_STOP, S_STOP_COPY, S_RESUMING,
	S_PRE_COPY, S_PRE_COPY_P2P,
};

/* The CRYCB file's three lines for the APCB of record @rec. */
static void record_crycb(uint8_t *rec, char *out)
{
	struct ap_matrix mx;

	memcpy(mx.apm.b, apcb_mask(rec, 0), 32);
	memcpy(mx.aqm.b, apcb_mask(rec, 1), 32);
	memcpy(mx.adm.b, apcb_mask(rec, 2), 32);
	matrix_fmt_crycb(&mx, out);
}

FIXTURE(mig) {
	struct kvm_guest g;
	struct kvm_vdev a;
	int kmsg;
	uint8_t *stream;
	size_t len;
	char log[65536];
};

static void open_guest(struct __test_metadata *_metadata,
		       struct kvm_guest *g, struct kvm_vdev *d,
		       const char *uuid)
{
	const char *step = "";
	int rc;

	rc = kvm_guest_create(g, &step);
	ASSERT_EQ(0, rc) TH_LOG("VM: %s: %s", step, strerror(-rc));
	rc = kvm_vdev_open(d, g, uuid, &step);
	ASSERT_EQ(0, rc) TH_LOG("mdev %s: %s: %s", uuid, step, strerror(-rc));
	ASSERT_EQ(0, ioctl(d->dev, VFIO_DEVICE_RESET));
}

static void assign_std(struct __test_metadata *_metadata, const char *uuid)
{
	ASSERT_EQ(0, mdev_create(uuid));
	ASSERT_EQ(0, mdev_write(uuid, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(uuid, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(uuid, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(uuid, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(uuid, "assign_control_domain", "0xab"));
}

FIXTURE_SETUP(mig)
{
	kvm_guest_init(&self->g);
	kvm_vdev_init(&self->a);
	self->stream = calloc(1, STREAM_MAX);
	ASSERT_NE(NULL, self->stream);
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg);
	ASSERT_EQ(0, world_std());
	assign_std(_metadata, UUID_A);
	open_guest(_metadata, &self->g, &self->a, UUID_A);
}

FIXTURE_TEARDOWN(mig)
{
	kvm_vdev_close(&self->a);
	kvm_guest_destroy(&self->g);
	sim_write("fault", "all clear");
	world_std();
	queues_rebind_withheld(self->kmsg);
	if (self->kmsg >= 0)
		close(self->kmsg);
	free(self->stream);
}

/* From RUNNING, the final record through STOP_COPY; ends in STOP. */
static void save(struct __test_metadata *_metadata, int dev, uint8_t *buf,
		 size_t *len)
{
	ssize_t n;
	int fd;

	ASSERT_EQ(0, mig_set(dev, S_STOP_COPY, &fd));
	ASSERT_LE(0, fd);
	n = mig_read_stream(fd, buf, STREAM_MAX, 4096);
	ASSERT_LT(0, n) TH_LOG("read: %s", strerror((int)-n));
	close(fd);
	*len = n;
	ASSERT_EQ(0, mig_set(dev, S_STOP, NULL));
}

/*
 * From STOP, @len bytes of @buf into RESUMING, @chunk at a time, then
 * STOP. *@werr gets the first write's -errno; returns leaving RESUMING's.
 */
static int resume(struct __test_metadata *_metadata, int dev,
		  const uint8_t *buf, size_t len, size_t chunk, int *werr)
{
	int fd, rc;

	rc = mig_set(dev, S_RESUMING, &fd);
	EXPECT_EQ(0, rc);
	if (rc)
		return rc;
	*werr = mig_write_stream(fd, buf, len, chunk);
	rc = mig_set(dev, S_STOP, NULL);
	close(fd);
	return rc;
}

static int log_count(FIXTURE_DATA(mig) * self, const char *s1, const char *s2)
{
	kmsg_collect(self->kmsg, self->log, sizeof(self->log));
	return kmsg_count(self->log, 4, s1, s2, NULL);
}

/* From now on: only kernel log lines that come after count. */
static void log_start(FIXTURE_DATA(mig) * self)
{
	log_count(self, NULL, NULL);
	self->log[0] = '\0';
}

/* A target that refused: still in RESUMING, its guest as before. */
static void expect_unchanged(struct __test_metadata *_metadata,
			     FIXTURE_DATA(mig) * self, const char *crycb)
{
	char now[512];

	EXPECT_EQ(S_RESUMING, mig_get(self->a.dev));
	ASSERT_EQ(0, crycb_text(&self->g, now, sizeof(now)));
	EXPECT_STREQ(crycb, now);
	EXPECT_EQ(0, ioctl(self->a.dev, VFIO_DEVICE_RESET));
	EXPECT_EQ(S_RUNNING, mig_get(self->a.dev));
	ASSERT_EQ(0, crycb_text(&self->g, now, sizeof(now)));
	EXPECT_STREQ(crycb, now);
}

/*
 * The saved stream into a target that must refuse it with @err and one
 * warning holding @s1 and @s2, changing nothing; *@werr gets the
 * write's -errno.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   FIXTURE_DATA(mig) * self, int err, const char *s1,
			   const char *s2, int *werr)
{
	char crycb[512];

	ASSERT_EQ(0, crycb_text(&self->g, crycb, sizeof(crycb)));
	log_start(self);
	EXPECT_EQ(-err, resume(_metadata, self->a.dev, self->stream,
			       self->len, 4096, werr));
	EXPECT_EQ(1, log_count(self, s1, s2));
	expect_unchanged(_metadata, self, crycb);
}

TEST_F(mig, migration_feature)
{
	struct vfio_device_feature_migration mf = {};
	const char *module = getenv("LAB_MODULE");
	int rc;

	rc = mig_feature(self->a.dev, VFIO_DEVICE_FEATURE_GET |
		     VFIO_DEVICE_FEATURE_MIGRATION, &mf, sizeof(mf));
	if (module && !strcmp(module, "reference")) {
		/* The control: upstream 6.12 offers no migration. */
		EXPECT_EQ(-ENOTTY, rc);
		EXPECT_EQ(-ENOTTY, mig_get(self->a.dev));
		return;
	}
	ASSERT_EQ(0, rc);
	EXPECT_EQ((uint64_t)(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
			     VFIO_MIGRATION_PRE_COPY), mf.flags);
	EXPECT_EQ(S_RUNNING, mig_get(self->a.dev));
}

TEST_F(mig, data_size_is_one_record)
{
	struct vfio_device_feature_mig_data_size ds = {};

	ASSERT_EQ(0, mig_feature(self->a.dev, VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
			     &ds, sizeof(ds)));
	EXPECT_EQ((uint64_t)RECORD_LEN, ds.stop_copy_length);
}

TEST_F(mig, stream_describes_the_guest)
{
	char crycb[512], from_stream[512];
	uint8_t *rec = self->stream;
	struct mig_entry *e;
	unsigned int i, apid, apqi;

	save(_metadata, self->a.dev, rec, &self->len);
	ASSERT_EQ((size_t)RECORD_LEN, self->len);
	EXPECT_EQ(MIG_MAGIC, be32toh(hdr_at(rec)->magic));
	EXPECT_EQ(1, be16toh(hdr_at(rec)->version));
	EXPECT_EQ(MIG_HDR_LEN, be16toh(hdr_at(rec)->header_len));
	EXPECT_EQ((uint32_t)RECORD_LEN, be32toh(hdr_at(rec)->total_len));
	EXPECT_EQ(MIG_FINAL, be32toh(hdr_at(rec)->flags));
	EXPECT_EQ((uint32_t)GUEST_QUEUES, be32toh(hdr_at(rec)->nr_queues));
	EXPECT_EQ(MIG_ENTRY_LEN, be16toh(hdr_at(rec)->entry_len));
	/* the APCB is the guest's, as KVM holds it */
	ASSERT_EQ(0, crycb_text(&self->g, crycb, sizeof(crycb)));
	record_crycb(rec, from_stream);
	EXPECT_STREQ(crycb, from_stream);
	/* adapters outer, ascending; the simulator's default CEX8 in CCA */
	for (i = 0; i < GUEST_QUEUES; i++) {
		e = entry_at(rec, i);
		apid = i < 2 ? 5 : 6;
		apqi = i % 2 ? 0xab : 4;
		EXPECT_EQ((apid << 8) | apqi, be16toh(e->apqn));
		EXPECT_EQ(14, e->type);
		EXPECT_EQ(FAC_CCA, be32toh(e->facilities) &
			  (FAC_CCA | FAC_ACCEL | FAC_EP11));
		EXPECT_EQ(0, e->irq_flags);
		EXPECT_EQ(0ULL, e->nib);
	}
}

TEST_F(mig, reads_of_any_size_give_the_same_stream)
{
	static uint8_t big[RECORD_LEN], small[RECORD_LEN];
	size_t len;
	ssize_t n;
	int fd;

	save(_metadata, self->a.dev, big, &len);
	ASSERT_EQ((size_t)RECORD_LEN, len);
	ASSERT_EQ(0, mig_set(self->a.dev, S_STOP_COPY, &fd));
	n = mig_read_stream(fd, small, sizeof(small), 1);
	EXPECT_EQ(RECORD_LEN, n);
	EXPECT_EQ(0, memcmp(big, small, sizeof(big)));
	/* end of stream stays end of stream; no offsets on a stream */
	EXPECT_EQ(0, read(fd, small, sizeof(small)));
	EXPECT_EQ(-1, pread(fd, small, 1, 0));
	EXPECT_EQ(ESPIPE, errno);
	/* a saving fd takes no writes */
	EXPECT_EQ(-1, write(fd, small, 1));
	EXPECT_EQ(EBADF, errno);
	close(fd);
}

TEST_F(mig, pre_copy_then_stop_copy_on_one_fd)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	uint8_t *buf = self->stream;
	ssize_t n;
	int fd, fd2;

	ASSERT_EQ(0, mig_set(self->a.dev, S_PRE_COPY, &fd));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	EXPECT_EQ((uint64_t)RECORD_LEN, info.initial_bytes);
	EXPECT_EQ(0ULL, info.dirty_bytes);
	n = read(fd, buf, STREAM_MAX);
	EXPECT_EQ(RECORD_LEN, n);
	EXPECT_EQ(0U, be32toh(hdr_at(buf)->flags));
	/* the end of PRE_COPY's data is temporary */
	EXPECT_EQ(-1, read(fd, buf, 1));
	EXPECT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	EXPECT_EQ(0ULL, info.initial_bytes);
	/* the P2P arc keeps the session; STOP_COPY opens no new one */
	ASSERT_EQ(0, mig_set(self->a.dev, S_PRE_COPY_P2P, &fd2));
	EXPECT_EQ(-1, fd2);
	ASSERT_EQ(0, mig_set(self->a.dev, S_STOP_COPY, &fd2));
	EXPECT_EQ(-1, fd2);
	EXPECT_EQ(-1, ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	n = mig_read_stream(fd, buf, STREAM_MAX, 7);
	EXPECT_EQ(RECORD_LEN, n);
	EXPECT_EQ(MIG_FINAL, be32toh(hdr_at(buf)->flags));
	ASSERT_EQ(0, mig_set(self->a.dev, S_STOP, NULL));
	/* the session ended with STOP_COPY */
	EXPECT_EQ(-1, read(fd, buf, 1));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
}

/* Bring a RUNNING device to @s; a RESUMING one has a good stream in. */
static int goto_state(FIXTURE_DATA(mig) * self, unsigned int s, int *fd)
{
	int rc = mig_set(self->a.dev, s, fd);

	if (rc || s != S_RESUMING)
		return rc;
	return mig_write_stream(*fd, self->stream, self->len, 4096);
}

/* Whether an arc from @from to @to opens a new data session. */
static bool opens_session(unsigned int from, unsigned int to)
{
	bool saving_from = from == S_PRE_COPY || from == S_PRE_COPY_P2P ||
			   from == S_STOP_COPY;

	if (to == S_RESUMING)
		return from != S_RESUMING;
	if (to == S_PRE_COPY || to == S_PRE_COPY_P2P)
		return !saving_from;
	if (to == S_STOP_COPY)
		return !saving_from;
	return false;
}

TEST_F_TIMEOUT(mig, every_arc, LOOP_TIMEOUT)
{
	unsigned int i, j, from, to;
	int fd, fd2, rc;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, mig_set(self->a.dev, S_RUNNING, NULL));
	for (i = 0; i < ARRAY_SIZE(states); i++) {
		for (j = 0; j < ARRAY_SIZE(states); j++) {
			from = states[i];
			to = states[j];
			ASSERT_EQ(0, goto_state(self, from, &fd))
				TH_LOG("to %s", mig_state_name(from));
			ASSERT_EQ((int)from, mig_get(self->a.dev));
			rc = mig_set(self->a.dev, to, &fd2);
			if (from == S_STOP_COPY &&
			    (to == S_PRE_COPY || to == S_PRE_COPY_P2P)) {
				/* the one arc VFIO forbids */
				EXPECT_EQ(-EINVAL, rc);
				EXPECT_EQ((int)from, mig_get(self->a.dev));
			} else {
				EXPECT_EQ(0, rc) TH_LOG("%s -> %s",
							mig_state_name(from),
							mig_state_name(to));
				EXPECT_EQ((int)to, mig_get(self->a.dev));
				EXPECT_EQ(opens_session(from, to), fd2 >= 0)
					TH_LOG("fd of %s -> %s",
					       mig_state_name(from), mig_state_name(to));
			}
			if (fd2 >= 0)
				close(fd2);
			if (fd >= 0)
				close(fd);
			ASSERT_EQ(0, ioctl(self->a.dev, VFIO_DEVICE_RESET));
			ASSERT_EQ(S_RUNNING, mig_get(self->a.dev));
		}
	}
}

TEST_F(mig, states_that_do_not_exist)
{
	static const uint32_t bad[] = { S_ERROR, 8, 9, 0xffffffff };
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, mig_set(self->a.dev, bad[i], &fd));
		EXPECT_EQ(S_RUNNING, mig_get(self->a.dev));
	}
}

TEST_F_TIMEOUT(mig, reset_and_close_in_every_state, LOOP_TIMEOUT)
{
	unsigned int i;
	uint8_t b = 0;
	int fd;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, mig_set(self->a.dev, S_RUNNING, NULL));
	for (i = 0; i < ARRAY_SIZE(states); i++) {
		ASSERT_EQ(0, goto_state(self, states[i], &fd));
		EXPECT_EQ(0, ioctl(self->a.dev, VFIO_DEVICE_RESET));
		EXPECT_EQ(S_RUNNING, mig_get(self->a.dev));
		/* the session is over; its fd says so */
		if (fd >= 0) {
			EXPECT_EQ(-1, states[i] == S_RESUMING ?
				  write(fd, &b, 1) : read(fd, &b, 1));
			EXPECT_EQ(ENODEV, errno);
			close(fd);
		}
	}
	for (i = 0; i < ARRAY_SIZE(states); i++) {
		ASSERT_EQ(0, goto_state(self, states[i], &fd));
		kvm_vdev_close(&self->a);
		kvm_guest_destroy(&self->g);
		if (fd >= 0) {
			EXPECT_EQ(-1, states[i] == S_RESUMING ?
				  write(fd, &b, 1) : read(fd, &b, 1));
			EXPECT_EQ(ENODEV, errno);
			close(fd);
		}
		kvm_guest_init(&self->g);
		kvm_vdev_init(&self->a);
		open_guest(_metadata, &self->g, &self->a, UUID_A);
		EXPECT_EQ(S_RUNNING, mig_get(self->a.dev));
	}
}

TEST_F(mig, fd_outlives_the_mdev)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	uint8_t b;
	int fd;

	ASSERT_EQ(0, mig_set(self->a.dev, S_PRE_COPY, &fd));
	kvm_vdev_close(&self->a);
	ASSERT_EQ(0, mdev_remove(UUID_A));
	EXPECT_EQ(-1, read(fd, &b, 1));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/* The guest moves from one VM to another, between two mdevs. */
TEST_F(mig, guest_moves_to_another_vm)
{
	struct kvm_guest g2;
	struct kvm_vdev b;
	char src[512], dst[512];
	uint8_t *buf = self->stream;
	size_t len = 0;
	ssize_t n;
	int fd, werr;

	kvm_guest_init(&g2);
	kvm_vdev_init(&b);
	ASSERT_EQ(0, crycb_text(&self->g, src, sizeof(src)));
	/* source: PRE_COPY, then the final record */
	ASSERT_EQ(0, mig_set(self->a.dev, S_PRE_COPY, &fd));
	n = read(fd, buf, STREAM_MAX);
	ASSERT_EQ(RECORD_LEN, n);
	len = n;
	ASSERT_EQ(0, mig_set(self->a.dev, S_STOP_COPY, NULL));
	n = mig_read_stream(fd, buf + len, STREAM_MAX - len, 4096);
	ASSERT_EQ(RECORD_LEN, n);
	len += n;
	close(fd);
	ASSERT_EQ(0, mig_set(self->a.dev, S_STOP, NULL));
	kvm_vdev_close(&self->a);
	kvm_guest_destroy(&self->g);
	ASSERT_EQ(0, mdev_remove(UUID_A));

	/* target: another mdev with the same queues, another VM */
	assign_std(_metadata, UUID_B);
	open_guest(_metadata, &g2, &b, UUID_B);
	ASSERT_EQ(0, mig_set(b.dev, S_STOP, NULL));
	EXPECT_EQ(0, resume(_metadata, b.dev, buf, len, 1, &werr));
	EXPECT_EQ(0, werr);
	ASSERT_EQ(0, mig_set(b.dev, S_RUNNING, NULL));
	ASSERT_EQ(0, crycb_text(&g2, dst, sizeof(dst)));
	EXPECT_STREQ(src, dst);
	expect_status(_metadata, 5, 4, "in use\n");
	expect_status(_metadata, 6, 0xab, "in use\n");
	kvm_vdev_close(&b);
	kvm_guest_destroy(&g2);
}

/* A good stream, to be spoiled; @s holds STREAM_MAX bytes. */
struct spoil {
	uint8_t *s;
	size_t len;
};

/* One hostile stream: what to do to a good one, and what must happen. */
struct hostile {
	const char *name;
	void (*spoil)(struct spoil *x);
	int write_err;		/* errno of the write, 0 if it passes */
	int stop_err;		/* errno of leaving RESUMING */
	const char *log;	/* in the one kernel warning, or NULL */
};

static void bad_magic(struct spoil *x)
{
	hdr_at(x->s)->magic = htobe32(0x12345678);
}

static void bad_version(struct spoil *x)
{
	hdr_at(x->s)->version = htobe16(2);
}

static void bad_header_len(struct spoil *x)
{
	hdr_at(x->s)->header_len = htobe16(MIG_HDR_LEN + 8);
}

static void bad_total_len(struct spoil *x)
{
	hdr_at(x->s)->total_len = htobe32(RECORD_LEN + MIG_ENTRY_LEN);
}

static void huge_queue_count(struct spoil *x)
{
	hdr_at(x->s)->nr_queues = htobe32(0x10001);
	hdr_at(x->s)->total_len = htobe32(MIG_HDR_LEN + MIG_APCB_LEN +
				       0x10001 * MIG_ENTRY_LEN);
}

static void unknown_flag(struct spoil *x)
{
	hdr_at(x->s)->flags |= htobe32(0x80);
}

static void reserved_set(struct spoil *x)
{
	hdr_at(x->s)->reserved[2] = 1;
}

static void truncated(struct spoil *x)
{
	x->len -= 1;
}

static void header_only(struct spoil *x)
{
	x->len = MIG_HDR_LEN;
}

static void empty(struct spoil *x)
{
	x->len = 0;
}

static void trailing_byte(struct spoil *x)
{
	x->s[x->len++] = 0;
}

static void garbage_megabyte(struct spoil *x)
{
	size_t i;

	for (i = 0; i < 1024 * 1024; i++)
		x->s[i] = (uint8_t)(i * 7 + 3);
	x->len = 1024 * 1024;
}

/* An adapter more in the APCB, with the total adjusted but no entries. */
static void apcb_without_entries(struct spoil *x)
{
	apcb_mask(x->s, 0)[0] |= 0x80;	/* adapter 0 */
}

static void entries_swapped(struct spoil *x)
{
	struct mig_entry t = *entry_at(x->s, 0);

	*entry_at(x->s, 0) = *entry_at(x->s, 1);
	*entry_at(x->s, 1) = t;
}

static void irq_on_without_nib(struct spoil *x)
{
	entry_at(x->s, 2)->irq_flags = MIG_IRQ_ON;
	entry_at(x->s, 2)->isc = 3;
}

static void unknown_irq_flag(struct spoil *x)
{
	entry_at(x->s, 1)->irq_flags = 0x40;
}

static void other_type(struct spoil *x)
{
	entry_at(x->s, 3)->type = 13;
}

static void other_mode(struct spoil *x)
{
	uint32_t f = be32toh(entry_at(x->s, 2)->facilities);

	f &= ~(FAC_CCA | FAC_ACCEL | FAC_EP11);
	entry_at(x->s, 2)->facilities = htobe32(f | FAC_EP11);
}

static void bigger_messages(struct spoil *x)
{
	entry_at(x->s, 0)->ml = 15;
}

/* A precopy record only: the source never reached STOP_COPY. */
static void no_final_record(struct spoil *x)
{
	hdr_at(x->s)->flags = 0;
}

/* The same final record twice. */
static void two_final_records(struct spoil *x)
{
	memcpy(x->s + x->len, x->s, x->len);
	x->len *= 2;
}

static void wrong_apqn(struct spoil *x)
{
	entry_at(x->s, 3)->apqn = htobe16(0x06ac);
}

static const struct hostile hostile_streams[] = {
	{ "bad magic", bad_magic, EINVAL, EINVAL, "bad magic" },
	{ "version 2", bad_version, EINVAL, EINVAL, "version 2" },
	{ "header length", bad_header_len, EINVAL, EINVAL, "malformed record header" },
	{ "total length", bad_total_len, EINVAL, EINVAL, "malformed record header" },
	{ "65537 queues", huge_queue_count, EINVAL, EINVAL, "malformed record header" },
	{ "unknown flag", unknown_flag, EINVAL, EINVAL, "malformed record header" },
	{ "reserved field", reserved_set, EINVAL, EINVAL, "malformed record header" },
	{ "truncated by a byte", truncated, 0, EINVAL, "incomplete" },
	{ "header only", header_only, 0, EINVAL, "incomplete" },
	{ "empty", empty, 0, EINVAL, "incomplete" },
	{ "a byte too many", trailing_byte, EFBIG, EFBIG, "after the final record" },
	{ "two final records", two_final_records, EFBIG, EFBIG, "after the final record" },
	{ "garbage megabyte", garbage_megabyte, EINVAL, EINVAL, "bad magic" },
	{ "APCB without entries", apcb_without_entries, EINVAL, EINVAL, "do not match the APCB" },
	{ "entries out of order", entries_swapped, EINVAL, EINVAL,
	  "malformed entry for queue 05.0004" },
	{ "entry for another APQN", wrong_apqn, EINVAL, EINVAL,
	  "malformed entry for queue 06.00ab" },
	{ "interrupts on, no NIB", irq_on_without_nib, EINVAL, EINVAL,
	  "malformed entry for queue 06.0004" },
	{ "unknown interrupt flag", unknown_irq_flag, EINVAL, EINVAL,
	  "malformed entry for queue 05.00ab" },
	{ "adapter type 13", other_type, EOPNOTSUPP, EOPNOTSUPP,
	  "06.00ab: adapter type 14 here, 13 on the source" },
	{ "EP11 mode", other_mode, EOPNOTSUPP, EOPNOTSUPP,
	  "06.0004: CCA mode here, EP11 on the source" },
	{ "larger messages", bigger_messages, EOPNOTSUPP, EOPNOTSUPP,
	  "05.0004: message size code" },
	{ "no final record", no_final_record, 0, EINVAL, "incomplete" },
};

TEST_F_TIMEOUT(mig, hostile_streams_change_nothing, LOOP_TIMEOUT)
{
	static uint8_t good[RECORD_LEN];
	const struct hostile *h;
	struct spoil x;
	char crycb[512];
	size_t good_len, i;
	int pass, werr, rc;

	save(_metadata, self->a.dev, good, &good_len);
	ASSERT_EQ((size_t)RECORD_LEN, good_len);
	ASSERT_EQ(0, crycb_text(&self->g, crycb, sizeof(crycb)));
	ASSERT_EQ(0, ioctl(self->a.dev, VFIO_DEVICE_RESET));
	for (i = 0; i < ARRAY_SIZE(hostile_streams); i++) {
		h = &hostile_streams[i];
		/* whole writes, then one-byte writes */
		for (pass = 0; pass < 2; pass++) {
			memcpy(self->stream, good, good_len);
			x.s = self->stream;
			x.len = good_len;
			h->spoil(&x);
			self->len = x.len;
			log_start(self);
			ASSERT_EQ(0, mig_set(self->a.dev, S_STOP, NULL));
			rc = resume(_metadata, self->a.dev, self->stream,
				    self->len, pass ? 1 : STREAM_MAX, &werr);
			EXPECT_EQ(-h->write_err, werr)
				TH_LOG("%s: write, pass %d", h->name, pass);
			EXPECT_EQ(-h->stop_err, rc)
				TH_LOG("%s: leaving RESUMING", h->name);
			EXPECT_EQ(1, log_count(self, h->log, NULL))
				TH_LOG("%s: one warning with \"%s\"", h->name,
				       h->log);
			expect_unchanged(_metadata, self, crycb);
		}
	}
}

TEST_F(mig, good_stream_in_one_byte_writes)
{
	char crycb[512];
	int werr;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, crycb_text(&self->g, crycb, sizeof(crycb)));
	EXPECT_EQ(0, resume(_metadata, self->a.dev, self->stream, self->len,
			    1, &werr));
	EXPECT_EQ(0, werr);
	EXPECT_EQ(S_STOP, mig_get(self->a.dev));
}

/* What the target lacks, each with its errno and warning. */
TEST_F(mig, target_lacks_an_apqn)
{
	int werr;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_domain", "0xab"));
	expect_refused(_metadata, self, ENODEV, "queue 05.00ab",
		       "not assigned to this mdev", &werr);
	EXPECT_EQ(-ENODEV, werr);
}

TEST_F(mig, target_queue_not_bound)
{
	int werr;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, queue_unbind_vfio(6, 4));
	expect_refused(_metadata, self, ENODEV, "queue 06.0004",
		       "not bound to vfio_ap", &werr);
	EXPECT_EQ(-ENODEV, werr);
	ASSERT_EQ(0, queue_bind_vfio(6, 4));
}

TEST_F(mig, target_lacks_a_control_domain)
{
	int werr;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_control_domain", "0xab"));
	expect_refused(_metadata, self, ENODEV, "control domain 00ab",
		       "not assigned", &werr);
}

TEST_F(mig, target_grants_more)
{
	int werr;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	expect_refused(_metadata, self, EEXIST, "domain 47",
		       "source guest did not have it", &werr);
	EXPECT_EQ(-EEXIST, werr);
}

/* The host's adapter 6 turns into a CEX7 accelerator (a new card). */
TEST_F(mig, target_adapter_of_another_kind)
{
	int werr;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, sim_write("adapter_mode", "6 13 accel"));
	expect_refused(_metadata, self, EOPNOTSUPP, "queue 06.0004",
		       "adapter type 13 here, 14 on the source", &werr);
}

/* The host loses an adapter after the stream was checked on write. */
TEST_F(mig, host_change_while_resuming)
{
	char crycb[512];
	int fd;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, mig_set(self->a.dev, S_RESUMING, &fd));
	EXPECT_EQ(0, mig_write_stream(fd, self->stream, self->len, 4096));
	ASSERT_EQ(0, sim_write("remove_adapter", "6"));
	ASSERT_EQ(0, crycb_text(&self->g, crycb, sizeof(crycb)));
	log_start(self);
	EXPECT_EQ(-ENODEV, mig_set(self->a.dev, S_STOP, NULL));
	EXPECT_EQ(1, log_count(self, "queue 06.0004",
			       "not in the host's AP configuration"));
	close(fd);
	expect_unchanged(_metadata, self, crycb);
}

/* Reset in the middle of a resuming session: the fd is done with. */
TEST_F(mig, reset_in_the_middle_of_resuming)
{
	int fd, werr;

	save(_metadata, self->a.dev, self->stream, &self->len);
	ASSERT_EQ(0, mig_set(self->a.dev, S_RESUMING, &fd));
	EXPECT_EQ(0, mig_write_stream(fd, self->stream, self->len / 2, 4096));
	ASSERT_EQ(0, ioctl(self->a.dev, VFIO_DEVICE_RESET));
	EXPECT_EQ(S_RUNNING, mig_get(self->a.dev));
	EXPECT_EQ(-ENODEV,
		  mig_write_stream(fd, self->stream + self->len / 2,
				   self->len - self->len / 2, 4096));
	close(fd);
	/* a new session starts from scratch */
	ASSERT_EQ(0, mig_set(self->a.dev, S_STOP, NULL));
	EXPECT_EQ(0, resume(_metadata, self->a.dev, self->stream, self->len,
			    4096, &werr));
	EXPECT_EQ(0, werr);
}

/* --- the guest's interrupts --- */

#define NIB_GPA		0x2010UL
#define NIB2_GPA	0x3020UL
#define GISC		3

static unsigned int aqic_rc(struct __test_metadata *_metadata,
			    const struct kvm_guest *g, unsigned int apid,
			    unsigned int apqi, uint64_t gr1, uint64_t nib)
{
	struct pqap_result r = { .ret = -1 };

	EXPECT_EQ(0, pqap(g, AQIC_GR0(apid, apqi), gr1, nib, false, &r));
	EXPECT_EQ(0, r.ret);
	return GR1_RC(r.gr1);
}

/*
 * From the fixture's guest, with interrupts on for 05.0004 and 06.00ab,
 * the whole stream (PRE_COPY and final record); the source then closes
 * and its mdev goes, and a second mdev with the same queues is opened by
 * VM @g2. Nothing of the interrupts may stay behind on the source.
 */
static void move_with_irqs(struct __test_metadata *_metadata,
			   FIXTURE_DATA(mig) * self, struct kvm_guest *g2,
			   struct kvm_vdev *b)
{
	uint8_t *buf = self->stream;
	struct mig_entry *e;
	ssize_t n;
	int fd;

	ASSERT_EQ(0U, aqic_rc(_metadata, &self->g, 5, 4, AQIC_GR1_ON(GISC),
			      NIB_GPA));
	ASSERT_EQ(0U, aqic_rc(_metadata, &self->g, 6, 0xab,
			      AQIC_GR1_ON(GISC), NIB2_GPA));
	expect_irqs_held(_metadata, &self->g, GISC, 2);
	ASSERT_EQ(0, mig_set(self->a.dev, S_PRE_COPY, &fd));
	n = read(fd, buf, STREAM_MAX);
	ASSERT_EQ(RECORD_LEN, n);
	ASSERT_EQ(0, mig_set(self->a.dev, S_STOP_COPY, NULL));
	n = mig_read_stream(fd, buf + RECORD_LEN, STREAM_MAX - RECORD_LEN, 4096);
	ASSERT_EQ(RECORD_LEN, n);
	close(fd);
	self->len = 2 * RECORD_LEN;
	/* the final record: 05.0004 and 06.00ab on, the others off */
	e = entry_at(buf + RECORD_LEN, 0);
	EXPECT_EQ(MIG_IRQ_ON, e->irq_flags);
	EXPECT_EQ(GISC, e->isc);
	EXPECT_EQ((uint64_t)NIB_GPA, be64toh(e->nib));
	EXPECT_EQ(0, entry_at(buf + RECORD_LEN, 1)->irq_flags);
	EXPECT_EQ(0, entry_at(buf + RECORD_LEN, 2)->irq_flags);
	e = entry_at(buf + RECORD_LEN, 3);
	EXPECT_EQ(MIG_IRQ_ON, e->irq_flags);
	EXPECT_EQ((uint64_t)NIB2_GPA, be64toh(e->nib));

	kvm_vdev_close(&self->a);
	EXPECT_EQ(0, pinned_pages());
	EXPECT_EQ(0, sim_guest_irqs());
	kvm_guest_destroy(&self->g);
	ASSERT_EQ(0, mdev_remove(UUID_A));
	assign_std(_metadata, UUID_B);
	open_guest(_metadata, g2, b, UUID_B);
	ASSERT_EQ(0, mig_set(b->dev, S_STOP, NULL));
}

/*
 * The stream of move_with_irqs() into target @b: accepted, and both
 * queues' interrupts on again in VM @g2, at the migrated guest addresses.
 */
static void expect_resumed_with_irqs(struct __test_metadata *_metadata,
				     FIXTURE_DATA(mig) * self,
				     struct kvm_guest *g2, struct kvm_vdev *b)
{
	struct sim_irq si;
	int werr;

	EXPECT_EQ(0, resume(_metadata, b->dev, self->stream, self->len, 4096,
			    &werr));
	EXPECT_EQ(0, werr);
	expect_irqs_held(_metadata, g2, GISC, 2);
	ASSERT_EQ(0, sim_irq_get(5, 4, &si));
	EXPECT_TRUE(si.on);
	EXPECT_EQ((unsigned int)GISC, si.gisc);
	EXPECT_EQ(guest_phys_to_host(g2, NIB_GPA), si.nib);
	ASSERT_EQ(0, sim_irq_get(6, 0xab, &si));
	EXPECT_TRUE(si.on);
	EXPECT_EQ(guest_phys_to_host(g2, NIB2_GPA), si.nib);
}

/* The target closes and its VM goes: nothing of the interrupts stays. */
static void close_target(struct __test_metadata *_metadata,
			 struct kvm_guest *g2, struct kvm_vdev *b)
{
	kvm_vdev_close(b);
	EXPECT_EQ(0, pinned_pages());
	EXPECT_EQ(0, sim_guest_irqs());
	kvm_guest_destroy(g2);
}

TEST_F(mig, interrupts_follow_the_guest)
{
	struct kvm_guest g2;
	struct kvm_vdev b;
	struct sim_irq si;

	kvm_guest_init(&g2);
	kvm_vdev_init(&b);
	move_with_irqs(_metadata, self, &g2, &b);
	expect_resumed_with_irqs(_metadata, self, &g2, &b);
	ASSERT_EQ(0, sim_irq_get(5, 0xab, &si));
	EXPECT_FALSE(si.on);
	/* the target guest can turn them off as its own */
	ASSERT_EQ(0, mig_set(b.dev, S_RUNNING, NULL));
	EXPECT_EQ(0U, aqic_rc(_metadata, &g2, 5, 4, AQIC_GR1_OFF, 0));
	expect_irqs_held(_metadata, &g2, GISC, 1);
	close_target(_metadata, &g2, &b);
}

/*
 * Whether the AP bus's own interrupts are on for @apid.@apqi: its state
 * machine turns them on after the reset that follows a queue's creation,
 * some polls after the scan that created it.
 */
static bool ap_bus_irq_on(unsigned int apid, unsigned int apqi)
{
	char path[96], buf[64];
	int tries;

	snprintf(path, sizeof(path), AP_DEV_DIR "/%02x.%04x/interrupt", apid,
		 apqi);
	for (tries = 0; tries < 1000; tries++) {
		if (sysfs_read(path, buf, sizeof(buf)) > 0 &&
		    !strcmp(buf, "Interrupts enabled.\n"))
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * A queue that came back into the host after the target opened its
 * mdev: the AP bus reset it and turned its own interrupts on before the
 * target's guest ever ran. The migrated interrupts go on all the same.
 */
TEST_F(mig, interrupts_on_a_queue_that_came_back)
{
	struct kvm_guest g2;
	struct kvm_vdev b;

	kvm_guest_init(&g2);
	kvm_vdev_init(&b);
	move_with_irqs(_metadata, self, &g2, &b);
	ASSERT_EQ(0, sim_write("remove_adapter", "5"));
	ASSERT_EQ(0, sim_write("add_adapter", "5"));
	ASSERT_TRUE(ap_bus_irq_on(5, 4));
	expect_resumed_with_irqs(_metadata, self, &g2, &b);
	close_target(_metadata, &g2, &b);
}

/* The reset before the interrupts come back fails: the queue is named. */
TEST_F(mig, queue_reset_fails_before_its_interrupts)
{
	struct kvm_guest g2;
	struct kvm_vdev b;
	int werr;

	kvm_guest_init(&g2);
	kvm_vdev_init(&b);
	move_with_irqs(_metadata, self, &g2, &b);
	ASSERT_EQ(0, sim_write("fault", "05.0004 reset_fail=06"));
	log_start(self);
	EXPECT_EQ(-ENODEV, resume(_metadata, b.dev, self->stream, self->len,
				  4096, &werr));
	EXPECT_EQ(0, werr);
	EXPECT_EQ(1, log_count(self, "reset of queue 05.0004 failed",
			       "response code 0x06"));
	EXPECT_EQ(1, log_count(self, "migration: queue 05.0004",
			       "not usable"));
	EXPECT_EQ(S_RESUMING, mig_get(b.dev));
	expect_irqs_held(_metadata, &g2, GISC, 0);
	EXPECT_EQ(0, ioctl(b.dev, VFIO_DEVICE_RESET));
	kvm_vdev_close(&b);
	kvm_guest_destroy(&g2);
	/* withheld until bound again; the warning was read above */
	ASSERT_EQ(0, queue_unbind_vfio(5, 4));
	ASSERT_EQ(0, queue_bind_vfio(5, 4));
	expect_status(_metadata, 5, 4, "assigned\n");
}

/* The second queue refuses AQIC on the target: the first goes off too. */
TEST_F(mig, interrupts_all_or_none)
{
	struct kvm_guest g2;
	struct kvm_vdev b;
	char crycb[512], now[512];
	int werr;

	kvm_guest_init(&g2);
	kvm_vdev_init(&b);
	move_with_irqs(_metadata, self, &g2, &b);
	ASSERT_EQ(0, sim_write("fault", "06.00ab aqic_fail=07"));
	ASSERT_EQ(0, crycb_text(&g2, crycb, sizeof(crycb)));
	log_start(self);
	EXPECT_EQ(-EIO, resume(_metadata, b.dev, self->stream, self->len,
			       4096, &werr));
	EXPECT_EQ(0, werr);
	EXPECT_EQ(1, log_count(self, "queue 06.00ab",
			       "interrupts not restored, response code 0x07"));
	EXPECT_EQ(S_RESUMING, mig_get(b.dev));
	expect_irqs_held(_metadata, &g2, GISC, 0);
	ASSERT_EQ(0, crycb_text(&g2, now, sizeof(now)));
	EXPECT_STREQ(crycb, now);
	EXPECT_EQ(0, ioctl(b.dev, VFIO_DEVICE_RESET));
	kvm_vdev_close(&b);
	kvm_guest_destroy(&g2);
}

/* A NIB outside the target guest's memory is refused on write. */
TEST_F(mig, nib_outside_the_guest)
{
	char crycb[512];
	struct mig_entry *e;
	int werr;

	save(_metadata, self->a.dev, self->stream, &self->len);
	e = entry_at(self->stream, 1);
	e->irq_flags = MIG_IRQ_ON;
	e->isc = GISC;
	e->nib = htobe64(FOREIGN_IOVA);
	ASSERT_EQ(0, crycb_text(&self->g, crycb, sizeof(crycb)));
	log_start(self);
	EXPECT_EQ(-EINVAL, resume(_metadata, self->a.dev, self->stream,
				  self->len, 4096, &werr));
	EXPECT_EQ(-EINVAL, werr);
	EXPECT_EQ(1, log_count(self, "queue 05.00ab: NIB 0x1000000",
			       "not memory of the guest here"));
	EXPECT_EQ(0, pinned_pages());
	expect_unchanged(_metadata, self, crycb);
}

TEST_HARNESS_MAIN

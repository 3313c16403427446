// SPDX-License-Identifier: GPL-2.0
/*
 * One side of a guest's migration between two lab hosts (two lab VMs,
 * each with its own AP simulator): this program is the VMM on either
 * side, and the migration stream travels over LINK, a virtio serial
 * port whose other end is the other VM's (lab.sh two-hosts).
 *
 *   vfio_ap_two_hosts source|target LINK
 *
 * Each host keeps the simulator configuration it booted with; both give
 * adapters 5 and 6 to vfio_ap. The guest gets 5,6 x 4,0xab and control
 * domain 0xab, with interrupts on for 05.0004. Host B's adapters start
 * as accelerators of another type (CEX7A, type 13; A has CEX8C, 14):
 *
 *   1. A offers its guest (PRE_COPY). B refuses it on the first record
 *      with EOPNOTSUPP and one log line naming 05.0004. A's guest never
 *      stops: it goes back to RUNNING with its CRYCB, its interrupts and
 *      its pinned NIB as before.
 *   2. B's administrator puts CCA coprocessors of A's type in.
 *   3. A offers the guest again; B accepts the first record, A stops its
 *      guest and sends the final record, B resumes. B's guest has A's
 *      CRYCB and interrupts on for 05.0004 with the NIB at the migrated
 *      guest address; nothing stays pinned or enabled on A.
 *
 * Every checked step prints "two-hosts: ok - HOST: STEP" or "two-hosts:
 * not ok - HOST: STEP" (lab check.sh counts them); the exit status is 1
 * if any failed. A side that fails to set up ends its VM, which closes
 * the link: the other side reads end of file and fails instead of
 * waiting.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "vfio_ap_kvm.h"
#include "vfio_ap_mig.h"

#define GUEST_QUEUES	4
#define RECORD_LEN	MIG_RECORD_LEN(GUEST_QUEUES)
#define NIB_GPA		0x2010UL
#define GISC		3
#define MSG_MAX		4096

static const char *host = "?";
static int failed;

static bool step(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("two-hosts: %s - %s: ", ok ? "ok" : "not ok", host);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failed++;
	return ok;
}

static void note(const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", host);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Give up: the other side sees the link close when this VM ends. */
static void fatal(const char *what, int err)
{
	step(false, "%s: %s", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* --- the link: messages of a 4-byte tag, a 4-byte length, the bytes --- */

static int link_fd = -1;

static void link_send(const char *tag, const void *buf, uint32_t len)
{
	uint32_t be = htobe32(len);
	char head[8];

	memcpy(head, tag, 4);
	memcpy(head + 4, &be, 4);
	if (mig_write_stream(link_fd, (const uint8_t *)head, 8, 8) ||
	    mig_write_stream(link_fd, buf, len, MSG_MAX))
		fatal("sending on the link", errno);
}

static void read_all(void *buf, size_t len, const char *tag)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = read(link_fd, (char *)buf + off, len - off);
		if (n <= 0) {
			step(false, "link closed or failed before %.4s (%s)",
			     tag, n ? strerror(errno) : "end of file");
			exit(1);
		}
		off += n;
	}
}

/* The next message, which must be @tag; its length. @buf gets a NUL too. */
static uint32_t link_recv(const char *tag, void *buf, uint32_t size)
{
	uint32_t be, len;
	char head[8];

	read_all(head, 8, tag);
	memcpy(&be, head + 4, 4);
	len = be32toh(be);
	if (memcmp(head, tag, 4) || len >= size) {
		step(false, "expected %.4s, got %.4s of %u bytes", tag, head,
		     len);
		exit(1);
	}
	read_all(buf, len, tag);
	((char *)buf)[len] = '\0';
	return len;
}

/* Both sides say hello: a write blocks until the other QEMU is there. */
static void link_open(const char *path)
{
	char buf[16];

	link_fd = open(path, O_RDWR);
	if (link_fd < 0)
		fatal(path, errno);
	link_send("HELO", host, strlen(host));
	link_recv("HELO", buf, sizeof(buf));
	note("the link to host %s is up", buf);
}

/* --- one host's side --- */

struct side {
	struct kvm_guest g;
	struct kvm_vdev d;
	int kmsg;
	char crycb[512];
	char log[16384];
};

/* Keep the simulator configuration this host booted with. */
static void host_setup(void)
{
	char cfg[1024];
	ssize_t n;
	int rc;

	n = sysfs_read(AP_SIM_DIR "/config", cfg, sizeof(cfg));
	if (n <= 0)
		fatal("reading the simulator's configuration", n ? n : -EIO);
	cfg[strcspn(cfg, "\n")] = '\0';
	note("simulator: %s", cfg);
	rc = world_reset(cfg, STD_APMASK, MASK_ALL);
	if (rc)
		fatal("host setup", rc);
}

static void guest_setup(struct side *s, const char *uuid)
{
	const char *what = "";
	int rc;

	kvm_guest_init(&s->g);
	kvm_vdev_init(&s->d);
	s->kmsg = kmsg_open();
	if (s->kmsg < 0)
		fatal("/dev/kmsg", s->kmsg);
	rc = mdev_create(uuid);
	if (!rc)
		rc = mdev_write(uuid, "assign_adapter", "5");
	if (!rc)
		rc = mdev_write(uuid, "assign_adapter", "6");
	if (!rc)
		rc = mdev_write(uuid, "assign_domain", "4");
	if (!rc)
		rc = mdev_write(uuid, "assign_domain", "0xab");
	if (!rc)
		rc = mdev_write(uuid, "assign_control_domain", "0xab");
	if (rc)
		fatal("mdev with 5,6 x 4,0xab and control domain 0xab", rc);
	rc = kvm_guest_create(&s->g, &what);
	if (rc)
		fatal(what, rc);
	rc = kvm_vdev_open(&s->d, &s->g, uuid, &what);
	if (rc)
		fatal(what, rc);
	if (ioctl(s->d.dev, VFIO_DEVICE_RESET))
		fatal("VFIO_DEVICE_RESET", errno);
	rc = crycb_text(&s->g, s->crycb, sizeof(s->crycb));
	if (rc)
		fatal("the guest's CRYCB", rc);
}

static void guest_teardown(struct side *s, const char *uuid)
{
	kvm_vdev_close(&s->d);
	step(pinned_pages() == 0, "the closed mdev leaves no page pinned");
	step(sim_guest_irqs() == 0,
	     "the closed mdev leaves no guest interrupt enabled");
	kvm_guest_destroy(&s->g);
	step(mdev_remove(uuid) == 0, "mdev removed");
	close(s->kmsg);
}

static bool crycb_is(struct side *s, const char *want)
{
	char now[512];

	return !crycb_text(&s->g, now, sizeof(now)) && !strcmp(now, want);
}

/* 05.0004's interrupts: on, GISC, the NIB at guest address NIB_GPA. */
static bool irq_as_migrated(struct side *s)
{
	struct sim_irq si;

	return !sim_irq_get(5, 4, &si) && si.on && si.gisc == GISC &&
	       si.nib == guest_phys_to_host(&s->g, NIB_GPA);
}

static bool status_is(unsigned int apid, unsigned int apqi, const char *want)
{
	char buf[64];

	return queue_status(apid, apqi, buf, sizeof(buf)) > 0 &&
	       !strcmp(buf, want);
}

/* PQAP(AQIC) by the guest's vCPU; the response code, or -1. */
static int aqic(struct side *s, uint64_t gr1, uint64_t nib)
{
	struct pqap_result r = { .ret = -1 };

	if (pqap(&s->g, AQIC_GR0(5UL, 4UL), gr1, nib, false, &r) || r.ret)
		return -1;
	return GR1_RC(r.gr1);
}

/* --- host A: the source --- */

/*
 * Offer the guest: the PRE_COPY record to B, B's verdict back. Refused,
 * the guest goes back to RUNNING; accepted, it stops and the final
 * record follows. Returns whether B accepted.
 */
static bool source_offer(struct side *s, int round)
{
	uint8_t rec[RECORD_LEN + 1];
	char verdict[64];
	ssize_t n;
	int fd;

	if (!step(mig_set(s->d.dev, S_PRE_COPY, &fd) == 0,
		  "round %d: PRE_COPY while the guest runs", round))
		exit(1);
	n = read(fd, rec, sizeof(rec));
	step(n == RECORD_LEN, "round %d: the PRE_COPY record has %d bytes",
	     round, RECORD_LEN);
	link_send("PREC", rec, n > 0 ? n : 0);
	link_recv("VERD", verdict, sizeof(verdict));
	note("host B on the first record: %s", verdict);
	if (strcmp(verdict, "accepted")) {
		step(mig_set(s->d.dev, S_RUNNING, NULL) == 0,
		     "round %d: refused by B, PRE_COPY back to RUNNING", round);
		close(fd);
		return false;
	}
	step(mig_set(s->d.dev, S_STOP_COPY, NULL) == 0,
	     "round %d: PRE_COPY to STOP_COPY", round);
	n = mig_read_stream(fd, rec, sizeof(rec), MSG_MAX);
	step(n == RECORD_LEN, "round %d: the final record has %d bytes",
	     round, RECORD_LEN);
	step(be32toh(hdr_at(rec)->flags) == MIG_FINAL &&
	     entry_at(rec, 0)->irq_flags == MIG_IRQ_ON &&
	     be64toh(entry_at(rec, 0)->nib) == NIB_GPA,
	     "round %d: it carries 05.0004's interrupts at NIB 0x%lx", round,
	     NIB_GPA);
	link_send("FINL", rec, n > 0 ? n : 0);
	close(fd);
	step(mig_set(s->d.dev, S_STOP, NULL) == 0, "round %d: STOP", round);
	return true;
}

/* Refused: the source guest is as it was, and running. */
static void source_untouched(struct side *s)
{
	step(mig_get(s->d.dev) == S_RUNNING, "the guest is RUNNING");
	step(crycb_is(s, s->crycb), "its CRYCB is unchanged");
	step(irq_as_migrated(s) && pinned_pages() == 1,
	     "05.0004's interrupts are still on, its NIB still pinned");
	step(status_is(5, 4, "in use\n") && status_is(6, 0xab, "in use\n"),
	     "its queues are still in use");
}

static void source(void)
{
	static struct side s;
	char reply[600];

	host_setup();
	guest_setup(&s, UUID_A);
	step(aqic(&s, AQIC_GR1_ON(GISC), NIB_GPA) == 0,
	     "the guest turns interrupts on for 05.0004 (NIB 0x%lx)", NIB_GPA);
	link_send("CRYC", s.crycb, strlen(s.crycb));

	step(!source_offer(&s, 1), "round 1: B refuses the guest");
	source_untouched(&s);

	step(source_offer(&s, 2), "round 2: B accepts the guest");
	link_recv("DONE", reply, sizeof(reply));
	step(!strcmp(reply, s.crycb),
	     "B's guest has this guest's CRYCB:\n%s", reply);
	guest_teardown(&s, UUID_A);
}

/* --- host B: the target --- */

static void target_round1(struct side *s)
{
	uint8_t rec[RECORD_LEN + 1];
	char crycb[512];
	uint32_t len;
	int fd, rc;

	len = link_recv("PREC", rec, sizeof(rec));
	if (!step(mig_set(s->d.dev, S_RESUMING, &fd) == 0,
		  "round 1: STOP to RESUMING"))
		exit(1);
	if (crycb_text(&s->g, crycb, sizeof(crycb)))
		fatal("the guest's CRYCB", EIO);
	kmsg_collect(s->kmsg, s->log, sizeof(s->log));
	s->log[0] = '\0';
	rc = mig_write_stream(fd, rec, len, MSG_MAX);
	step(rc == -EOPNOTSUPP,
	     "round 1: the first record is refused with EOPNOTSUPP (%s)",
	     strerror(-rc));
	kmsg_collect(s->kmsg, s->log, sizeof(s->log));
	step(kmsg_count(s->log, 4, "queue 05.0004",
			"adapter type 13 here, 14 on the source", NULL) == 1,
	     "round 1: one warning names 05.0004 and both adapter types");
	step(mig_get(s->d.dev) == S_RESUMING && crycb_is(s, crycb),
	     "round 1: still RESUMING, the guest's CRYCB unchanged");
	link_send("VERD", "refused", strlen("refused"));
	close(fd);
	step(ioctl(s->d.dev, VFIO_DEVICE_RESET) == 0 &&
	     mig_get(s->d.dev) == S_RUNNING,
	     "round 1: a device reset ends the session");
}

/* The administrator replaces B's adapters with CEX8 CCA coprocessors. */
static void target_new_cards(struct side *s)
{
	int rc;

	rc = sim_write("adapter_mode", "5 14 cca");
	if (!rc)
		rc = sim_write("adapter_mode", "6 14 cca");
	step(rc == 0, "adapters 5 and 6 become CEX8 CCA coprocessors");
	step(status_is(5, 4, "in use\n") && status_is(6, 0xab, "in use\n"),
	     "the guest's queues are back in use");
	step(mig_set(s->d.dev, S_STOP, NULL) == 0, "RUNNING to STOP");
}

static void target_round2(struct side *s, const char *src)
{
	uint8_t rec[RECORD_LEN + 1];
	uint32_t len;
	int fd;

	len = link_recv("PREC", rec, sizeof(rec));
	if (!step(mig_set(s->d.dev, S_RESUMING, &fd) == 0,
		  "round 2: STOP to RESUMING"))
		exit(1);
	step(mig_write_stream(fd, rec, len, MSG_MAX) == 0,
	     "round 2: the first record is accepted");
	link_send("VERD", "accepted", strlen("accepted"));
	len = link_recv("FINL", rec, sizeof(rec));
	step(mig_write_stream(fd, rec, len, MSG_MAX) == 0,
	     "round 2: the final record is accepted");
	step(mig_set(s->d.dev, S_STOP, NULL) == 0, "round 2: RESUMING to STOP");
	close(fd);
	step(mig_set(s->d.dev, S_RUNNING, NULL) == 0, "STOP to RUNNING");
	if (crycb_text(&s->g, s->crycb, sizeof(s->crycb)))
		fatal("the guest's CRYCB", EIO);
	step(!strcmp(src, s->crycb), "the guest has the source's CRYCB");
	step(irq_as_migrated(s) && pinned_pages() == 1,
	     "05.0004's interrupts are on with the NIB at 0x%lx, pinned",
	     NIB_GPA);
	link_send("DONE", s->crycb, strlen(s->crycb));
	step(aqic(s, AQIC_GR1_OFF, 0) == 0 && sim_guest_irqs() == 0,
	     "the guest turns them off as its own");
}

static void target(void)
{
	static struct side s;
	char src[512];

	host_setup();
	guest_setup(&s, UUID_B);
	link_recv("CRYC", src, sizeof(src));
	step(mig_set(s.d.dev, S_STOP, NULL) == 0, "RUNNING to STOP");
	target_round1(&s);
	target_new_cards(&s);
	target_round2(&s, src);
	guest_teardown(&s, UUID_B);
}

int main(int argc, char **argv)
{
	if (argc != 3 ||
	    (strcmp(argv[1], "source") && strcmp(argv[1], "target"))) {
		fprintf(stderr, "usage: %s source|target LINK\n", argv[0]);
		return 2;
	}
	host = strcmp(argv[1], "source") ? "B" : "A";
	link_open(argv[2]);
	if (*host == 'A')
		source();
	else
		target();
	printf("# %s: %d step(s) failed\n", host, failed);
	return failed ? 1 : 0;
}

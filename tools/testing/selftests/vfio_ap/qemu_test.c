// SPDX-License-Identifier: GPL-2.0
/*
 * Real QEMU as the user of the mdev: Debian's qemu-system-s390x for s390x
 * (QEMU 10 from bookworm-backports; the lab puts it, its libraries and its
 * firmware in qemu/ next to this binary) starts a guest paused (-S: the
 * lab's KVM has no SIE, so vCPUs must never run) with -device vfio-ap.
 * The test talks QMP to it over QEMU's stdio and checks what KVM gives
 * the guest (the lab kernel's kvm/<pid>-<fd>/crycb in debugfs) and what
 * the queues' status says while QEMU plugs, unplugs and answers the
 * removal of the mdev.
 *
 * Host: adapters 5 and 6 (vfio_ap) and 7 (cex4queue), domains 4, 0x47,
 * 0xab and 0xff. A: 5,6 x 4,0xab, control domain 0xab; B: 5 x 0x47.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "vfio_ap_expect.h"

/*
 * Bound on any one answer from QEMU; not a synchronisation delay. Under
 * emulation on the debug kernel QEMU needs tens of seconds to start, so
 * the tests get the time of TEST_TIMEOUT.
 */
#define QMP_TIMEOUT_MS	120000
#define QMP_LINE	65536
#define TEST_TIMEOUT	600

struct qemu {
	pid_t pid;
	int qmp;		/* our end of QEMU's stdio, where QMP talks */
	char in[QMP_LINE];	/* bytes read, not yet taken as lines */
	size_t in_len;
	char events[QMP_LINE];	/* events not yet waited for, one a line */
	char dbg[PATH_MAX];	/* the VM's directory in KVM's debugfs */
};

static void qemu_init(struct qemu *q)
{
	memset(q, 0, sizeof(*q));
	q->pid = -1;
	q->qmp = -1;
}

#define QEMU_STAGE	"/tmp/vfio_ap_qemu"

/*
 * QEMU, staged in tmpfs: the lab puts it in qemu/ beside this binary, on
 * 9p, where every start would read its 40 MB over virtio again. The copy
 * is renamed into place, so a half-done one is never used.
 */
static int qemu_dir(char *out, size_t size)
{
	char exe[PATH_MAX], cmd[2 * PATH_MAX];
	ssize_t n;

	snprintf(out, size, QEMU_STAGE);
	if (!access(QEMU_STAGE "/bin/qemu-system-s390x", X_OK))
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd),
		 "rm -rf %s.tmp && cp -a %s/qemu %s.tmp && mv %s.tmp %s",
		 QEMU_STAGE, dirname(exe), QEMU_STAGE, QEMU_STAGE, QEMU_STAGE);
	if (system(cmd))
		return -ENOENT;
	return access(QEMU_STAGE "/bin/qemu-system-s390x", X_OK) ? -errno : 0;
}

/*
 * QEMU runs through the dynamic loader it came with, so the VM needs no
 * /lib of its own; KVM then wants pgste for every new process, since the
 * loader, not QEMU's own ELF header, is what the kernel sees at exec.
 */
static void qemu_exec(const char *dir, const char *device)
{
	char loader[PATH_MAX], libs[PATH_MAX], bin[PATH_MAX], share[PATH_MAX];
	const char *argv[32];
	int i = 0;

	snprintf(loader, sizeof(loader), "%s/lib/ld64.so.1", dir);
	snprintf(libs, sizeof(libs), "%s/lib", dir);
	snprintf(bin, sizeof(bin), "%s/bin/qemu-system-s390x", dir);
	snprintf(share, sizeof(share), "%s/share", dir);
	argv[i++] = loader;
	argv[i++] = "--library-path";
	argv[i++] = libs;
	argv[i++] = bin;
	argv[i++] = "-L";
	argv[i++] = share;
	argv[i++] = "-machine";
	argv[i++] = "s390-ccw-virtio,accel=kvm";
	argv[i++] = "-cpu";
	argv[i++] = "host";
	argv[i++] = "-m";
	argv[i++] = "64";
	argv[i++] = "-nodefaults";
	argv[i++] = "-display";
	argv[i++] = "none";
	argv[i++] = "-S";
	argv[i++] = "-qmp";
	argv[i++] = "stdio";
	if (device) {
		argv[i++] = "-device";
		argv[i++] = device;
	}
	argv[i] = NULL;
	execv(loader, (char * const *)argv);
	perror("exec QEMU");
	_exit(127);
}

/* Next line from QEMU into @line, without the newline; 0 or -errno. */
static int qmp_line(struct qemu *q, char *line, size_t size)
{
	struct pollfd p = { .fd = q->qmp, .events = POLLIN };
	char *nl;
	size_t len;
	ssize_t n;

	while (!(nl = memchr(q->in, '\n', q->in_len))) {
		if (q->in_len == sizeof(q->in))
			return -E2BIG;
		n = poll(&p, 1, QMP_TIMEOUT_MS);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0)
			return -errno;
		n = read(q->qmp, q->in + q->in_len, sizeof(q->in) - q->in_len);
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return -errno;
		q->in_len += n;
	}
	len = nl - q->in;
	if (len >= size)
		return -E2BIG;
	memcpy(line, q->in, len);
	line[len] = '\0';
	q->in_len -= len + 1;
	memmove(q->in, nl + 1, q->in_len);
	return 0;
}

static void event_keep(struct qemu *q, const char *line)
{
	size_t len = strlen(q->events);

	snprintf(q->events + len, sizeof(q->events) - len, "%s\n", line);
}

/*
 * Run @cmd; its answer goes to @reply. Events arriving meanwhile are kept
 * for qmp_event(). 0 on "return", -EIO on "error", else -errno.
 */
static int qmp(struct qemu *q, const char *cmd, char *reply, size_t size)
{
	char line[QMP_LINE];
	size_t len = strlen(cmd);
	int rc;

	if (write(q->qmp, cmd, len) != (ssize_t)len || write(q->qmp, "\n", 1) != 1)
		return -errno;
	for (;;) {
		rc = qmp_line(q, line, sizeof(line));
		if (rc)
			return rc;
		if (strstr(line, "\"event\"")) {
			event_keep(q, line);
			continue;
		}
		if (reply && size) {
			len = strnlen(line, size - 1);
			memcpy(reply, line, len);
			reply[len] = '\0';
		}
		if (!strncmp(line, "{\"return\"", 9))
			return 0;
		if (!strncmp(line, "{\"error\"", 8))
			return -EIO;
	}
}

/* Wait for event @name (kept or still to come) and take it; 0 or -errno. */
static int qmp_event(struct qemu *q, const char *name)
{
	char line[QMP_LINE], key[128], *hit, *end;
	int rc;

	snprintf(key, sizeof(key), "\"event\": \"%s\"", name);
	hit = strstr(q->events, key);
	if (hit) {
		while (hit > q->events && hit[-1] != '\n')
			hit--;
		end = strchr(hit, '\n');
		memmove(hit, end + 1, strlen(end + 1) + 1);
		return 0;
	}
	for (;;) {
		rc = qmp_line(q, line, sizeof(line));
		if (rc)
			return rc;
		if (strstr(line, key))
			return 0;
		if (strstr(line, "\"event\""))
			event_keep(q, line);
	}
}

/* The debugfs directory of the one VM process @pid has. */
static int kvm_dbg_dir(pid_t pid, char *out, size_t size)
{
	char pattern[64];
	glob_t g;
	int rc = -ENOENT;

	snprintf(pattern, sizeof(pattern), "/sys/kernel/debug/kvm/%d-*", pid);
	if (glob(pattern, 0, NULL, &g))
		return rc;
	if (g.gl_pathc == 1) {
		snprintf(out, size, "%s", g.gl_pathv[0]);
		rc = 0;
	}
	globfree(&g);
	return rc;
}

/*
 * Start QEMU with the vfio-ap device "ap0" for mdev @uuid (none if NULL),
 * up to a paused guest whose QMP is ready; @step names what failed.
 */
static int qemu_start(struct qemu *q, const char *uuid, const char **step)
{
	char dir[256], device[256], line[QMP_LINE];
	int sv[2], rc;

	*step = "stage qemu/ (beside the test) in " QEMU_STAGE;
	rc = qemu_dir(dir, sizeof(dir));
	if (rc)
		return rc;
	*step = "allocate_pgste";
	rc = sysfs_write("/proc/sys/vm/allocate_pgste", "1");
	if (rc)
		return rc;
	*step = "socketpair";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	if (uuid)
		snprintf(device, sizeof(device),
			 "vfio-ap,id=ap0,sysfsdev=" MATRIX_DIR "/%s", uuid);
	q->pid = fork();
	if (q->pid == 0) {
		dup2(sv[1], STDIN_FILENO);
		dup2(sv[1], STDOUT_FILENO);
		qemu_exec(dir, uuid ? device : NULL);
	}
	close(sv[1]);
	q->qmp = sv[0];
	*step = "fork";
	if (q->pid < 0)
		return -errno;
	*step = "QMP greeting (QEMU failed to start?)";
	rc = qmp_line(q, line, sizeof(line));
	if (rc)
		return rc;
	if (strncmp(line, "{\"QMP\"", 6))
		return -EPROTO;
	*step = "qmp_capabilities";
	rc = qmp(q, "{\"execute\": \"qmp_capabilities\"}", NULL, 0);
	if (rc)
		return rc;
	*step = "the VM in KVM's debugfs";
	return kvm_dbg_dir(q->pid, q->dbg, sizeof(q->dbg));
}

/* Make QEMU quit and reap it; it is killed if QMP does not get through. */
static int qemu_stop(struct qemu *q)
{
	int status = 0;

	if (q->pid > 0) {
		if (q->qmp < 0 || qmp(q, "{\"execute\": \"quit\"}", NULL, 0))
			kill(q->pid, SIGKILL);
		waitpid(q->pid, &status, 0);
		q->pid = -1;
	}
	if (q->qmp >= 0)
		close(q->qmp);
	q->qmp = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int crycb_read(const struct qemu *q, char *buf, size_t size)
{
	char path[PATH_MAX + 8];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/crycb", q->dbg);
	n = sysfs_read(path, buf, size);
	return n < 0 ? n : 0;
}

/* The guest of @q has adapters @apm, domains @aqm, control domains @adm. */
static void expect_crycb(struct __test_metadata *_metadata,
			 const struct qemu *q, const char *apm,
			 const char *aqm, const char *adm)
{
	char want[256], got[512];
	struct ap_matrix mx;

	ASSERT_EQ(0, ids_parse(apm, &mx.apm));
	ASSERT_EQ(0, ids_parse(aqm, &mx.aqm));
	ASSERT_EQ(0, ids_parse(adm, &mx.adm));
	matrix_fmt_crycb(&mx, want);
	ASSERT_EQ(0, crycb_read(q, got, sizeof(got)))
		TH_LOG("no crycb in %s: is the lab's KVM patch applied?",
		       q->dbg);
	EXPECT_STREQ(want, got) TH_LOG("CRYCB APM/AQM/ADM of QEMU's guest");
}

/* A's queues all read @want. */
static void expect_status_a(struct __test_metadata *_metadata,
			    const char *want)
{
	expect_status(_metadata, 5, 4, want);
	expect_status(_metadata, 5, 0xab, want);
	expect_status(_metadata, 6, 4, want);
	expect_status(_metadata, 6, 0xab, want);
}

#define GUEST_A	"05.0004\n05.00ab\n06.0004\n06.00ab\n"
#define DEVICE_ADD_A	"{\"execute\": \"device_add\", \"arguments\": " \
			"{\"driver\": \"vfio-ap\", \"id\": \"ap0\", " \
			"\"sysfsdev\": \"" MATRIX_DIR "/" UUID_A "\"}}"
#define DEVICE_DEL	"{\"execute\": \"device_del\", \"arguments\": " \
			"{\"id\": \"ap0\"}}"

FIXTURE(qemu) {
	struct qemu q;
};

FIXTURE_SETUP(qemu)
{
	qemu_init(&self->q);
	ASSERT_EQ(0, world_std());
	ASSERT_EQ(0, mdev_create(UUID_A));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_adapter", "6"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "4"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0xab"));
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_control_domain", "0xab"));
	expect_attr(_metadata, UUID_A, "guest_matrix", GUEST_A);
}

FIXTURE_TEARDOWN(qemu)
{
	qemu_stop(&self->q);
	world_std();
}

/* Started with -device vfio-ap: the paused guest already has A's matrix. */
TEST_F_TIMEOUT(qemu, paused_guest_sees_the_matrix, TEST_TIMEOUT)
{
	const char *step;
	char reply[512];
	int rc;

	rc = qemu_start(&self->q, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", step, strerror(-rc));
	ASSERT_EQ(0, qmp(&self->q, "{\"execute\": \"query-status\"}",
			 reply, sizeof(reply)));
	EXPECT_NE(NULL, strstr(reply, "\"status\": \"prelaunch\""))
		TH_LOG("%s", reply);
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	expect_status_a(_metadata, "in use\n");

	/* The admin's changes reach the guest QEMU holds. */
	ASSERT_EQ(0, mdev_write(UUID_A, "assign_domain", "0x47"));
	expect_crycb(_metadata, &self->q, "5,6", "4,0x47,0xab", "0xab");
	/* So do the host's, as the AP bus sees them. */
	ASSERT_EQ(0, sim_write("remove_adapter", "6"));
	expect_crycb(_metadata, &self->q, "5", "4,0x47,0xab", "0xab");
	ASSERT_EQ(0, sim_write("add_adapter", "6"));
	expect_crycb(_metadata, &self->q, "5,6", "4,0x47,0xab", "0xab");
	expect_status_a(_metadata, "in use\n");
	ASSERT_EQ(0, mdev_write(UUID_A, "unassign_adapter", "6"));
	expect_crycb(_metadata, &self->q, "5", "4,0x47,0xab", "0xab");
	expect_status(_metadata, 6, 4, "unassigned\n");

	EXPECT_EQ(0, qemu_stop(&self->q)) TH_LOG("QEMU's exit status");
	expect_status(_metadata, 5, 4, "assigned\n");
}

/* The hot-plug flow of the admin guide: device_del, then device_add. */
TEST_F_TIMEOUT(qemu, device_del_then_device_add, TEST_TIMEOUT)
{
	const char *step;
	int rc;

	rc = qemu_start(&self->q, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");

	ASSERT_EQ(0, qmp(&self->q, DEVICE_DEL, NULL, 0));
	ASSERT_EQ(0, qmp_event(&self->q, "DEVICE_DELETED"));
	expect_crycb(_metadata, &self->q, "", "", "");
	expect_status_a(_metadata, "assigned\n");

	ASSERT_EQ(0, qmp(&self->q, DEVICE_ADD_A, NULL, 0));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	expect_status_a(_metadata, "in use\n");

	/* and once more, to see nothing was left behind by the first */
	ASSERT_EQ(0, qmp(&self->q, DEVICE_DEL, NULL, 0));
	ASSERT_EQ(0, qmp_event(&self->q, "DEVICE_DELETED"));
	expect_crycb(_metadata, &self->q, "", "", "");
	ASSERT_EQ(0, qmp(&self->q, DEVICE_ADD_A, NULL, 0));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
}

/* A guest started without the device gets it plugged later. */
TEST_F_TIMEOUT(qemu, device_add_to_a_guest_without_one, TEST_TIMEOUT)
{
	const char *step;
	int rc;

	rc = qemu_start(&self->q, NULL, &step);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->q, "", "", "");
	expect_status_a(_metadata, "assigned\n");
	ASSERT_EQ(0, qmp(&self->q, DEVICE_ADD_A, NULL, 0));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	expect_status_a(_metadata, "in use\n");
}

struct remover {
	pthread_t thread;
	int rc;
};

static void *remove_a(void *arg)
{
	struct remover *r = arg;

	r->rc = mdev_write(UUID_A, "remove", "1");
	return NULL;
}

/*
 * Removing the mdev under QEMU: the write blocks while the driver asks
 * through the REQ eventfd; QEMU's handler unplugs the device, which lets
 * the removal complete. The guest itself goes on.
 */
TEST_F_TIMEOUT(qemu, remove_is_answered_by_qemu, TEST_TIMEOUT)
{
	struct remover r = { .rc = -EINPROGRESS };
	const char *step;
	char reply[512];
	int rc, unplugged;

	rc = qemu_start(&self->q, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");

	ASSERT_EQ(0, pthread_create(&r.thread, NULL, remove_a, &r));
	unplugged = qmp_event(&self->q, "DEVICE_DELETED");
	/* If QEMU did not answer, let go of the device so the write ends. */
	if (unplugged)
		qmp(&self->q, DEVICE_DEL, NULL, 0);
	pthread_join(r.thread, NULL);
	EXPECT_EQ(0, unplugged) TH_LOG("QEMU did not unplug on REQ: %s",
				       strerror(-unplugged));
	EXPECT_EQ(0, r.rc) TH_LOG("remove: %s", strerror(-r.rc));
	EXPECT_FALSE(mdev_exists(UUID_A));
	expect_crycb(_metadata, &self->q, "", "", "");
	expect_status_a(_metadata, "unassigned\n");
	ASSERT_EQ(0, qmp(&self->q, "{\"execute\": \"query-status\"}",
			 reply, sizeof(reply)));
	EXPECT_NE(NULL, strstr(reply, "\"status\": \"prelaunch\""))
		TH_LOG("%s", reply);
}

/* Two guests, one mdev each: each CRYCB holds only its own matrix. */
TEST_F_TIMEOUT(qemu, two_guests_two_mdevs, TEST_TIMEOUT)
{
	struct qemu b;
	const char *step;
	int rc;

	qemu_init(&b);
	ASSERT_EQ(0, mdev_create(UUID_B));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_adapter", "5"));
	ASSERT_EQ(0, mdev_write(UUID_B, "assign_domain", "0x47"));
	rc = qemu_start(&self->q, UUID_A, &step);
	ASSERT_EQ(0, rc) TH_LOG("A: %s: %s", step, strerror(-rc));
	rc = qemu_start(&b, UUID_B, &step);
	if (rc)
		qemu_stop(&b);
	ASSERT_EQ(0, rc) TH_LOG("B: %s: %s", step, strerror(-rc));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	expect_crycb(_metadata, &b, "5", "0x47", "");
	expect_status(_metadata, 5, 0x47, "in use\n");

	/* An APQN can serve one mdev only; the other guest keeps its own. */
	EXPECT_EQ(-EADDRINUSE, mdev_write(UUID_A, "assign_domain", "0x47"));
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
	EXPECT_EQ(0, qemu_stop(&b));
	expect_status(_metadata, 5, 0x47, "assigned\n");
	expect_crycb(_metadata, &self->q, "5,6", "4,0xab", "0xab");
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Starting, talking to and stopping real QEMU for the test programs; see
 * vfio_ap_qemu.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "vfio_ap_qemu.h"
#include "vfio_ap_util.h"

#define QEMU_ARGS_MAX	48
/* Where a QEMU is staged: "/tmp/vfio_ap_" and the name of its build */
#define STAGE_LEN	64

void qemu_init(struct qemu *q)
{
	memset(q, 0, sizeof(*q));
	q->pid = -1;
	q->qmp = -1;
}

/*
 * QEMU @build, staged in tmpfs at @out: the lab puts it beside this
 * binary, on 9p, where every start would read its 40 MB over virtio
 * again. The copy is renamed into place, so a half-done one is never used.
 */
static int qemu_dir(const char *build, char out[STAGE_LEN])
{
	char exe[PATH_MAX], bin[STAGE_LEN + 32], cmd[2 * PATH_MAX + 8 * STAGE_LEN];
	ssize_t n;

	if (snprintf(out, STAGE_LEN, "/tmp/vfio_ap_%s", build) >= STAGE_LEN)
		return -ENAMETOOLONG;
	snprintf(bin, sizeof(bin), "%.64s/bin/qemu-system-s390x", out);
	if (!access(bin, X_OK))
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd),
		 "rm -rf %.64s.tmp && cp -a %s/%.64s %.64s.tmp && mv %.64s.tmp %.64s",
		 out, dirname(exe), build, out, out, out);
	if (system(cmd))
		return -ENOENT;
	return access(bin, X_OK) ? -errno : 0;
}

/*
 * QEMU runs through the dynamic loader it came with, so the VM needs no
 * /lib of its own; KVM then wants pgste for every new process, since the
 * loader, not QEMU's own ELF header, is what the kernel sees at exec.
 */
static void qemu_exec(const char *dir, const char *const *args)
{
	char loader[STAGE_LEN + 32], libs[STAGE_LEN + 32];
	char bin[STAGE_LEN + 32], share[STAGE_LEN + 32];
	const char *argv[QEMU_ARGS_MAX + 1];
	int i = 0;

	snprintf(loader, sizeof(loader), "%.64s/lib/ld64.so.1", dir);
	snprintf(libs, sizeof(libs), "%.64s/lib", dir);
	snprintf(bin, sizeof(bin), "%.64s/bin/qemu-system-s390x", dir);
	snprintf(share, sizeof(share), "%.64s/share", dir);
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
	while (args && *args && i < QEMU_ARGS_MAX)
		argv[i++] = *args++;
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

int qmp(struct qemu *q, const char *cmd, char *reply, size_t size)
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

static bool event_is(const char *line, const char *key, const char *text)
{
	return strstr(line, key) && (!text || strstr(line, text));
}

/* Take the first kept event that event_is(); whether there was one. */
static bool event_take(struct qemu *q, const char *key, const char *text)
{
	char *line = q->events, *end;

	for (; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)	/* cut short by a full buffer */
			return false;
		*end = '\0';
		if (event_is(line, key, text)) {
			memmove(line, end + 1, strlen(end + 1) + 1);
			return true;
		}
		*end = '\n';
	}
	return false;
}

int qmp_event(struct qemu *q, const char *name, const char *text)
{
	char line[QMP_LINE], key[128];
	int rc;

	snprintf(key, sizeof(key), "\"event\": \"%s\"", name);
	if (event_take(q, key, text))
		return 0;
	for (;;) {
		rc = qmp_line(q, line, sizeof(line));
		if (rc)
			return rc;
		if (event_is(line, key, text))
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

int qemu_start(struct qemu *q, const char *build, const char *const *args,
	       const char **step)
{
	char dir[STAGE_LEN], line[QMP_LINE];
	int sv[2], rc;

	*step = "stage QEMU (beside the test) in /tmp";
	rc = qemu_dir(build, dir);
	if (rc)
		return rc;
	*step = "allocate_pgste";
	rc = sysfs_write("/proc/sys/vm/allocate_pgste", "1");
	if (rc)
		return rc;
	*step = "socketpair";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	q->pid = fork();
	if (q->pid == 0) {
		dup2(sv[1], STDIN_FILENO);
		dup2(sv[1], STDOUT_FILENO);
		qemu_exec(dir, args);
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

int qemu_stop(struct qemu *q)
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

int crycb_read(const struct qemu *q, char *buf, size_t size)
{
	char path[PATH_MAX + 8];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/crycb", q->dbg);
	n = sysfs_read(path, buf, size);
	return n < 0 ? n : 0;
}

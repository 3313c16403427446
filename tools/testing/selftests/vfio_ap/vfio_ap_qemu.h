/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real QEMU for the test programs: a qemu-system-s390x for s390x that the
 * lab puts in a directory beside the test binary (bin/, lib/ with the
 * dynamic loader, share/), started as a paused guest (-S: the lab's KVM
 * has no SIE) that the test drives through QMP over QEMU's stdio.
 */
#ifndef VFIO_AP_QEMU_H
#define VFIO_AP_QEMU_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Bound on any one answer from QEMU; not a synchronisation delay. Under
 * emulation on the debug kernel QEMU needs tens of seconds to start.
 */
#define QMP_TIMEOUT_MS	120000
#define QMP_LINE	65536

struct qemu {
	pid_t pid;
	int qmp;		/* our end of QEMU's stdio, where QMP talks */
	char in[QMP_LINE];	/* bytes read, not yet taken as lines */
	size_t in_len;
	char events[QMP_LINE];	/* events not yet waited for, one a line */
	char dbg[64];		/* the VM's directory in KVM's debugfs */
};

void qemu_init(struct qemu *q);

/*
 * Start the QEMU of directory @build beside the test binary ("qemu") with
 * the extra arguments @args (NULL-terminated, may be NULL), up to a paused
 * guest whose QMP is ready; @step names what failed. 0 or -errno.
 */
int qemu_start(struct qemu *q, const char *build, const char *const *args,
	       const char **step);

/* Make QEMU quit and reap it; its exit status, -1 if it was killed. */
int qemu_stop(struct qemu *q);

/*
 * Run @cmd; its answer goes to @reply. Events arriving meanwhile are kept
 * for qmp_event(). 0 on "return", -EIO on "error", else -errno.
 */
int qmp(struct qemu *q, const char *cmd, char *reply, size_t size);

/*
 * Wait for event @name whose line also holds @text (any if NULL), kept or
 * still to come, and take it; 0 or -errno.
 */
int qmp_event(struct qemu *q, const char *name, const char *text);

/* The guest's CRYCB as the lab's KVM shows it (APM, AQM, ADM lines). */
int crycb_read(const struct qemu *q, char *buf, size_t size);

#endif

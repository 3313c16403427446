// SPDX-License-Identifier: GPL-2.0
/*
 * The VMM's side of VFIO migration; see vfio_ap_mig.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "vfio_ap_mig.h"

const char *mig_state_name(unsigned int s)
{
	static const char * const names[] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P",
		"PRE_COPY", "PRE_COPY_P2P",
	};

	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

int mig_feature(int dev, uint32_t flags, void *data, size_t size)
{
	char buf[sizeof(struct vfio_device_feature) + 64];
	struct vfio_device_feature *f = (void *)buf;

	if (size > 64)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	f->argsz = sizeof(*f) + size;
	f->flags = flags;
	memcpy(f->data, data, size);
	if (ioctl(dev, VFIO_DEVICE_FEATURE, f))
		return -errno;
	memcpy(data, f->data, size);
	return 0;
}

int mig_set(int dev, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state st = { .device_state = state };
	int rc;

	rc = mig_feature(dev, VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st));
	if (data_fd)
		*data_fd = rc ? -1 : st.data_fd;
	else if (!rc && st.data_fd >= 0)
		close(st.data_fd);
	return rc;
}

int mig_get(int dev)
{
	struct vfio_device_feature_mig_state st = { .data_fd = -1 };
	int rc;

	rc = mig_feature(dev, VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st));
	return rc ? rc : (int)st.device_state;
}

ssize_t mig_read_stream(int fd, uint8_t *buf, size_t size, size_t chunk)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + len, size - len < chunk ? size - len : chunk);
		if (n < 0)
			return -errno;
		if (n == 0)
			return len;
		len += n;
	}
}

int mig_write_stream(int fd, const uint8_t *buf, size_t len, size_t chunk)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, buf + off, len - off < chunk ? len - off : chunk);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		off += n;
	}
	return 0;
}

int crycb_text(const struct kvm_guest *g, char *buf, size_t size)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/crycb", g->dbg);
	n = sysfs_read(path, buf, size);
	return n < 0 ? n : 0;
}

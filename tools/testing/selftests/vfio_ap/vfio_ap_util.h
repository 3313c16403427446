/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vfio_ap selftests: sysfs I/O with errno, and the
 * lab's AP simulator (debugfs) to shape the host AP configuration.
 */
#ifndef VFIO_AP_UTIL_H
#define VFIO_AP_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define MATRIX_DIR	"/sys/devices/vfio_ap/matrix"
#define MDEV_TYPE_DIR	MATRIX_DIR "/mdev_supported_types/vfio_ap-passthrough"
#define AP_BUS_DIR	"/sys/bus/ap"
#define AP_SIM_DIR	"/sys/kernel/debug/ap_sim"

/* Write @val to @path; 0 or -errno of the write. */
int sysfs_write(const char *path, const char *val);
/* Read @path into @buf (NUL-terminated); bytes read or -errno. */
ssize_t sysfs_read(const char *path, char *buf, size_t size);

#endif

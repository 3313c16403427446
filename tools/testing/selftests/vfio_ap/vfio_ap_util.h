/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vfio_ap selftests: sysfs I/O with errno, the
 * lab's AP simulator (debugfs) to shape the host AP configuration, AP
 * masks in the MSB-0 numbering of the interface, the filtering rules of
 * the contract (to compute what guest_matrix must show) and the kernel
 * log.
 */
#ifndef VFIO_AP_UTIL_H
#define VFIO_AP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../kselftest.h"	/* __printf, ARRAY_SIZE */

#define MATRIX_DIR	"/sys/devices/vfio_ap/matrix"
#define MDEV_TYPE_DIR	MATRIX_DIR "/mdev_supported_types/vfio_ap-passthrough"
#define AP_BUS_DIR	"/sys/bus/ap"
#define AP_DEV_DIR	AP_BUS_DIR "/devices"
#define VFIO_AP_DRV_DIR	AP_BUS_DIR "/drivers/vfio_ap"
#define AP_SIM_DIR	"/sys/kernel/debug/ap_sim"
#define VFIO_AP_KO	"/lab/vfio_ap.ko"

#define UUID_A		"62177883-f1bb-47f0-914d-32a22e3a8804"
#define UUID_B		"cef03c3c-903d-4ecc-9a83-40694cb8aee4"
#define UUID_C		"a8c9e2f1-3c1d-4f8e-9b6a-0d2e4f6a8b10"

#define AP_IDS		256
#define MASK_ALL	"0xffffffffffffffffffffffffffffffff" \
			"ffffffffffffffffffffffffffffffff"
#define MASK_NONE	"0x00000000000000000000000000000000" \
			"00000000000000000000000000000000"
#define CONFIG_NONE	MASK_NONE "," MASK_NONE "," MASK_NONE "\n"

/*
 * The standard host of most tests: adapters 5 and 6 and the spare
 * adapters 8 and 9 (not in the configuration, for over-provisioning)
 * belong to vfio_ap; adapter 7 stays with the host's default drivers.
 */
#define STD_CONFIG	"adapters=5-7 domains=4,0x47,0xab,0xff " \
			"control_domains=4,0x47,0xab,0xff"
#define STD_APMASK	"0xf93fffffffffffffffffffffffffffff" \
			"ffffffffffffffffffffffffffffffff"

/* A 256-bit AP mask; ID 0 is the leftmost bit (MSB-0). */
struct ap_mask {
	unsigned char b[AP_IDS / 8];
};

/* The three masks of an mdev (ap_config) or of the host (simulator). */
struct ap_matrix {
	struct ap_mask apm;
	struct ap_mask aqm;
	struct ap_mask adm;
};

/* Write @val to @path; 0 or -errno of the write. */
int sysfs_write(const char *path, const char *val);
/* Write @len bytes of @buf (may hold NULs) to @path; 0 or -errno. */
int sysfs_write_len(const char *path, const void *buf, size_t len);
/* Read @path into @buf (NUL-terminated); bytes read or -errno. */
ssize_t sysfs_read(const char *path, char *buf, size_t size);
bool path_exists(const char *path);

void mask_clear(struct ap_mask *m);
void mask_set(struct ap_mask *m, unsigned int id);
void mask_clr(struct ap_mask *m, unsigned int id);
bool mask_test(const struct ap_mask *m, unsigned int id);
bool mask_empty(const struct ap_mask *m);
void mask_and(struct ap_mask *d, const struct ap_mask *a,
	      const struct ap_mask *b);
/* "0x" and 64 hex digits; @out holds at least 67 bytes. */
void mask_fmt(const struct ap_mask *m, char *out);
/* "0x" and 64 hex digits, as the AP bus and ap_config show them. */
int mask_parse(const char *s, struct ap_mask *m);

/* ap_config of an mdev, parsed. */
int mdev_config(const char *uuid, struct ap_matrix *mx);
/* An ap_config write value for @mx. @out holds at least 210 bytes. */
void matrix_fmt_config(const struct ap_matrix *mx, char *out);
/* The matrix/guest_matrix text for adapters @apm and domains @aqm. */
void matrix_fmt_apqns(const struct ap_mask *apm, const struct ap_mask *aqm,
		      char *out, size_t size);
/* The control_domains text for @adm. */
void matrix_fmt_domains(const struct ap_mask *adm, char *out, size_t size);
/*
 * APM, AQM and ADM a line each, as the lab's KVM debugfs file crycb shows
 * them; @out holds at least 202 bytes.
 */
void matrix_fmt_crycb(const struct ap_matrix *mx, char *out);
/* A list of IDs such as "5,0xab" into @m; -EINVAL on anything else. */
int ids_parse(const char *s, struct ap_mask *m);

int mdev_create(const char *uuid);
int mdev_remove(const char *uuid);
bool mdev_exists(const char *uuid);
/* Remove every mdev of the parent; 0 or -errno of the first failure. */
int mdev_remove_all(void);
int mdev_write(const char *uuid, const char *attr, const char *val);
int mdev_write_len(const char *uuid, const char *attr, const void *buf,
		   size_t len);
ssize_t mdev_read(const char *uuid, const char *attr, char *buf, size_t size);
/* Three-step helpers of the assign attributes, with a number. */
int mdev_assign(const char *uuid, const char *attr, unsigned int id);

/* Simulator control file @file of AP_SIM_DIR. */
int sim_write(const char *file, const char *val);
__printf(2, 3) int sim_writef(const char *file, const char *fmt, ...);
/* The simulator's configuration: adapters, usage and control domains. */
int sim_host(struct ap_matrix *host);

/*
 * Counters of the simulator, read at once: zapq of each APQN.
 * counters_snap() fills @c; counters_zapq() looks one APQN up.
 */
struct ap_counters {
	unsigned short zapq[AP_IDS][AP_IDS];
};

int counters_zero(void);
int counters_snap(struct ap_counters *c);
unsigned int counters_zapq(const struct ap_counters *c, unsigned int apid,
			   unsigned int apqi);
/* The sum of all ZAPQ counts. */
unsigned long counters_zapq_total(const struct ap_counters *c);

/* Queue devices on the AP bus. */
void apqn_name(unsigned int apid, unsigned int apqi, char *out);
bool queue_exists(unsigned int apid, unsigned int apqi);
bool queue_bound_vfio(unsigned int apid, unsigned int apqi);
/* Name of the driver a queue is bound to, "" if none; 0 or -errno. */
int queue_driver(unsigned int apid, unsigned int apqi, char *out,
		 size_t size);
int queue_unbind_vfio(unsigned int apid, unsigned int apqi);
int queue_bind_vfio(unsigned int apid, unsigned int apqi);
ssize_t queue_status(unsigned int apid, unsigned int apqi, char *buf,
		     size_t size);

/*
 * The guest matrix the contract gives for @mx on the current host: the
 * assigned adapters and domains in the host configuration, then every
 * adapter with an APQN (over those domains) that is not a queue bound to
 * vfio_ap left out. Writes the guest_matrix text into @out.
 */
int guest_matrix_expected(const struct ap_matrix *mx, char *out,
			  size_t size);

/*
 * A known world: no mdevs, no faults, no reset delay, the simulator
 * configuration @config, the AP bus masks @apmask/@aqmask, every queue
 * bound to a driver again, counters zero. vfio_ap is loaded if needed.
 * 0 or -errno.
 */
int world_reset(const char *config, const char *apmask, const char *aqmask);
int world_std(void);

/* vfio_ap module load/unload. */
bool vfio_ap_loaded(void);
int vfio_ap_unload(void);
int vfio_ap_load(void);

/*
 * The kernel log from /dev/kmsg: kmsg_open() starts at the end,
 * kmsg_collect() appends every new record as "<level> <text>\n".
 */
int kmsg_open(void);
int kmsg_collect(int fd, char *buf, size_t size);
/* Lines of @log at level <= @max_level that contain all of @s1..@s3. */
int kmsg_count(const char *log, int max_level, const char *s1,
	       const char *s2, const char *s3);
/*
 * Bind again every queue whose reset the kernel log (since @kmsg was
 * opened) reports as failed: the driver withholds such a queue until then,
 * and world_std() does not do it.
 */
void queues_rebind_withheld(int kmsg);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sysfs input and output of vfio_ap, the bounded lists of IDs its log
 * lines name APQNs with, and the lines of its debugfs view of what a
 * guest lacks.  Pure functions, like the hot-plug engine whose APCB type
 * they read and fill.
 */
#ifndef _VFIO_AP_FORMAT_H_
#define _VFIO_AP_FORMAT_H_

#include <linux/types.h>

#include "vfio_ap_hotplug.h"

/* Length of one line of matrix output: "aa.dddd\n". */
#define VFIO_AP_APQN_LINE_LEN	8

int vfio_ap_parse_id(const char *buf, unsigned int max_id,
		     unsigned long *id);
int vfio_ap_parse_ap_config(const char *buf, struct vfio_ap_apcb *apcb);
int vfio_ap_check_apcb_limits(const struct vfio_ap_apcb *apcb,
			      unsigned int max_apid, unsigned int max_apqi);

ssize_t vfio_ap_format_matrix(char *buf, size_t size,
			      const unsigned long *apm,
			      const unsigned long *aqm);
ssize_t vfio_ap_format_domains(char *buf, size_t size,
			       const unsigned long *adm);
ssize_t vfio_ap_format_ap_config(char *buf, size_t size,
				 const struct vfio_ap_apcb *apcb);

/*
 * Room for one list of vfio_ap_format_id_ranges() in a log line: two of
 * them, a UUID and the message stay far below printk's 1024-byte record.
 */
#define VFIO_AP_ID_RANGES_LEN	256

int vfio_ap_format_id_ranges(char *buf, size_t size, const unsigned long *mask,
			     int digits);

/**
 * struct vfio_ap_apqns_text - a set of APQNs, adapters x domains, for a log line
 * @apids: the adapters as a range list, e.g. "05-06,0a"
 * @apqis: the domains as a range list, e.g. "0004,0047-0049"
 */
struct vfio_ap_apqns_text {
	char apids[VFIO_AP_ID_RANGES_LEN];
	char apqis[VFIO_AP_ID_RANGES_LEN];
};

void vfio_ap_apqns_text(struct vfio_ap_apqns_text *text,
			const unsigned long *apm, const unsigned long *aqm);

/**
 * enum vfio_ap_why_kind - what a line of the not_in_guest view is about
 * @VFIO_AP_WHY_ADAPTER: an assigned adapter
 * @VFIO_AP_WHY_DOMAIN: an assigned usage domain
 * @VFIO_AP_WHY_CONTROL_DOMAIN: an assigned control domain
 */
enum vfio_ap_why_kind {
	VFIO_AP_WHY_ADAPTER,
	VFIO_AP_WHY_DOMAIN,
	VFIO_AP_WHY_CONTROL_DOMAIN,
};

/**
 * enum vfio_ap_why_reason - why the guest lacks an assigned ID
 * @VFIO_AP_WHY_NOT_IN_HOST: the host's AP configuration lacks it
 * @VFIO_AP_WHY_PENDING: nothing withholds it; the guest gets it when the
 *			 AP bus finishes its scan
 * @VFIO_AP_WHY_QUEUE_DRIVER: a queue of the adapter is bound to another
 *			      driver, or to none
 * @VFIO_AP_WHY_QUEUE_NO_DEVICE: a queue of the adapter has no device on
 *				 the AP bus
 * @VFIO_AP_WHY_RESET_FAILED: a queue of the adapter is withheld because
 *			      its reset answered an unexpected response code
 * @VFIO_AP_WHY_RESET_TIMEOUT: a queue of the adapter is withheld because
 *			       its reset did not complete in time
 * @VFIO_AP_WHY_QUEUE_UNUSABLE: a queue of the adapter is bound to vfio_ap
 *				but not usable, for none of the reasons above
 */
enum vfio_ap_why_reason {
	VFIO_AP_WHY_NOT_IN_HOST,
	VFIO_AP_WHY_PENDING,
	VFIO_AP_WHY_QUEUE_DRIVER,
	VFIO_AP_WHY_QUEUE_NO_DEVICE,
	VFIO_AP_WHY_RESET_FAILED,
	VFIO_AP_WHY_RESET_TIMEOUT,
	VFIO_AP_WHY_QUEUE_UNUSABLE,
};

/**
 * struct vfio_ap_why_line - one line of the not_in_guest view
 * @kind: an enum vfio_ap_why_kind
 * @reason: an enum vfio_ap_why_reason
 * @id: the adapter or domain number
 * @apqi: for the reasons about a queue: its domain (the adapter is @id)
 * @rc: for the reset reasons: the response code the reset last saw
 */
struct vfio_ap_why_line {
	u8 kind;
	u8 reason;
	u8 id;
	u8 apqi;
	u8 rc;
};

/* Room for any line of vfio_ap_format_why() with a driver name of 63. */
#define VFIO_AP_WHY_LINE_LEN	128

int vfio_ap_format_why(char *buf, size_t size,
		       const struct vfio_ap_why_line *line,
		       const char *driver);

#endif /* _VFIO_AP_FORMAT_H_ */

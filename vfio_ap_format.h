/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sysfs input and output of vfio_ap, and the bounded lists of IDs its log
 * lines name APQNs with.  Pure functions, like the hot-plug engine whose
 * APCB type they read and fill.
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

#endif /* _VFIO_AP_FORMAT_H_ */

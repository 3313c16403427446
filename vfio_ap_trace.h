/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the vfio_ap driver.
 *
 * Masks are recorded as their first word (IDs 0-63, where nearly all real
 * configurations live) plus the number of IDs set, to keep records small.
 * Records print the first word as the architecture numbers it: ID 0 is the
 * leftmost bit.
 */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfio_ap

#if !defined(_VFIO_AP_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _VFIO_AP_TRACE_H_

#include <linux/bitmap.h>
#include <linux/tracepoint.h>
#include <linux/uuid.h>

#include "vfio_ap_hotplug.h"

#ifndef _VFIO_AP_TRACE_APCB_
#define _VFIO_AP_TRACE_APCB_
/**
 * struct vfio_ap_trace_apcb - an APCB as a trace record keeps it
 * @apm: adapters 0-63
 * @aqm: domains 0-63
 * @adm: control domains 0-63
 * @apm_n: number of adapters
 * @aqm_n: number of domains
 * @adm_n: number of control domains
 */
struct vfio_ap_trace_apcb {
	u64 apm, aqm, adm;
	u16 apm_n, aqm_n, adm_n;
};

static inline void vfio_ap_trace_apcb_fill(struct vfio_ap_trace_apcb *t,
					   const struct vfio_ap_apcb *apcb)
{
	if (!apcb) {
		memset(t, 0, sizeof(*t));
		return;
	}
	t->apm = apcb->apm[0];
	t->aqm = apcb->aqm[0];
	t->adm = apcb->adm[0];
	t->apm_n = bitmap_weight(apcb->apm, VFIO_AP_MAX_ADAPTERS);
	t->aqm_n = bitmap_weight(apcb->aqm, VFIO_AP_MAX_DOMAINS);
	t->adm_n = bitmap_weight(apcb->adm, VFIO_AP_MAX_DOMAINS);
}
#endif /* _VFIO_AP_TRACE_APCB_ */

#define VFIO_AP_TRACE_APCB_FMT "apm=%016llx/%u aqm=%016llx/%u adm=%016llx/%u"

DECLARE_EVENT_CLASS(vfio_ap_apcb_change,
		    TP_PROTO(const guid_t *uuid, bool flag,
			     const struct vfio_ap_apcb *old,
			     const struct vfio_ap_apcb *new),
		    TP_ARGS(uuid, flag, old, new),
		    TP_STRUCT__entry(__array(u8, uuid, UUID_SIZE)
				     __field(bool, flag)
				     __field_struct(struct vfio_ap_trace_apcb, old)
				     __field_struct(struct vfio_ap_trace_apcb, new)),
		    TP_fast_assign(memcpy(__entry->uuid, uuid, UUID_SIZE);
				   __entry->flag = flag;
				   vfio_ap_trace_apcb_fill(&__entry->old, old);
				   vfio_ap_trace_apcb_fill(&__entry->new, new);),
		    TP_printk("mdev=%pUl " VFIO_AP_TRACE_APCB_FMT " -> "
			      VFIO_AP_TRACE_APCB_FMT, __entry->uuid,
			      __entry->old.apm, __entry->old.apm_n,
			      __entry->old.aqm, __entry->old.aqm_n,
			      __entry->old.adm, __entry->old.adm_n,
			      __entry->new.apm, __entry->new.apm_n,
			      __entry->new.aqm, __entry->new.aqm_n,
			      __entry->new.adm, __entry->new.adm_n)
);

/* The admin changed what is assigned to an mdev (flag unused). */
DEFINE_EVENT(vfio_ap_apcb_change, vfio_ap_assignment,
	     TP_PROTO(const guid_t *uuid, bool flag,
		      const struct vfio_ap_apcb *old,
		      const struct vfio_ap_apcb *new),
	     TP_ARGS(uuid, flag, old, new)
);

/* What the guest sees changed; flag: a guest is attached (CRYCB written). */
DEFINE_EVENT_PRINT(vfio_ap_apcb_change, vfio_ap_guest_update,
		   TP_PROTO(const guid_t *uuid, bool flag,
			    const struct vfio_ap_apcb *old,
			    const struct vfio_ap_apcb *new),
		   TP_ARGS(uuid, flag, old, new),
		   TP_printk("mdev=%pUl crycb=%d " VFIO_AP_TRACE_APCB_FMT
			     " -> " VFIO_AP_TRACE_APCB_FMT,
			     __entry->uuid, __entry->flag,
			     __entry->old.apm, __entry->old.apm_n,
			     __entry->old.aqm, __entry->old.aqm_n,
			     __entry->old.adm, __entry->old.adm_n,
			     __entry->new.apm, __entry->new.apm_n,
			     __entry->new.aqm, __entry->new.aqm_n,
			     __entry->new.adm, __entry->new.adm_n)
);

/* The host's AP configuration (QCI) changed. */
TRACE_EVENT(vfio_ap_host_config,
	    TP_PROTO(const struct vfio_ap_apcb *old,
		     const struct vfio_ap_apcb *new),
	    TP_ARGS(old, new),
	    TP_STRUCT__entry(__field_struct(struct vfio_ap_trace_apcb, old)
			     __field_struct(struct vfio_ap_trace_apcb, new)),
	    TP_fast_assign(vfio_ap_trace_apcb_fill(&__entry->old, old);
			   vfio_ap_trace_apcb_fill(&__entry->new, new);),
	    TP_printk(VFIO_AP_TRACE_APCB_FMT " -> " VFIO_AP_TRACE_APCB_FMT,
		      __entry->old.apm, __entry->old.apm_n,
		      __entry->old.aqm, __entry->old.aqm_n,
		      __entry->old.adm, __entry->old.adm_n,
		      __entry->new.apm, __entry->new.apm_n,
		      __entry->new.aqm, __entry->new.aqm_n,
		      __entry->new.adm, __entry->new.adm_n)
);

/* A queue was bound to or unbound from vfio_ap. */
TRACE_EVENT(vfio_ap_queue_bind,
	    TP_PROTO(unsigned int qid, bool bound),
	    TP_ARGS(qid, bound),
	    TP_STRUCT__entry(__field(u16, qid)
			     __field(bool, bound)),
	    TP_fast_assign(__entry->qid = qid;
			   __entry->bound = bound;),
	    TP_printk("queue=%02x.%04x %s", __entry->qid >> 8,
		      __entry->qid & 0xff,
		      __entry->bound ? "bound" : "unbound")
);

TRACE_EVENT(vfio_ap_reset_start,
	    TP_PROTO(unsigned int qid),
	    TP_ARGS(qid),
	    TP_STRUCT__entry(__field(u16, qid)),
	    TP_fast_assign(__entry->qid = qid;),
	    TP_printk("queue=%02x.%04x", __entry->qid >> 8, __entry->qid & 0xff)
);

/* outcome: 0 done, 1 deconfigured/checkstopped, 2 failed, 3 timed out */
TRACE_EVENT(vfio_ap_reset_done,
	    TP_PROTO(unsigned int qid, u8 rc, int outcome),
	    TP_ARGS(qid, rc, outcome),
	    TP_STRUCT__entry(__field(u16, qid)
			     __field(u8, rc)
			     __field(u8, outcome)),
	    TP_fast_assign(__entry->qid = qid;
			   __entry->rc = rc;
			   __entry->outcome = outcome;),
	    TP_printk("queue=%02x.%04x rc=0x%02x %s", __entry->qid >> 8,
		      __entry->qid & 0xff, __entry->rc,
		      __print_symbolic(__entry->outcome, { 0, "done" },
				       { 1, "broken" }, { 2, "failed" },
				       { 3, "timeout" }))
);

/* A guest's AQIC (on: enable asked), or our release of its resources. */
TRACE_EVENT(vfio_ap_irq,
	    TP_PROTO(unsigned int qid, bool on, u8 rc),
	    TP_ARGS(qid, on, rc),
	    TP_STRUCT__entry(__field(u16, qid)
			     __field(bool, on)
			     __field(u8, rc)),
	    TP_fast_assign(__entry->qid = qid;
			   __entry->on = on;
			   __entry->rc = rc;),
	    TP_printk("queue=%02x.%04x %s rc=0x%02x", __entry->qid >> 8,
		      __entry->qid & 0xff, __entry->on ? "enable" : "disable",
		      __entry->rc)
);

#endif /* _VFIO_AP_TRACE_H_ */

/* This part must be outside protection */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vfio_ap_trace

#include <trace/define_trace.h>

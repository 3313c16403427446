// SPDX-License-Identifier: GPL-2.0
/*
 * Sysfs interface of vfio_ap: the matrix device's features, the assignment
 * attributes of each mdev and the status of each bound queue.
 */

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>

#include "vfio_ap_format.h"
#include "vfio_ap_private.h"
#include "vfio_ap_trace.h"

/* ap_perms_mutex: at most about 20 ms of retries before EBUSY */
#define VFIO_AP_PERMS_TRIES	20
#define VFIO_AP_PERMS_RETRY_US	500

/* --- the matrix device --- */

static ssize_t features_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "guest_matrix hotplug ap_config\n");
}
static DEVICE_ATTR_RO(features);

static struct attribute *vfio_ap_matrix_attrs[] = {
	&dev_attr_features.attr,
	NULL,
};

const struct attribute_group *vfio_ap_matrix_groups[] = {
	&(const struct attribute_group){ .attrs = vfio_ap_matrix_attrs },
	NULL,
};

/* --- validating an assignment --- */

/**
 * enum vfio_ap_id_kind - which mask of an APCB an ID goes to
 * @VFIO_AP_ADAPTER: adapters (APM)
 * @VFIO_AP_DOMAIN: usage domains (AQM)
 * @VFIO_AP_CONTROL_DOMAIN: control domains (ADM)
 */
enum vfio_ap_id_kind {
	VFIO_AP_ADAPTER,
	VFIO_AP_DOMAIN,
	VFIO_AP_CONTROL_DOMAIN,
};

static const unsigned long *vfio_ap_apcb_mask_of(const struct vfio_ap_apcb *apcb,
						 enum vfio_ap_id_kind kind)
{
	switch (kind) {
	case VFIO_AP_ADAPTER:
		return apcb->apm;
	case VFIO_AP_DOMAIN:
		return apcb->aqm;
	default:
		return apcb->adm;
	}
}

/* The same for an APCB being built: it is ours to change. */
static unsigned long *vfio_ap_apcb_mask(struct vfio_ap_apcb *apcb,
					enum vfio_ap_id_kind kind)
{
	return (unsigned long *)vfio_ap_apcb_mask_of(apcb, kind);
}

/*
 * The limits change only with the host configuration and only gate input:
 * a write racing with that change may be checked against either value,
 * exactly as if it had come a moment earlier or later.  So they are read
 * without cfg_lock, which would put the range check (ENODEV) behind the
 * AP bus mask trylock (EBUSY).
 */
static unsigned int vfio_ap_max_id(enum vfio_ap_id_kind kind)
{
	return kind == VFIO_AP_ADAPTER ? vfio_ap_max_apid() :
					 vfio_ap_max_apqi();
}

/*
 * One line names every refused APQN of one refusing party (the host or
 * one other mdev): what it refuses is always @apm x @aqm.
 */
static void vfio_ap_warn_refused(struct vfio_ap_mdev *m,
				 const unsigned long *apm,
				 const unsigned long *aqm, const char *reason,
				 const char *owner)
{
	struct vfio_ap_apqns_text text;

	vfio_ap_apqns_text(&text, apm, aqm);
	dev_warn(vfio_ap_mdev_dev(m),
		 "cannot assign queues of adapters %s x domains %s: %s%s\n",
		 text.apids, text.apqis, reason, owner);
}

/* Context: ap_perms_mutex held, so ap_perms cannot change under us. */
static bool vfio_ap_host_owns_any(struct vfio_ap_mdev *m,
				  const struct vfio_ap_apcb *new)
{
	DECLARE_BITMAP(apm, VFIO_AP_MAX_ADAPTERS);
	DECLARE_BITMAP(aqm, VFIO_AP_MAX_DOMAINS);

	lockdep_assert_held(&ap_perms_mutex);
	if (!bitmap_and(apm, new->apm, ap_perms.apm, VFIO_AP_MAX_ADAPTERS) ||
	    !bitmap_and(aqm, new->aqm, ap_perms.aqm, VFIO_AP_MAX_DOMAINS))
		return false;
	vfio_ap_warn_refused(m, apm, aqm,
			     "reserved for the host by the AP bus apmask and aqmask",
			     "");
	return true;
}

static bool vfio_ap_others_own_any(struct vfio_ap_mdev *m,
				   const struct vfio_ap_apcb *new)
{
	DECLARE_BITMAP(apm, VFIO_AP_MAX_ADAPTERS);
	DECLARE_BITMAP(aqm, VFIO_AP_MAX_DOMAINS);
	struct vfio_ap_mdev *other;
	bool clash = false;

	vfio_ap_assert_cfg_locked();
	for (other = vfio_ap_mdev_first(); other;
	     other = vfio_ap_mdev_next(other)) {
		if (other == m ||
		    !bitmap_and(apm, new->apm, other->assigned.apm,
				VFIO_AP_MAX_ADAPTERS) ||
		    !bitmap_and(aqm, new->aqm, other->assigned.aqm,
				VFIO_AP_MAX_DOMAINS))
			continue;
		vfio_ap_warn_refused(m, apm, aqm, "already assigned to mdev ",
				     dev_name(vfio_ap_mdev_dev(other)));
		clash = true;
	}

	return clash;
}

/* Context: ap_perms_mutex and cfg_lock held. */
static int vfio_ap_check_apqns(struct vfio_ap_mdev *m,
			       const struct vfio_ap_apcb *new)
{
	lockdep_assert_held(&ap_perms_mutex);
	vfio_ap_assert_cfg_locked();
	if (vfio_ap_host_owns_any(m, new))
		return -EADDRNOTAVAIL;
	if (vfio_ap_others_own_any(m, new))
		return -EADDRINUSE;

	return 0;
}

static void vfio_ap_store_assignment(struct vfio_ap_mdev *m,
				     const struct vfio_ap_apcb *new)
{
	vfio_ap_assert_cfg_locked();
	trace_vfio_ap_assignment(vfio_ap_mdev_uuid(m), false, &m->assigned,
				 new);
	vfio_ap_mdev_set_assigned(m, new);
}

/**
 * struct vfio_ap_change - an assignment change asked for through sysfs
 * @config: the whole new assignment (ap_config), or NULL for one ID
 * @kind: which mask @id goes to
 * @id: the adapter or domain number
 * @assign: set @id rather than clear it
 */
struct vfio_ap_change {
	const struct vfio_ap_apcb *config;
	enum vfio_ap_id_kind kind;
	unsigned long id;
	bool assign;
};

/* Whether @change, once stored, can change what the guest of @m sees. */
static bool vfio_ap_change_shows(struct vfio_ap_mdev *m,
				 const struct vfio_ap_change *change)
{
	vfio_ap_assert_cfg_locked();
	if (change->config)
		return true;
	return vfio_ap_id_change_shows(vfio_ap_apcb_mask_of(vfio_ap_host_config(),
							    change->kind),
				       vfio_ap_apcb_mask_of(&m->guest,
							    change->kind),
				       change->id, change->assign);
}

/* Only a change that can add APQNs needs checking against the AP bus. */
static bool vfio_ap_change_adds_apqns(const struct vfio_ap_change *change)
{
	return change->config ||
	       (change->assign && change->kind != VFIO_AP_CONTROL_DOMAIN);
}

/* Context: cfg_lock held, so concurrent writes cannot lose each other. */
static void vfio_ap_change_build(struct vfio_ap_mdev *m,
				 const struct vfio_ap_change *change,
				 struct vfio_ap_apcb *new)
{
	unsigned long *mask;

	vfio_ap_assert_cfg_locked();
	if (change->config) {
		*new = *change->config;
		return;
	}
	*new = m->assigned;
	mask = vfio_ap_apcb_mask(new, change->kind);
	if (change->assign)
		set_bit_inv(change->id, mask);
	else
		clear_bit_inv(change->id, mask);
}

/*
 * While the AP bus masks are being edited an assignment fails with EBUSY
 * rather than waiting, and taking ap_perms_mutex only by trylock keeps it
 * out of the driver's lock order altogether.  The AP bus also holds the
 * mutex for a moment on every queue probe: a few milliseconds of retries
 * ride over those without turning them into EBUSY.
 */
static bool vfio_ap_perms_trylock(void)
{
	unsigned int i;

	for (i = 0; i < VFIO_AP_PERMS_TRIES; i++) {
		if (mutex_trylock(&ap_perms_mutex))
			return true;
		usleep_range(VFIO_AP_PERMS_RETRY_US, 2 * VFIO_AP_PERMS_RETRY_US);
	}

	return false;
}

/*
 * Applies @change to @m entirely or not at all.  New APQNs are checked
 * against the AP bus masks and the other mdevs first.
 */
static int vfio_ap_change_assignment(struct vfio_ap_mdev *m,
				     const struct vfio_ap_change *change)
{
	bool check_apqns = vfio_ap_change_adds_apqns(change);
	struct vfio_ap_apcb new;
	int ret = 0;

	if (check_apqns && !vfio_ap_perms_trylock())
		return -EBUSY;
	mutex_lock(&vfio_ap_drv.cfg_lock);
	/*
	 * The driver core removes these attributes before the mdev's remove
	 * runs, so this is only a backstop: an mdev on its way out takes
	 * nothing new.
	 */
	if (m->removing) {
		ret = -ENXIO;
		goto out;
	}
	vfio_ap_change_build(m, change, &new);
	if (vfio_ap_apcb_equal(&new, &m->assigned))
		goto out;
	if (check_apqns) {
		ret = vfio_ap_check_apqns(m, &new);
		if (ret)
			goto out;
	}
	vfio_ap_store_assignment(m, &new);
	/* Stored: from now on in_use() refuses to take these APQNs back. */
	if (check_apqns) {
		mutex_unlock(&ap_perms_mutex);
		check_apqns = false;
	}
	/* Deciding that nothing reaches the guest is all a no-op write costs. */
	if (vfio_ap_change_shows(m, change))
		vfio_ap_guest_apply(m);
out:
	mutex_unlock(&vfio_ap_drv.cfg_lock);
	if (check_apqns)
		mutex_unlock(&ap_perms_mutex);
	return ret;
}

static ssize_t vfio_ap_id_store(struct device *dev, const char *buf,
				size_t count, enum vfio_ap_id_kind kind,
				bool assign)
{
	struct vfio_ap_mdev *m = dev_get_drvdata(dev);
	struct vfio_ap_change change = { .kind = kind, .assign = assign };
	int ret;

	ret = vfio_ap_parse_id(buf, vfio_ap_max_id(kind), &change.id);
	if (ret)
		return ret;
	ret = vfio_ap_change_assignment(m, &change);

	return ret ?: count;
}

#define VFIO_AP_ID_ATTR(name, kind, assign)				\
static ssize_t name##_store(struct device *dev,				\
			    struct device_attribute *attr,		\
			    const char *buf, size_t count)		\
{									\
	return vfio_ap_id_store(dev, buf, count, kind, assign);		\
}									\
static DEVICE_ATTR_WO(name)

VFIO_AP_ID_ATTR(assign_adapter, VFIO_AP_ADAPTER, true);
VFIO_AP_ID_ATTR(unassign_adapter, VFIO_AP_ADAPTER, false);
VFIO_AP_ID_ATTR(assign_domain, VFIO_AP_DOMAIN, true);
VFIO_AP_ID_ATTR(unassign_domain, VFIO_AP_DOMAIN, false);
VFIO_AP_ID_ATTR(assign_control_domain, VFIO_AP_CONTROL_DOMAIN, true);
VFIO_AP_ID_ATTR(unassign_control_domain, VFIO_AP_CONTROL_DOMAIN, false);

/* --- showing an assignment --- */

static void vfio_ap_snapshot(struct vfio_ap_mdev *m, struct vfio_ap_apcb *apcb,
			     bool guest)
{
	mutex_lock(&vfio_ap_drv.state_lock);
	*apcb = guest ? m->guest : m->assigned;
	mutex_unlock(&vfio_ap_drv.state_lock);
}

static ssize_t matrix_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vfio_ap_apcb apcb;

	vfio_ap_snapshot(dev_get_drvdata(dev), &apcb, false);
	return vfio_ap_format_matrix(buf, PAGE_SIZE, apcb.apm, apcb.aqm);
}
static DEVICE_ATTR_RO(matrix);

static ssize_t guest_matrix_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vfio_ap_apcb apcb;

	vfio_ap_snapshot(dev_get_drvdata(dev), &apcb, true);
	return vfio_ap_format_matrix(buf, PAGE_SIZE, apcb.apm, apcb.aqm);
}
static DEVICE_ATTR_RO(guest_matrix);

static ssize_t control_domains_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct vfio_ap_apcb apcb;

	vfio_ap_snapshot(dev_get_drvdata(dev), &apcb, false);
	return vfio_ap_format_domains(buf, PAGE_SIZE, apcb.adm);
}
static DEVICE_ATTR_RO(control_domains);

static ssize_t ap_config_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vfio_ap_apcb apcb;

	vfio_ap_snapshot(dev_get_drvdata(dev), &apcb, false);
	return vfio_ap_format_ap_config(buf, PAGE_SIZE, &apcb);
}

static ssize_t ap_config_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct vfio_ap_apcb new;
	struct vfio_ap_change change = { .config = &new };
	int ret;

	ret = vfio_ap_parse_ap_config(buf, &new);
	if (ret)
		return ret;
	ret = vfio_ap_check_apcb_limits(&new, vfio_ap_max_id(VFIO_AP_ADAPTER),
					vfio_ap_max_id(VFIO_AP_DOMAIN));
	if (ret)
		return ret;
	ret = vfio_ap_change_assignment(dev_get_drvdata(dev), &change);

	return ret ?: count;
}
static DEVICE_ATTR_RW(ap_config);

/* What the mdev shows, then the writes that change it. */
static struct attribute *vfio_ap_mdev_attrs[] = {
	&dev_attr_matrix.attr, &dev_attr_guest_matrix.attr,
	&dev_attr_control_domains.attr, &dev_attr_ap_config.attr,
	&dev_attr_assign_adapter.attr, &dev_attr_unassign_adapter.attr,
	&dev_attr_assign_domain.attr, &dev_attr_unassign_domain.attr,
	&dev_attr_assign_control_domain.attr,
	&dev_attr_unassign_control_domain.attr,
	NULL,
};

const struct attribute_group *vfio_ap_mdev_groups[] = {
	&(const struct attribute_group){ .attrs = vfio_ap_mdev_attrs },
	NULL,
};

/* --- queue devices --- */

static const char *vfio_ap_queue_status(const struct vfio_ap_queue *q)
{
	struct vfio_ap_mdev *m;

	vfio_ap_assert_cfg_or_state_locked();
	m = vfio_ap_queue_owner(q);
	if (!m)
		return "unassigned";
	if (m->kvm && vfio_ap_guest_has_queue(m, q->qid))
		return "in use";
	return "assigned";
}

static ssize_t status_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vfio_ap_queue *q = dev_get_drvdata(dev);
	const char *status;

	mutex_lock(&vfio_ap_drv.state_lock);
	status = vfio_ap_queue_status(q);
	mutex_unlock(&vfio_ap_drv.state_lock);

	return sysfs_emit(buf, "%s\n", status);
}
static DEVICE_ATTR_RO(status);

static struct attribute *vfio_ap_queue_attrs[] = {
	&dev_attr_status.attr,
	NULL,
};

const struct attribute_group *vfio_ap_queue_groups[] = {
	&(const struct attribute_group){ .attrs = vfio_ap_queue_attrs },
	NULL,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs view of vfio_ap: /sys/kernel/debug/vfio_ap/<uuid>/not_in_guest
 * lists what is assigned to an mdev and not in its guest, each with the
 * reason, so that an administrator need not read the kernel log to learn
 * why guest_matrix lacks an adapter.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vfio_ap_format.h"
#include "vfio_ap_private.h"

/* Longer driver names are cut; the AP bus's drivers have short ones. */
#define VFIO_AP_DRIVER_NAME_LEN	64

static struct dentry *vfio_ap_debugfs_root;
/* The AP bus, where queues of other drivers are looked up by name. */
static const struct bus_type *vfio_ap_debugfs_ap_bus;

/**
 * struct vfio_ap_why_list - the lines of one read of not_in_guest
 * @lines: the lines, or NULL while they are only being counted
 * @n: number of lines (counted or filled so far)
 */
struct vfio_ap_why_list {
	struct vfio_ap_why_line *lines;
	unsigned int n;
};

static void vfio_ap_why_add(struct vfio_ap_why_list *list, u8 kind,
			    u8 reason, unsigned long id, unsigned long apqi,
			    u8 rc)
{
	if (list->lines)
		list->lines[list->n] = (struct vfio_ap_why_line) {
			.kind = kind, .reason = reason, .id = id,
			.apqi = apqi, .rc = rc,
		};
	list->n++;
}

/*
 * A queue bound to us can only be unusable because a reset withheld it;
 * one not bound to us is looked up on the AP bus when the lines are
 * printed, because its device lock nests outside cfg_lock.
 */
static void vfio_ap_why_add_queue(struct vfio_ap_why_list *list,
				  unsigned long apid, unsigned long apqi)
{
	struct vfio_ap_queue *q;
	bool timed_out = false;
	u8 reason, rc = 0;

	vfio_ap_assert_cfg_locked();
	q = vfio_ap_queue_lookup(apid, apqi);
	if (!q)
		reason = VFIO_AP_WHY_QUEUE_DRIVER;
	else if (!vfio_ap_reset_withheld(q, &rc, &timed_out))
		reason = VFIO_AP_WHY_QUEUE_UNUSABLE;
	else
		reason = timed_out ? VFIO_AP_WHY_RESET_TIMEOUT :
				     VFIO_AP_WHY_RESET_FAILED;
	vfio_ap_why_add(list, VFIO_AP_WHY_ADAPTER, reason, apid, apqi, rc);
}

static void vfio_ap_why_add_adapter(struct vfio_ap_why_list *list,
				    const struct vfio_ap_missing *why,
				    unsigned long apid)
{
	DECLARE_BITMAP(queues, VFIO_AP_MAX_DOMAINS);
	unsigned long apqi;

	vfio_ap_assert_cfg_locked();
	if (test_bit_inv(apid, why->not_in_host.apm)) {
		vfio_ap_why_add(list, VFIO_AP_WHY_ADAPTER,
				VFIO_AP_WHY_NOT_IN_HOST, apid, 0, 0);
	} else if (test_bit_inv(apid, why->lacking_queue)) {
		vfio_ap_model_missing_queues(apid, why->domains, queues);
		for_each_set_bit_inv(apqi, queues, VFIO_AP_MAX_DOMAINS)
			vfio_ap_why_add_queue(list, apid, apqi);
	} else if (test_bit_inv(apid, why->pending.apm)) {
		vfio_ap_why_add(list, VFIO_AP_WHY_ADAPTER, VFIO_AP_WHY_PENDING,
				apid, 0, 0);
	}
}

/* Domains and control domains lack no queue: rule 1 or pending. */
static void vfio_ap_why_add_domains(struct vfio_ap_why_list *list, u8 kind,
				    const unsigned long *not_in_host,
				    const unsigned long *pending)
{
	unsigned long id;

	for (id = 0; id < VFIO_AP_MAX_DOMAINS; id++) {
		if (test_bit_inv(id, not_in_host))
			vfio_ap_why_add(list, kind, VFIO_AP_WHY_NOT_IN_HOST,
					id, 0, 0);
		else if (test_bit_inv(id, pending))
			vfio_ap_why_add(list, kind, VFIO_AP_WHY_PENDING, id,
					0, 0);
	}
}

/* Adapters first, then domains, then control domains, each ascending. */
static void vfio_ap_why_walk(struct vfio_ap_mdev *m,
			     struct vfio_ap_why_list *list)
{
	struct vfio_ap_missing why;
	unsigned long apid;

	vfio_ap_assert_cfg_locked();
	vfio_ap_model_explain_missing(&m->assigned, &m->guest, &why);
	for_each_set_bit_inv(apid, m->assigned.apm, VFIO_AP_MAX_ADAPTERS)
		vfio_ap_why_add_adapter(list, &why, apid);
	vfio_ap_why_add_domains(list, VFIO_AP_WHY_DOMAIN, why.not_in_host.aqm,
				why.pending.aqm);
	vfio_ap_why_add_domains(list, VFIO_AP_WHY_CONTROL_DOMAIN,
				why.not_in_host.adm, why.pending.adm);
}

/*
 * One snapshot under cfg_lock, so that the lines agree with each other
 * and with guest_matrix: counted, then filled.
 */
static int vfio_ap_why_collect(struct vfio_ap_mdev *m,
			       struct vfio_ap_why_list *list)
{
	int ret = 0;

	if (mutex_lock_killable(&vfio_ap_drv.cfg_lock))
		return -EINTR;
	list->lines = NULL;
	list->n = 0;
	vfio_ap_why_walk(m, list);
	if (list->n) {
		list->lines = kvcalloc(list->n, sizeof(*list->lines),
				       GFP_KERNEL);
		if (list->lines) {
			list->n = 0;
			vfio_ap_why_walk(m, list);
		} else {
			ret = -ENOMEM;
		}
	}
	mutex_unlock(&vfio_ap_drv.cfg_lock);

	return ret;
}

/*
 * The driver of a queue vfio_ap did not have at the snapshot, as the AP
 * bus knows it now (a queue bound to us since shows as bound to vfio_ap;
 * the next read has it right).  Its device lock is taken with none of
 * ours held: the AP bus holds it around our probe and remove, which take
 * cfg_lock.
 */
static void vfio_ap_why_find_driver(struct vfio_ap_why_line *line,
				    char *name, size_t size)
{
	char qname[sizeof("ff.00ff")];
	struct device *dev = NULL;

	snprintf(qname, sizeof(qname), "%02x.%04x", line->id, line->apqi);
	if (vfio_ap_debugfs_ap_bus)
		dev = bus_find_device_by_name(vfio_ap_debugfs_ap_bus, NULL,
					      qname);
	if (!dev) {
		line->reason = VFIO_AP_WHY_QUEUE_NO_DEVICE;
		return;
	}
	device_lock(dev);
	strscpy(name, dev->driver ? dev->driver->name : "", size);
	device_unlock(dev);
	put_device(dev);
}

static void vfio_ap_why_print(struct seq_file *s,
			      const struct vfio_ap_why_list *list)
{
	char driver[VFIO_AP_DRIVER_NAME_LEN], text[VFIO_AP_WHY_LINE_LEN];
	struct vfio_ap_why_line line;
	unsigned int i;

	if (!list->n) {
		vfio_ap_format_why(text, sizeof(text), NULL, NULL);
		seq_puts(s, text);
		return;
	}
	for (i = 0; i < list->n; i++) {
		line = list->lines[i];
		driver[0] = '\0';
		if (line.reason == VFIO_AP_WHY_QUEUE_DRIVER)
			vfio_ap_why_find_driver(&line, driver, sizeof(driver));
		vfio_ap_format_why(text, sizeof(text), &line, driver);
		seq_puts(s, text);
	}
}

static int vfio_ap_not_in_guest_show(struct seq_file *s, void *unused)
{
	struct vfio_ap_why_list list;
	int ret;

	ret = vfio_ap_why_collect(s->private, &list);
	if (ret)
		return ret;
	vfio_ap_why_print(s, &list);
	kvfree(list.lines);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfio_ap_not_in_guest);

/**
 * vfio_ap_debugfs_init() - create the driver's debugfs directory
 * @ap_bus: the AP bus, which our queue driver is registered with
 *
 * Failures are not reported: debugfs is a debugging aid, and without the
 * directory the mdevs' files are simply not created.
 */
void vfio_ap_debugfs_init(const struct bus_type *ap_bus)
{
	vfio_ap_debugfs_ap_bus = ap_bus;
	vfio_ap_debugfs_root = debugfs_create_dir(VFIO_AP_DRV_NAME, NULL);
}

/**
 * vfio_ap_debugfs_exit() - remove the driver's debugfs directory
 *
 * Called once every mdev's directory is gone.
 */
void vfio_ap_debugfs_exit(void)
{
	debugfs_remove(vfio_ap_debugfs_root);
	vfio_ap_debugfs_root = NULL;
	vfio_ap_debugfs_ap_bus = NULL;
}

/**
 * vfio_ap_debugfs_mdev_add() - create an mdev's directory and its view
 * @m: the new mdev
 *
 * The directory is named after the mdev's UUID and holds not_in_guest.
 */
void vfio_ap_debugfs_mdev_add(struct vfio_ap_mdev *m)
{
	m->debugfs = debugfs_create_dir(dev_name(vfio_ap_mdev_dev(m)),
					vfio_ap_debugfs_root);
	debugfs_create_file("not_in_guest", 0400, m->debugfs, m,
			    &vfio_ap_not_in_guest_fops);
}

/**
 * vfio_ap_debugfs_mdev_del() - remove an mdev's directory
 * @m: the mdev, before it is withdrawn from its guest
 *
 * Returns once no read of the view runs any more, so @m may go.
 */
void vfio_ap_debugfs_mdev_del(struct vfio_ap_mdev *m)
{
	debugfs_remove(m->debugfs);
	m->debugfs = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ap driver core: module setup, the matrix parent device and the AP bus
 * queue driver that tracks the host's AP configuration.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <asm/ap.h>

#include "vfio_ap_format.h"
#include "vfio_ap_private.h"
#include "vfio_ap_trace.h"

/* Without the APXA facility APIDs are 6 bits and APQIs 4 bits wide. */
#define VFIO_AP_NO_APXA_MAX_APID	63
#define VFIO_AP_NO_APXA_MAX_APQI	15

struct vfio_ap_drv vfio_ap_drv = {
	.cfg_lock = __MUTEX_INITIALIZER(vfio_ap_drv.cfg_lock),
	.state_lock = __MUTEX_INITIALIZER(vfio_ap_drv.state_lock),
	.mdevs = LIST_HEAD_INIT(vfio_ap_drv.mdevs),
	.queues = XARRAY_INIT(vfio_ap_drv.queues, 0),
	.nib_busy = ATOMIC_INIT(0),
	.nib_wait = __WAIT_QUEUE_HEAD_INITIALIZER(vfio_ap_drv.nib_wait),
};

static struct device *vfio_ap_root;

/* --- host configuration --- */

static void vfio_ap_apcb_from_qci(struct vfio_ap_apcb *apcb,
				  const struct ap_config_info *qci)
{
	/* QCI and our bitmaps share the MSB-0 layout: a copy converts. */
	memcpy(apcb->apm, qci->apm, sizeof(qci->apm));
	memcpy(apcb->aqm, qci->aqm, sizeof(qci->aqm));
	memcpy(apcb->adm, qci->adm, sizeof(qci->adm));
}

/* Sysfs writes read the limits without a lock: see vfio_ap_max_id(). */
static void vfio_ap_set_max_ids(const struct ap_config_info *qci)
{
	vfio_ap_assert_cfg_locked();
	WRITE_ONCE(vfio_ap_drv.max_apid, qci->apxa && qci->na ? qci->na :
		   VFIO_AP_NO_APXA_MAX_APID);
	WRITE_ONCE(vfio_ap_drv.max_apqi, qci->apxa && qci->nd ? qci->nd :
		   VFIO_AP_NO_APXA_MAX_APQI);
}

static void vfio_ap_host_set(const struct vfio_ap_apcb *host)
{
	vfio_ap_assert_cfg_locked();
	trace_vfio_ap_host_config(&vfio_ap_drv.host, host);
	vfio_ap_drv.host = *host;
}

static void vfio_ap_host_config_set(const struct ap_config_info *qci)
{
	struct vfio_ap_apcb host;

	vfio_ap_assert_cfg_locked();
	vfio_ap_apcb_from_qci(&host, qci);
	vfio_ap_host_set(&host);
	vfio_ap_set_max_ids(qci);
}

/* Of the new configuration, only what the host already had. */
static void vfio_ap_host_config_shrink(const struct ap_config_info *qci)
{
	const struct vfio_ap_apcb *cur = &vfio_ap_drv.host;
	struct vfio_ap_apcb host;

	vfio_ap_assert_cfg_locked();
	vfio_ap_apcb_from_qci(&host, qci);
	bitmap_and(host.apm, host.apm, cur->apm, VFIO_AP_MAX_ADAPTERS);
	bitmap_and(host.aqm, host.aqm, cur->aqm, VFIO_AP_MAX_DOMAINS);
	bitmap_and(host.adm, host.adm, cur->adm, VFIO_AP_MAX_DOMAINS);
	vfio_ap_host_set(&host);
}

/**
 * vfio_ap_host_has_queue() - tell whether the host configuration has a queue
 * @qid: the APQN
 *
 * Context: cfg_lock held.
 * Return: true if both the adapter and the usage domain are configured.
 */
bool vfio_ap_host_has_queue(ap_qid_t qid)
{
	vfio_ap_assert_cfg_locked();
	return test_bit_inv(vfio_ap_qid_apid(qid), vfio_ap_drv.host.apm) &&
	       test_bit_inv(vfio_ap_qid_apqi(qid), vfio_ap_drv.host.aqm);
}

/* --- the queue table --- */

/**
 * vfio_ap_queue_lookup() - find a queue bound to vfio_ap
 * @apid: adapter number
 * @apqi: domain number
 *
 * Context: cfg_lock or state_lock held.
 * Return: the queue, or NULL if APQN (@apid, @apqi) is not bound to us.
 */
struct vfio_ap_queue *vfio_ap_queue_lookup(unsigned long apid,
					   unsigned long apqi)
{
	vfio_ap_assert_cfg_or_state_locked();
	return xa_load(&vfio_ap_drv.queues, AP_MKQID(apid, apqi));
}

static void vfio_ap_queue_map_update(struct vfio_ap_queue *q, bool usable)
{
	vfio_ap_assert_cfg_locked();
	vfio_ap_queue_map_set(&vfio_ap_drv.queue_map, vfio_ap_qid_apid(q->qid),
			      vfio_ap_qid_apqi(q->qid), usable);
}

/**
 * vfio_ap_queue_mark_unusable() - keep a queue out of every guest
 * @q: the queue, which a reset could not bring to a clean state
 *
 * Context: cfg_lock held.  Takes effect at the next guest refresh.
 */
void vfio_ap_queue_mark_unusable(struct vfio_ap_queue *q)
{
	vfio_ap_assert_cfg_locked();
	vfio_ap_queue_map_update(q, false);
}

/* Plug what the new queue completes, unless a scan will do it at its end. */
static void vfio_ap_queue_arrived(struct vfio_ap_queue *q)
{
	struct vfio_ap_mdev *m;

	vfio_ap_assert_cfg_locked();
	/*
	 * Binding alone decides: a deconfigured or checkstopped queue answers
	 * the guest itself, and the AP bus tracks its state.
	 */
	vfio_ap_queue_map_update(q, true);
	if (vfio_ap_drv.scanning)
		return;
	m = vfio_ap_mdev_owning(vfio_ap_qid_apid(q->qid),
				vfio_ap_qid_apqi(q->qid));
	if (m)
		vfio_ap_guest_apply(m);
}

static int vfio_ap_queue_probe(struct ap_device *apdev)
{
	struct ap_queue *apq = to_ap_queue(&apdev->device);
	struct vfio_ap_queue *q;
	int ret;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	q->apq = apq;
	q->qid = apq->qid;
	INIT_LIST_HEAD(&q->reset_node);
	INIT_LIST_HEAD(&q->irq_node);
	INIT_LIST_HEAD(&q->unpin_node);

	mutex_lock(&vfio_ap_drv.cfg_lock);
	mutex_lock(&vfio_ap_drv.state_lock);
	ret = xa_insert(&vfio_ap_drv.queues, q->qid, q, GFP_KERNEL);
	mutex_unlock(&vfio_ap_drv.state_lock);
	if (ret) {
		mutex_unlock(&vfio_ap_drv.cfg_lock);
		kfree(q);
		return ret;
	}
	dev_set_drvdata(&apdev->device, q);
	trace_vfio_ap_queue_bind(q->qid, true);
	vfio_ap_queue_arrived(q);
	mutex_unlock(&vfio_ap_drv.cfg_lock);

	return 0;
}

static void vfio_ap_queue_remove(struct ap_device *apdev)
{
	struct vfio_ap_queue *q = dev_get_drvdata(&apdev->device);
	struct vfio_ap_mdev *m;
	LIST_HEAD(unpins);

	mutex_lock(&vfio_ap_drv.cfg_lock);
	vfio_ap_queue_map_update(q, false);
	m = vfio_ap_mdev_owning(vfio_ap_qid_apid(q->qid),
				vfio_ap_qid_apqi(q->qid));
	/* Unplugs the adapter and resets the queues the guest loses. */
	if (m)
		vfio_ap_guest_apply(m);

	mutex_lock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_release(q, &unpins);
	xa_erase(&vfio_ap_drv.queues, q->qid);
	mutex_unlock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_unpin(&unpins);
	/* A PQAP hook may still be pinning for this queue. */
	vfio_ap_irq_wait_idle();
	trace_vfio_ap_queue_bind(q->qid, false);
	mutex_unlock(&vfio_ap_drv.cfg_lock);

	dev_set_drvdata(&apdev->device, NULL);
	kfree(q);
}

/* One line per mdev, however many of its APQNs the AP bus asked for. */
static void vfio_ap_warn_in_use(struct vfio_ap_mdev *m,
				const unsigned long *apm,
				const unsigned long *aqm)
{
	DECLARE_BITMAP(apids, VFIO_AP_MAX_ADAPTERS);
	DECLARE_BITMAP(apqis, VFIO_AP_MAX_DOMAINS);
	struct vfio_ap_apqns_text text;

	vfio_ap_assert_cfg_or_state_locked();
	bitmap_and(apids, apm, m->assigned.apm, VFIO_AP_MAX_ADAPTERS);
	bitmap_and(apqis, aqm, m->assigned.aqm, VFIO_AP_MAX_DOMAINS);
	vfio_ap_apqns_text(&text, apids, apqis);
	pr_warn("queues of adapters %s x domains %s are assigned to mdev %s and cannot be returned to the host\n",
		text.apids, text.apqis, dev_name(vfio_ap_mdev_dev(m)));
}

/*
 * Called by the AP bus with ap_perms_mutex held, before it hands the
 * APQNs in @apm x @aqm back to the host's drivers.
 */
static int vfio_ap_queue_in_use(unsigned long *apm, unsigned long *aqm)
{
	struct vfio_ap_mdev *m;
	int in_use = 0;

	lockdep_assert_held(&ap_perms_mutex);
	mutex_lock(&vfio_ap_drv.state_lock);
	list_for_each_entry(m, &vfio_ap_drv.mdevs, node) {
		if (!vfio_ap_matrices_intersect(apm, aqm, m->assigned.apm,
						m->assigned.aqm))
			continue;
		vfio_ap_warn_in_use(m, apm, aqm);
		in_use = 1;
	}
	mutex_unlock(&vfio_ap_drv.state_lock);

	return in_use;
}

/*
 * The AP bus calls this before its scan adds or removes queue devices for
 * the new configuration.  Take away what the host lost now, while those
 * queues still exist.  What it gained has no queue devices yet: a new
 * domain counted now would withhold every adapter for want of its queues.
 * Gains wait for vfio_ap_on_scan_complete(), when their queues are bound.
 */
static void vfio_ap_on_config_changed(struct ap_config_info *new_info,
				      struct ap_config_info *old_info)
{
	mutex_lock(&vfio_ap_drv.cfg_lock);
	vfio_ap_drv.scanning = true;
	vfio_ap_host_config_shrink(new_info);
	vfio_ap_guest_apply_all();
	mutex_unlock(&vfio_ap_drv.cfg_lock);
}

static void vfio_ap_on_scan_complete(struct ap_config_info *new_info,
				     struct ap_config_info *old_info)
{
	mutex_lock(&vfio_ap_drv.cfg_lock);
	vfio_ap_drv.scanning = false;
	vfio_ap_host_config_set(new_info);
	vfio_ap_guest_apply_all();
	mutex_unlock(&vfio_ap_drv.cfg_lock);
}

/* Every Crypto Express generation the AP bus knows, by queue type. */
#define VFIO_AP_QUEUE_OF(type) \
	.dev_type = (type), .match_flags = AP_DEVICE_ID_MATCH_QUEUE_TYPE

static struct ap_device_id vfio_ap_queue_ids[] = {
	{ VFIO_AP_QUEUE_OF(AP_DEVICE_TYPE_CEX4) },
	{ VFIO_AP_QUEUE_OF(AP_DEVICE_TYPE_CEX5) },
	{ VFIO_AP_QUEUE_OF(AP_DEVICE_TYPE_CEX6) },
	{ VFIO_AP_QUEUE_OF(AP_DEVICE_TYPE_CEX7) },
	{ VFIO_AP_QUEUE_OF(AP_DEVICE_TYPE_CEX8) },
	{ }
};
MODULE_DEVICE_TABLE(ap, vfio_ap_queue_ids);

static struct ap_driver vfio_ap_queue_driver = {
	.probe = vfio_ap_queue_probe,
	.remove = vfio_ap_queue_remove,
	.in_use = vfio_ap_queue_in_use,
	.on_config_changed = vfio_ap_on_config_changed,
	.on_scan_complete = vfio_ap_on_scan_complete,
	.ids = vfio_ap_queue_ids,
	.driver.dev_groups = vfio_ap_queue_groups,
};

/* --- the matrix bus, driver and parent device --- */

static const struct bus_type vfio_ap_matrix_bus = {
	.name = "matrix",
};

static struct device_driver vfio_ap_matrix_driver = {
	.name = VFIO_AP_DRV_NAME,
	.bus = &vfio_ap_matrix_bus,
	.suppress_bind_attrs = true,
};

static void vfio_ap_matrix_release(struct device *dev)
{
	kfree(container_of(dev, struct vfio_ap_matrix, dev));
}

static int vfio_ap_matrix_create(void)
{
	struct vfio_ap_matrix *matrix;
	int ret;

	matrix = kzalloc(sizeof(*matrix), GFP_KERNEL);
	if (!matrix)
		return -ENOMEM;

	matrix->dev.parent = vfio_ap_root;
	matrix->dev.bus = &vfio_ap_matrix_bus;
	matrix->dev.groups = vfio_ap_matrix_groups;
	matrix->dev.release = vfio_ap_matrix_release;
	dev_set_name(&matrix->dev, "%s", "matrix");
	ret = device_register(&matrix->dev);
	if (ret) {
		put_device(&matrix->dev);
		return ret;
	}

	matrix->type.sysfs_name = "passthrough";
	matrix->type.pretty_name = "VFIO AP Passthrough Device";
	matrix->types[0] = &matrix->type;
	vfio_ap_drv.matrix = matrix;

	return 0;
}

static void vfio_ap_matrix_destroy(void)
{
	device_unregister(&vfio_ap_drv.matrix->dev);
	vfio_ap_drv.matrix = NULL;
}

/* --- module --- */

static int vfio_ap_read_host_config(void)
{
	struct ap_config_info *qci;
	int ret;

	if (!ap_instructions_available()) {
		pr_err("the AP instructions are not installed\n");
		return -ENODEV;
	}

	qci = kzalloc(sizeof(*qci), GFP_KERNEL);
	if (!qci)
		return -ENOMEM;
	ret = ap_qci(qci);
	if (ret) {
		pr_err("the AP configuration cannot be queried (QCI)\n");
		ret = -ENODEV;
	} else {
		/* No other user yet; the lock keeps the asserts honest. */
		mutex_lock(&vfio_ap_drv.cfg_lock);
		vfio_ap_host_config_set(qci);
		mutex_unlock(&vfio_ap_drv.cfg_lock);
	}
	kfree(qci);

	return ret;
}

static int vfio_ap_register_parent(void)
{
	struct vfio_ap_matrix *matrix = vfio_ap_drv.matrix;

	return mdev_register_parent(&matrix->parent, &matrix->dev,
				    &vfio_ap_mdev_driver, matrix->types,
				    ARRAY_SIZE(matrix->types));
}

static int __init vfio_ap_init(void)
{
	int ret;

	ret = vfio_ap_read_host_config();
	if (ret)
		return ret;

	vfio_ap_root = root_device_register(VFIO_AP_DRV_NAME);
	if (IS_ERR(vfio_ap_root))
		return PTR_ERR(vfio_ap_root);

	ret = bus_register(&vfio_ap_matrix_bus);
	if (ret)
		goto err_root;
	ret = driver_register(&vfio_ap_matrix_driver);
	if (ret)
		goto err_bus;
	ret = vfio_ap_matrix_create();
	if (ret)
		goto err_matrix_driver;
	ret = ap_driver_register(&vfio_ap_queue_driver, THIS_MODULE,
				 VFIO_AP_DRV_NAME);
	if (ret)
		goto err_matrix;
	ret = mdev_register_driver(&vfio_ap_mdev_driver);
	if (ret)
		goto err_queue_driver;
	ret = vfio_ap_register_parent();
	if (ret)
		goto err_mdev_driver;

	return 0;

err_mdev_driver:
	mdev_unregister_driver(&vfio_ap_mdev_driver);
err_queue_driver:
	ap_driver_unregister(&vfio_ap_queue_driver);
err_matrix:
	vfio_ap_matrix_destroy();
err_matrix_driver:
	driver_unregister(&vfio_ap_matrix_driver);
err_bus:
	bus_unregister(&vfio_ap_matrix_bus);
err_root:
	root_device_unregister(vfio_ap_root);
	return ret;
}

/*
 * The mdevs go first: each resets its guest's queues in one parallel
 * batch, and the queues then leave without any mdev to update.
 */
static void __exit vfio_ap_exit(void)
{
	mdev_unregister_parent(&vfio_ap_drv.matrix->parent);
	mdev_unregister_driver(&vfio_ap_mdev_driver);
	ap_driver_unregister(&vfio_ap_queue_driver);
	vfio_ap_matrix_destroy();
	driver_unregister(&vfio_ap_matrix_driver);
	bus_unregister(&vfio_ap_matrix_bus);
	root_device_unregister(vfio_ap_root);
	xa_destroy(&vfio_ap_drv.queues);
}

module_init(vfio_ap_init);
module_exit(vfio_ap_exit);

MODULE_DESCRIPTION("VFIO AP: pass-through of AP crypto queues to KVM guests");
MODULE_LICENSE("GPL");

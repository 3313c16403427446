// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ap driver core: module setup, the matrix parent device and the AP bus
 * queue driver, which tells the model what the AP bus binds, unbinds and
 * reconfigures and has the guest side apply it.
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

/**
 * struct vfio_ap_matrix - the parent device of all vfio_ap mdevs
 * @dev: /sys/devices/vfio_ap/matrix
 * @parent: mdev parent registration
 * @type: the single mdev type, vfio_ap-passthrough
 * @types: the type list handed to the mdev core
 */
struct vfio_ap_matrix {
	struct device dev;
	struct mdev_parent parent;
	struct mdev_type type;
	struct mdev_type *types[VFIO_AP_MDEV_TYPES];
};

static struct device *vfio_ap_root;
static struct vfio_ap_matrix *vfio_ap_matrix_dev;

/*
 * The AP bus is between on_config_changed and on_scan_complete: queue
 * probes then leave plugging to on_scan_complete (cfg_lock).
 */
static bool vfio_ap_scanning;

/* --- the AP queue driver --- */

/* Plug what the new queue completes, unless a scan will do it at its end. */
static void vfio_ap_queue_arrived(struct vfio_ap_queue *q)
{
	struct vfio_ap_mdev *m;

	vfio_ap_assert_cfg_locked();
	m = vfio_ap_queue_owner(q);
	if (!m)
		return;
	if (vfio_ap_scanning)
		vfio_ap_guest_refresh_later(m);
	else
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
	ret = vfio_ap_queue_add(q);
	if (ret)
		goto out_unlock;
	/*
	 * Binding alone makes a queue usable: a deconfigured or checkstopped
	 * queue answers the guest itself, and the AP bus tracks its state.
	 */
	ret = vfio_ap_queue_set_usable(q);
	if (ret) {
		mutex_lock(&vfio_ap_drv.state_lock);
		vfio_ap_queue_del(q);
		mutex_unlock(&vfio_ap_drv.state_lock);
		goto out_unlock;
	}
	dev_set_drvdata(&apdev->device, q);
	trace_vfio_ap_queue_bind(q->qid, true);
	vfio_ap_queue_arrived(q);
	mutex_unlock(&vfio_ap_drv.cfg_lock);

	return 0;

out_unlock:
	mutex_unlock(&vfio_ap_drv.cfg_lock);
	kfree(q);
	return ret;
}

static void vfio_ap_queue_remove(struct ap_device *apdev)
{
	struct vfio_ap_queue *q = dev_get_drvdata(&apdev->device);
	struct vfio_ap_mdev *m;
	LIST_HEAD(unpins);

	mutex_lock(&vfio_ap_drv.cfg_lock);
	vfio_ap_queue_set_unusable(q);
	m = vfio_ap_queue_owner(q);
	/*
	 * Unplugs the adapter and resets the queues the guest loses.  A queue
	 * the guest does not see (its adapter or domain left the host before
	 * the scan removed it, say) changes nothing by going.
	 */
	if (m && vfio_ap_guest_has_queue(m, q->qid))
		vfio_ap_guest_apply(m);

	mutex_lock(&vfio_ap_drv.state_lock);
	vfio_ap_irq_release(q, &unpins);
	vfio_ap_queue_del(q);
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
	for (m = vfio_ap_mdev_first(); m; m = vfio_ap_mdev_next(m)) {
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
	struct vfio_ap_apcb lost;

	mutex_lock(&vfio_ap_drv.cfg_lock);
	vfio_ap_scanning = true;
	vfio_ap_host_config_shrink(new_info, &lost);
	vfio_ap_guest_apply_affected(&lost);
	mutex_unlock(&vfio_ap_drv.cfg_lock);
}

static void vfio_ap_on_scan_complete(struct ap_config_info *new_info,
				     struct ap_config_info *old_info)
{
	struct vfio_ap_apcb gained;

	mutex_lock(&vfio_ap_drv.cfg_lock);
	vfio_ap_scanning = false;
	vfio_ap_host_config_set(new_info, &gained);
	vfio_ap_guest_apply_affected(&gained);
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
	vfio_ap_matrix_dev = matrix;

	return 0;
}

static void vfio_ap_matrix_destroy(void)
{
	device_unregister(&vfio_ap_matrix_dev->dev);
	vfio_ap_matrix_dev = NULL;
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
		vfio_ap_host_config_set(qci, NULL);
		mutex_unlock(&vfio_ap_drv.cfg_lock);
	}
	kfree(qci);

	return ret;
}

static int vfio_ap_register_parent(void)
{
	struct vfio_ap_matrix *matrix = vfio_ap_matrix_dev;

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
	/* Before the parent: its mdevs put their directories there. */
	vfio_ap_debugfs_init(vfio_ap_queue_driver.driver.bus);
	ret = vfio_ap_register_parent();
	if (ret)
		goto err_debugfs;

	return 0;

err_debugfs:
	vfio_ap_debugfs_exit();
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
	mdev_unregister_parent(&vfio_ap_matrix_dev->parent);
	vfio_ap_debugfs_exit();
	mdev_unregister_driver(&vfio_ap_mdev_driver);
	ap_driver_unregister(&vfio_ap_queue_driver);
	vfio_ap_matrix_destroy();
	driver_unregister(&vfio_ap_matrix_driver);
	bus_unregister(&vfio_ap_matrix_bus);
	root_device_unregister(vfio_ap_root);
	vfio_ap_model_exit();
}

module_init(vfio_ap_init);
module_exit(vfio_ap_exit);

MODULE_DESCRIPTION("VFIO AP: pass-through of AP crypto queues to KVM guests");
MODULE_LICENSE("GPL");

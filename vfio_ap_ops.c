// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ap mediated devices: creation and removal, and the VFIO device
 * interface QEMU drives (open, close, ioctls, eventfds, DMA unmap).
 */

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio_ap_private.h"

/* --- ioctls --- */

/*
 * The INFO ioctls: only argsz comes from userspace; the answer, argsz
 * echoed back, is written over the fixed part of the caller's struct.
 */
static int vfio_ap_get_device_info(struct vfio_device_info __user *uinfo)
{
	struct vfio_device_info info = {
		.flags = VFIO_DEVICE_FLAGS_AP | VFIO_DEVICE_FLAGS_RESET,
		.num_irqs = VFIO_AP_IRQ_COUNT,
	};
	const size_t fixed = offsetofend(struct vfio_device_info, num_irqs);

	if (get_user(info.argsz, &uinfo->argsz))
		return -EFAULT;
	if (info.argsz < fixed)
		return -EINVAL;
	return copy_to_user(uinfo, &info, fixed) ? -EFAULT : 0;
}

static int vfio_ap_get_irq_info(struct vfio_irq_info __user *uinfo)
{
	struct vfio_irq_info info = {
		.flags = VFIO_IRQ_INFO_EVENTFD,
		.count = 1,
	};
	const size_t fixed = offsetofend(struct vfio_irq_info, count);

	if (get_user(info.argsz, &uinfo->argsz) ||
	    get_user(info.index, &uinfo->index))
		return -EFAULT;
	if (info.argsz < fixed || info.index >= VFIO_AP_IRQ_COUNT)
		return -EINVAL;
	return copy_to_user(uinfo, &info, fixed) ? -EFAULT : 0;
}

static int vfio_ap_eventfd_get(s32 fd, struct eventfd_ctx **ctx)
{
	if (fd == -1) {
		*ctx = NULL;
		return 0;
	}
	if (fd < 0)
		return -EINVAL;

	*ctx = eventfd_ctx_fdget(fd);
	return PTR_ERR_OR_ZERO(*ctx);
}

static int vfio_ap_set_irqs(struct vfio_ap_mdev *m, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct eventfd_ctx *ctx;
	struct vfio_irq_set hdr;
	size_t data_size;
	s32 fd;
	int ret;

	if (copy_from_user(&hdr, (void __user *)arg, minsz))
		return -EFAULT;
	ret = vfio_set_irqs_validate_and_prepare(&hdr, 1, VFIO_AP_IRQ_COUNT,
						 &data_size);
	if (ret)
		return ret;
	if (hdr.flags != (VFIO_IRQ_SET_ACTION_TRIGGER |
			  VFIO_IRQ_SET_DATA_EVENTFD) ||
	    data_size != sizeof(fd))
		return -EINVAL;
	if (get_user(fd, (s32 __user *)(arg + minsz)))
		return -EFAULT;

	ret = vfio_ap_eventfd_get(fd, &ctx);
	if (ret)
		return ret;
	vfio_ap_trigger_replace(m, hdr.index, ctx);

	return 0;
}

static long vfio_ap_ioctl(struct vfio_device *vdev, unsigned int cmd,
			  unsigned long arg)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vfio_ap_get_device_info((void __user *)arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_ap_get_irq_info((void __user *)arg);
	case VFIO_DEVICE_SET_IRQS:
		return vfio_ap_set_irqs(m, arg);
	case VFIO_DEVICE_RESET:
		/* Ends a migration session too: the uAPI's way out of one. */
		vfio_ap_mig_reset(m);
		vfio_ap_guest_reset(m);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* --- VFIO device life cycle --- */

static int vfio_ap_open_device(struct vfio_device *vdev)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);

	if (!vdev->kvm)
		return -EINVAL;

	return vfio_ap_guest_attach(m, vdev->kvm);
}

static void vfio_ap_close_device(struct vfio_device *vdev)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);

	vfio_ap_mig_reset(m);
	vfio_ap_guest_detach(m);
	vfio_ap_triggers_release(m);
}

/*
 * Called again and again while an mdev in use waits to be removed; its
 * guest has lost everything already (vfio_ap_mdev_remove()).
 */
static void vfio_ap_request(struct vfio_device *vdev, unsigned int count)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);

	if (vfio_ap_trigger_signal(m, VFIO_AP_REQ_IRQ_INDEX))
		return;
	if (!count)
		dev_notice(vfio_ap_mdev_dev(m),
			   "removal waits until userspace releases the device\n");
}

static void vfio_ap_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	vfio_ap_irq_dma_unmap(vdev_to_vfio_ap_mdev(vdev), iova, length);
}

static int vfio_ap_init_dev(struct vfio_device *vdev)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);

	INIT_LIST_HEAD(&m->node);
	INIT_LIST_HEAD(&m->irq_queues);
	spin_lock_init(&m->trigger_lock);
	m->pqap_hook = vfio_ap_pqap_hook;
	vfio_ap_mig_init(m);

	return 0;
}

static void vfio_ap_release_dev(struct vfio_device *vdev)
{
	struct vfio_ap_mdev *m = vdev_to_vfio_ap_mdev(vdev);

	vfio_ap_triggers_release(m);
	vfio_ap_mig_release(m);
}

static const struct vfio_device_ops vfio_ap_dev_ops = {
	.name = "vfio-ap",
	.init = vfio_ap_init_dev,
	.release = vfio_ap_release_dev,
	.open_device = vfio_ap_open_device,
	.close_device = vfio_ap_close_device,
	.ioctl = vfio_ap_ioctl,
	.request = vfio_ap_request,
	.dma_unmap = vfio_ap_dma_unmap,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

/* --- mdev life cycle --- */

static void vfio_ap_mdev_link(struct vfio_ap_mdev *m, bool link)
{
	mutex_lock(&vfio_ap_drv.cfg_lock);
	if (link)
		vfio_ap_mdev_add(m);
	else
		vfio_ap_mdev_del(m);
	mutex_unlock(&vfio_ap_drv.cfg_lock);
}

static int vfio_ap_mdev_probe(struct mdev_device *mdev)
{
	struct vfio_ap_mdev *m;
	int ret;

	m = vfio_alloc_device(vfio_ap_mdev, vdev, &mdev->dev, &vfio_ap_dev_ops);
	if (IS_ERR(m))
		return PTR_ERR(m);

	vfio_ap_mdev_link(m, true);
	ret = vfio_register_emulated_iommu_dev(&m->vdev);
	if (ret) {
		vfio_ap_mdev_link(m, false);
		vfio_put_device(&m->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, m);
	vfio_ap_debugfs_mdev_add(m);

	return 0;
}

static void vfio_ap_mdev_remove(struct mdev_device *mdev)
{
	struct vfio_ap_mdev *m = dev_get_drvdata(&mdev->dev);

	/* Waits for readers of the view, which read what is withdrawn next. */
	vfio_ap_debugfs_mdev_del(m);
	/*
	 * The guest loses everything, and its queues are reset, before the
	 * VMM is asked to let go: a VMM slow to answer, or that never does,
	 * keeps nothing the administrator takes back.
	 */
	vfio_ap_guest_withdraw(m);
	/* Waits for close; asks userspace through the REQ eventfd meanwhile. */
	vfio_unregister_group_dev(&m->vdev);
	vfio_ap_mdev_link(m, false);
	dev_set_drvdata(&mdev->dev, NULL);
	vfio_put_device(&m->vdev);
}

struct mdev_driver vfio_ap_mdev_driver = {
	.device_api = VFIO_DEVICE_API_AP_STRING,
	.max_instances = VFIO_AP_MAX_MDEVS,
	.probe = vfio_ap_mdev_probe,
	.remove = vfio_ap_mdev_remove,
	.driver = {
		.name = VFIO_AP_MDEV_DRV_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = vfio_ap_mdev_groups,
	},
};

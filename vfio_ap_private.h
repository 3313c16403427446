/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared state of the vfio_ap driver: the host view, the queue table, the
 * mdevs and the entry points the driver's files call on each other.
 *
 * The locks named here are described in
 * Documentation/arch/s390/vfio-ap-locking.rst.
 */
#ifndef _VFIO_AP_PRIVATE_H_
#define _VFIO_AP_PRIVATE_H_

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/kvm_host.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mdev.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vfio.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "ap_bus.h"
#include "vfio_ap_hotplug.h"

#define VFIO_AP_DRV_NAME	"vfio_ap"
#define VFIO_AP_MDEV_DRV_NAME	"vfio_ap_mdev"
#define VFIO_AP_MAX_MDEVS	65536
#define VFIO_AP_MDEV_TYPES	1

/* Linux 6.15 added this index to the UAPI; older headers lack it. */
#ifndef VFIO_AP_CFG_CHG_IRQ_INDEX
#define VFIO_AP_CFG_CHG_IRQ_INDEX	1
#endif
#define VFIO_AP_IRQ_COUNT		2

/* A queue reset that has not completed after this long is given up. */
#define VFIO_AP_RESET_TIMEOUT_MS	5000
#define VFIO_AP_RESET_POLL_MS		20

/* Interrupt disablement by the guest is waited for at most this long. */
#define VFIO_AP_IRQ_OFF_POLLS		20
#define VFIO_AP_IRQ_OFF_POLL_MS		5

struct vfio_ap_mdev;

/**
 * enum vfio_ap_reset_step - where a queue is in a batch reset
 * @VFIO_AP_RESET_ZAPQ: ZAPQ must be (re)issued
 * @VFIO_AP_RESET_VERIFY: ZAPQ accepted; TAPQ polls for completion
 * @VFIO_AP_RESET_DONE: finished, successfully or not
 */
enum vfio_ap_reset_step {
	VFIO_AP_RESET_ZAPQ,
	VFIO_AP_RESET_VERIFY,
	VFIO_AP_RESET_DONE,
};

/**
 * struct vfio_ap_queue - an AP queue device bound to vfio_ap
 * @apq: the AP bus queue device
 * @qid: its APQN
 * @reset_node: entry in a reset batch (cfg_lock)
 * @reset_step: progress within the batch (cfg_lock)
 * @reset_rc: last response code the reset saw (cfg_lock)
 * @reset_outcome: how the last reset ended, an enum vfio_ap_reset_outcome
 *		   (cfg_lock)
 * @resetting: a reset batch holds the queue; the PQAP hook answers
 *	       "reset in progress" meanwhile (written under both locks)
 * @reset_stuck: a reset did not complete or failed; the queue stays out of
 *		 every guest until it is unbound and bound again (cfg_lock)
 * @irq_mdev: the mdev whose guest enabled interrupts, or NULL (state_lock)
 * @irq_kvm: that guest; its GISC registration is ours to drop (state_lock)
 * @irq_node: entry in @irq_mdev's list of such queues (state_lock)
 * @nib_iova: guest address of the notification indicator byte (state_lock)
 * @gisc: guest ISC registered for the interrupts (state_lock)
 * @irq_busy: a NIB page of this queue is being pinned or unpinned outside
 *	      state_lock; the PQAP hook answers "busy" meanwhile (state_lock)
 * @unpin_node: entry in a list of NIB pages to unpin
 * @unpin_mdev: the mdev whose NIB page @unpin_iova is to be unpinned
 * @unpin_iova: that page
 */
struct vfio_ap_queue {
	struct ap_queue *apq;
	ap_qid_t qid;
	struct list_head reset_node;
	enum vfio_ap_reset_step reset_step;
	u8 reset_rc;
	u8 reset_outcome;
	bool resetting;
	bool reset_stuck;
	struct vfio_ap_mdev *irq_mdev;
	struct kvm *irq_kvm;
	struct list_head irq_node;
	dma_addr_t nib_iova;
	u8 gisc;
	bool irq_busy;
	struct list_head unpin_node;
	struct vfio_ap_mdev *unpin_mdev;
	dma_addr_t unpin_iova;
};

/**
 * struct vfio_ap_mdev - one vfio_ap mediated device
 * @vdev: the VFIO device
 * @node: entry in vfio_ap_drv.mdevs (cfg_lock and state_lock)
 * @assigned: adapters, domains and control domains the admin assigned
 *	      (written under cfg_lock and state_lock)
 * @guest: what the guest sees, or would see if one were attached
 *	   (written under cfg_lock and state_lock)
 * @kvm: the guest while the device is open (written under both locks)
 * @removing: the mdev is being removed: its guest gets nothing from now on
 *	      and assignments are refused (written under both locks)
 * @pqap_hook: the PQAP hook KVM calls; kvm->arch.crypto.pqap_hook points here
 * @irq_queues: queues whose interrupts this guest enabled (state_lock)
 * @trigger_lock: protects the two eventfd contexts
 * @req_trigger: signalled to ask userspace to release the device
 * @cfg_chg_trigger: signalled whenever the guest's AP configuration changes
 */
struct vfio_ap_mdev {
	struct vfio_device vdev;
	struct list_head node;
	struct vfio_ap_apcb assigned;
	struct vfio_ap_apcb guest;
	struct kvm *kvm;
	bool removing;
	crypto_hook pqap_hook;
	struct list_head irq_queues;
	spinlock_t trigger_lock;	/* guards the two eventfds */
	struct eventfd_ctx *req_trigger;
	struct eventfd_ctx *cfg_chg_trigger;
};

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

/**
 * struct vfio_ap_drv - driver-wide state
 * @cfg_lock: serializes every change of what a guest may see, and the
 *	      CRYCB updates and queue resets that follow it
 * @state_lock: inner lock for the state the vCPU-side PQAP hook and sysfs
 *		readers need; every writer of that state holds both locks
 * @mdevs: all mdevs
 * @queues: bound queues indexed by APQN (written under both locks)
 * @host: the host's AP configuration from QCI (cfg_lock)
 * @queue_map: which bound queues a guest may get (cfg_lock)
 * @max_apid: highest adapter number the machine supports (WRITE_ONCE under
 *	      cfg_lock; READ_ONCE without a lock, see vfio_ap_max_id())
 * @max_apqi: highest domain number the machine supports (as @max_apid)
 * @scanning: the AP bus is between on_config_changed and on_scan_complete;
 *	      queue probes then leave plugging to on_scan_complete (cfg_lock)
 * @nib_busy: NIB pins and unpins under way outside state_lock
 * @nib_wait: woken when @nib_busy drops to zero
 * @matrix: the parent device
 */
struct vfio_ap_drv {
	struct mutex cfg_lock;		/* outer: configuration changes */
	struct mutex state_lock;	/* inner: state the hook reads */
	struct list_head mdevs;
	struct xarray queues;
	struct vfio_ap_apcb host;
	struct vfio_ap_queue_map queue_map;
	unsigned int max_apid;
	unsigned int max_apqi;
	bool scanning;
	atomic_t nib_busy;
	wait_queue_head_t nib_wait;
	struct vfio_ap_matrix *matrix;
};

extern struct vfio_ap_drv vfio_ap_drv;

/*
 * The rules of Documentation/arch/s390/vfio-ap-locking.rst, checked by
 * lockdep (macros, so that a report names the function that broke one).
 * What is written under both locks may be read under either.
 */
#define vfio_ap_assert_cfg_locked() \
	lockdep_assert_held(&vfio_ap_drv.cfg_lock)
#define vfio_ap_assert_state_locked() \
	lockdep_assert_held(&vfio_ap_drv.state_lock)
#define vfio_ap_assert_cfg_or_state_locked() \
	lockdep_assert(lockdep_is_held(&vfio_ap_drv.cfg_lock) || \
		       lockdep_is_held(&vfio_ap_drv.state_lock))

static inline struct vfio_ap_mdev *vdev_to_vfio_ap_mdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct vfio_ap_mdev, vdev);
}

static inline struct device *vfio_ap_mdev_dev(struct vfio_ap_mdev *m)
{
	return m->vdev.dev;
}

static inline const guid_t *vfio_ap_mdev_uuid(struct vfio_ap_mdev *m)
{
	return &to_mdev_device(m->vdev.dev)->uuid;
}

static inline unsigned int vfio_ap_qid_apid(ap_qid_t qid)
{
	return AP_QID_CARD(qid);
}

static inline unsigned int vfio_ap_qid_apqi(ap_qid_t qid)
{
	return AP_QID_QUEUE(qid);
}

/* vfio_ap_drv.c */
struct vfio_ap_queue *vfio_ap_queue_lookup(unsigned long apid,
					   unsigned long apqi);
bool vfio_ap_host_has_queue(ap_qid_t qid);
void vfio_ap_queue_mark_unusable(struct vfio_ap_queue *q);

/* vfio_ap_guest.c */
struct vfio_ap_mdev *vfio_ap_mdev_owning(unsigned long apid,
					 unsigned long apqi);
bool vfio_ap_guest_refresh(struct vfio_ap_mdev *m, struct list_head *resets);
void vfio_ap_guest_apply(struct vfio_ap_mdev *m);
void vfio_ap_guest_apply_all(void);
void vfio_ap_guest_collect_queues(struct vfio_ap_mdev *m,
				  struct list_head *resets);
int vfio_ap_guest_attach(struct vfio_ap_mdev *m, struct kvm *kvm);
void vfio_ap_guest_detach(struct vfio_ap_mdev *m);
void vfio_ap_guest_reset(struct vfio_ap_mdev *m);
void vfio_ap_guest_withdraw(struct vfio_ap_mdev *m);
void vfio_ap_trigger_replace(struct vfio_ap_mdev *m, unsigned int index,
			     struct eventfd_ctx *ctx);
bool vfio_ap_trigger_signal(struct vfio_ap_mdev *m, unsigned int index);
void vfio_ap_triggers_release(struct vfio_ap_mdev *m);

/* vfio_ap_reset.c */
void vfio_ap_reset_batch_add(struct list_head *batch, struct vfio_ap_queue *q);
unsigned int vfio_ap_reset_batch_run(struct list_head *batch);

/* vfio_ap_irq.c */
void vfio_ap_irq_release(struct vfio_ap_queue *q, struct list_head *unpins);
bool vfio_ap_irq_release_if_off(struct vfio_ap_queue *q,
				struct list_head *unpins);
void vfio_ap_irq_release_all(struct vfio_ap_mdev *m, struct list_head *unpins);
void vfio_ap_irq_unpin(struct list_head *unpins);
void vfio_ap_irq_wait_idle(void);
void vfio_ap_irq_dma_unmap(struct vfio_ap_mdev *m, u64 iova, u64 length);
struct ap_queue_status vfio_ap_irq_aqic(struct vfio_ap_mdev *m,
					struct kvm_vcpu *vcpu,
					unsigned long apqn,
					union ap_qirq_ctrl ctrl, dma_addr_t nib);

/* vfio_ap_pqap.c */
int vfio_ap_pqap_hook(struct kvm_vcpu *vcpu);

/* vfio_ap_ops.c */
extern struct mdev_driver vfio_ap_mdev_driver;

/* vfio_ap_sysfs.c */
extern const struct attribute_group *vfio_ap_matrix_groups[];
extern const struct attribute_group *vfio_ap_mdev_groups[];
extern const struct attribute_group *vfio_ap_queue_groups[];

#endif /* _VFIO_AP_PRIVATE_H_ */

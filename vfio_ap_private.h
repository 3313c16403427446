/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of the vfio_ap driver share: the queue and mdev objects,
 * the driver's two locks, and each file's functions, grouped by layer.
 * Calls run one way, from each layer to the layers after it:
 *
 *   entry points     vfio_ap_drv.c (module, AP bus), vfio_ap_ops.c (mdev,
 *                    VFIO device), vfio_ap_migration.c (VFIO migration),
 *                    vfio_ap_sysfs.c, vfio_ap_pqap.c (KVM), vfio_ap_debugfs.c
 *   guest side       vfio_ap_guest.c
 *   queue operations vfio_ap_reset.c, then vfio_ap_irq.c
 *   model            vfio_ap_model.c
 *   engine           vfio_ap_hotplug.h, with vfio_ap_format.h beside it
 *
 * A layer may skip those below it, never call one above.  Inside a layer
 * calls run one way too: vfio_ap_drv.c registers the tables of the other
 * entry points, vfio_ap_drv.c and vfio_ap_ops.c create and remove the
 * debugfs files, vfio_ap_ops.c hands KVM the PQAP hook and VFIO the
 * migration callbacks, and vfio_ap_reset.c releases interrupts through
 * vfio_ap_irq.c.  tools/testing/vfio_ap_lab/
 * callgraph.sh checks all of this on the built objects.  The locks named
 * here are described in Documentation/arch/s390/vfio-ap-locking.rst.
 */
#ifndef _VFIO_AP_PRIVATE_H_
#define _VFIO_AP_PRIVATE_H_

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
struct vfio_ap_mig_file;

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
 * @owner: the mdev the APQN is assigned to, or NULL; kept by the model so
 *	   that an AP bus event on the queue need not search the mdevs
 *	   (written under both locks)
 * @reset_node: entry in a reset batch (cfg_lock)
 * @reset_step: progress within the batch (cfg_lock)
 * @reset_rc: last response code the reset saw (cfg_lock)
 * @reset_outcome: how the last reset ended, an enum vfio_ap_reset_outcome
 *		   (cfg_lock)
 * @resetting: a reset batch holds the queue; the PQAP hook answers
 *	       "reset in progress" meanwhile (written under both locks)
 * @reset_stuck: a reset did not complete or failed; the queue stays out of
 *		 every guest until it is unbound and bound again (cfg_lock)
 * @stuck_rc: the response code that failed reset last saw; later resets
 *	      of the queue may overwrite @reset_rc (cfg_lock)
 * @stuck_outcome: how that reset ended, an enum vfio_ap_reset_outcome
 *		   (cfg_lock)
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
	struct vfio_ap_mdev *owner;
	struct list_head reset_node;
	enum vfio_ap_reset_step reset_step;
	u8 reset_rc;
	u8 reset_outcome;
	bool resetting;
	bool reset_stuck;
	u8 stuck_rc;
	u8 stuck_outcome;
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
 * @node: entry in the model's list of mdevs (cfg_lock and state_lock)
 * @assigned: adapters, domains and control domains the admin assigned
 *	      (written under cfg_lock and state_lock, by the model)
 * @guest: what the guest sees, or would see if one were attached
 *	   (written under cfg_lock and state_lock)
 * @kvm: the guest while the device is open (written under both locks)
 * @removing: the mdev is being removed: its guest gets nothing from now on
 *	      and assignments are refused (written under both locks)
 * @refresh_pending: a queue of this mdev was bound during an AP bus scan;
 *		     the guest is refreshed when the scan completes (cfg_lock)
 * @pqap_hook: the PQAP hook KVM calls; kvm->arch.crypto.pqap_hook points here
 * @irq_queues: queues whose interrupts this guest enabled (state_lock)
 * @trigger_lock: protects the two eventfd contexts
 * @req_trigger: signalled to ask userspace to release the device
 * @cfg_chg_trigger: signalled whenever the guest's AP configuration changes
 * @debugfs: the mdev's directory in debugfs (see vfio_ap_debugfs.c)
 * @mig_lock: serializes migration state changes and device resets
 * @mig_state: the VFIO migration state (mig_lock)
 * @mig_file: the data fd of the migration session under way, or NULL
 *	      (mig_lock)
 */
struct vfio_ap_mdev {
	struct vfio_device vdev;
	struct list_head node;
	struct vfio_ap_apcb assigned;
	struct vfio_ap_apcb guest;
	struct kvm *kvm;
	bool removing;
	bool refresh_pending;
	crypto_hook pqap_hook;
	struct list_head irq_queues;
	spinlock_t trigger_lock;	/* guards the two eventfds */
	struct eventfd_ctx *req_trigger;
	struct eventfd_ctx *cfg_chg_trigger;
	struct dentry *debugfs;
	struct mutex mig_lock;		/* outermost: migration state */
	enum vfio_device_mig_state mig_state;
	struct vfio_ap_mig_file *mig_file;
};

/**
 * struct vfio_ap_drv - the driver's two locks
 * @cfg_lock: serializes every change of what a guest may see, and the
 *	      CRYCB updates and queue resets that follow it
 * @state_lock: inner lock for the state the vCPU-side PQAP hook and sysfs
 *		readers need; every writer of that state holds both locks
 *
 * Every layer takes or asserts them, so they are defined at the bottom,
 * in vfio_ap_model.c.  The state they guard is the model's, the guest
 * side's (an mdev's guest masks and kvm) and the queue operations' (a
 * queue's reset and interrupt records).
 */
struct vfio_ap_drv {
	struct mutex cfg_lock;		/* outer: configuration changes */
	struct mutex state_lock;	/* inner: state the hook reads */
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

/* === entry points: the driver core, AP bus, VFIO and KVM call these === */

/*
 * vfio_ap_drv.c, the module and the AP bus queue driver, declares nothing:
 * it registers what the files below export.
 */

/* vfio_ap_ops.c: the mdevs and the VFIO device */
extern struct mdev_driver vfio_ap_mdev_driver;

/* vfio_ap_migration.c: VFIO migration, set up by vfio_ap_ops.c */
void vfio_ap_mig_init(struct vfio_ap_mdev *m);
void vfio_ap_mig_release(struct vfio_ap_mdev *m);
void vfio_ap_mig_reset(struct vfio_ap_mdev *m);

/* vfio_ap_sysfs.c */
extern const struct attribute_group *vfio_ap_matrix_groups[];
extern const struct attribute_group *vfio_ap_mdev_groups[];
extern const struct attribute_group *vfio_ap_queue_groups[];

/* vfio_ap_pqap.c: KVM calls it on a guest's PQAP(AQIC) */
int vfio_ap_pqap_hook(struct kvm_vcpu *vcpu);

/* vfio_ap_debugfs.c: what each mdev's guest lacks, and why */
void vfio_ap_debugfs_init(const struct bus_type *ap_bus);
void vfio_ap_debugfs_exit(void);
void vfio_ap_debugfs_mdev_add(struct vfio_ap_mdev *m);
void vfio_ap_debugfs_mdev_del(struct vfio_ap_mdev *m);

/* === guest side: applies the engine's decisions (vfio_ap_guest.c) === */

bool vfio_ap_guest_refresh(struct vfio_ap_mdev *m, struct list_head *resets);
void vfio_ap_guest_apply(struct vfio_ap_mdev *m);
void vfio_ap_guest_apply_affected(const struct vfio_ap_apcb *changed);
void vfio_ap_guest_refresh_later(struct vfio_ap_mdev *m);
bool vfio_ap_guest_has_queue(const struct vfio_ap_mdev *m, ap_qid_t qid);
void vfio_ap_guest_collect_queues(struct vfio_ap_mdev *m,
				  struct list_head *resets);
unsigned int vfio_ap_guest_run_resets(struct list_head *resets);
int vfio_ap_guest_attach(struct vfio_ap_mdev *m, struct kvm *kvm);
void vfio_ap_guest_detach(struct vfio_ap_mdev *m);
void vfio_ap_guest_reset(struct vfio_ap_mdev *m);
void vfio_ap_guest_withdraw(struct vfio_ap_mdev *m);
void vfio_ap_trigger_replace(struct vfio_ap_mdev *m, unsigned int index,
			     struct eventfd_ctx *ctx);
bool vfio_ap_trigger_signal(struct vfio_ap_mdev *m, unsigned int index);
void vfio_ap_triggers_release(struct vfio_ap_mdev *m);

/* === queue operations: AP instructions on the queues === */

/* vfio_ap_reset.c: batches of resets; releases interrupts through irq.c */
void vfio_ap_reset_batch_add(struct list_head *batch, struct vfio_ap_queue *q);
unsigned int vfio_ap_reset_batch_run(struct list_head *batch);
bool vfio_ap_reset_withheld(const struct vfio_ap_queue *q, u8 *rc,
			    bool *timed_out);

/* vfio_ap_irq.c: a guest's queue interrupts */
void vfio_ap_irq_release(struct vfio_ap_queue *q, struct list_head *unpins);
bool vfio_ap_irq_release_if_off(struct vfio_ap_queue *q,
				struct list_head *unpins);
void vfio_ap_irq_release_all(struct vfio_ap_mdev *m, struct list_head *unpins);
void vfio_ap_irq_unpin(struct list_head *unpins);
void vfio_ap_irq_wait_idle(void);
bool vfio_ap_irq_get(const struct vfio_ap_queue *q,
		     const struct vfio_ap_mdev *m, u8 *gisc, dma_addr_t *nib);
bool vfio_ap_irq_nib_in_guest(struct kvm *kvm, dma_addr_t nib);
u8 vfio_ap_irq_restore(struct vfio_ap_mdev *m, ap_qid_t qid, u8 gisc,
		       dma_addr_t nib);
void vfio_ap_irq_unrestore(struct vfio_ap_mdev *m, ap_qid_t qid);
void vfio_ap_irq_dma_unmap(struct vfio_ap_mdev *m, u64 iova, u64 length);
struct ap_queue_status vfio_ap_irq_aqic(struct vfio_ap_mdev *m,
					struct kvm_vcpu *vcpu,
					unsigned long apqn,
					union ap_qirq_ctrl ctrl, dma_addr_t nib);

/* === model: the state all of the above read (vfio_ap_model.c) === */

/* the host's AP configuration */
void vfio_ap_host_config_set(const struct ap_config_info *qci,
			     struct vfio_ap_apcb *gained);
void vfio_ap_host_config_shrink(const struct ap_config_info *qci,
				struct vfio_ap_apcb *lost);
const struct vfio_ap_apcb *vfio_ap_host_config(void);
bool vfio_ap_host_has_queue(ap_qid_t qid);
unsigned int vfio_ap_max_apid(void);
unsigned int vfio_ap_max_apqi(void);

/* the queues bound to vfio_ap, and which of them a guest may get */
int vfio_ap_queue_add(struct vfio_ap_queue *q);
void vfio_ap_queue_del(struct vfio_ap_queue *q);
struct vfio_ap_queue *vfio_ap_queue_lookup(unsigned long apid,
					   unsigned long apqi);
int vfio_ap_queue_set_usable(struct vfio_ap_queue *q);
void vfio_ap_queue_set_unusable(struct vfio_ap_queue *q);
bool vfio_ap_queue_usable(const struct vfio_ap_queue *q);

/* the mdevs, what is assigned to them, and who owns an APQN */
void vfio_ap_mdev_add(struct vfio_ap_mdev *m);
void vfio_ap_mdev_del(struct vfio_ap_mdev *m);
struct vfio_ap_mdev *vfio_ap_mdev_first(void);
struct vfio_ap_mdev *vfio_ap_mdev_next(struct vfio_ap_mdev *m);
void vfio_ap_mdev_set_assigned(struct vfio_ap_mdev *m,
			       const struct vfio_ap_apcb *assigned);
struct vfio_ap_mdev *vfio_ap_queue_owner(const struct vfio_ap_queue *q);

/* the engine run on the model */
void vfio_ap_model_compute_guest(const struct vfio_ap_apcb *grant,
				 const struct vfio_ap_apcb *old_guest,
				 struct vfio_ap_plug_result *res);
void vfio_ap_model_explain_missing(const struct vfio_ap_apcb *assigned,
				   const struct vfio_ap_apcb *guest,
				   struct vfio_ap_missing *why);
void vfio_ap_model_missing_queues(unsigned int apid, const unsigned long *aqm,
				  unsigned long *missing);
void vfio_ap_model_exit(void);

#endif /* _VFIO_AP_PRIVATE_H_ */

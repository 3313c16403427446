/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Expectations of the test programs that run a KVM guest: the interrupt
 * resources the guest's queues hold.
 */
#ifndef VFIO_AP_KVM_EXPECT_H
#define VFIO_AP_KVM_EXPECT_H

#include "../kselftest_harness.h"
#include "vfio_ap_kvm.h"

/* @n queues on: @n pins, @n registrations of @gisc, @n in the simulator. */
static inline void expect_irqs_held(struct __test_metadata *_metadata,
				    const struct kvm_guest *g,
				    unsigned int gisc, int n)
{
	struct gisa_info gi;

	EXPECT_EQ(n, pinned_pages());
	ASSERT_EQ(0, gisa_read(g, &gi));
	EXPECT_EQ((unsigned int)n, gi.refs[gisc]);
	EXPECT_EQ(n, sim_guest_irqs());
}

#endif

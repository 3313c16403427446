// SPDX-License-Identifier: GPL-2.0
/*
 * Instantiates the vfio_ap tracepoints declared in vfio_ap_trace.h.
 */

#define CREATE_TRACE_POINTS
#include "vfio_ap_trace.h"

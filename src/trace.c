// SPDX-License-Identifier: GPL-2.0
/* The tracepoints of src/trace.h are instantiated here, once. */
#define CREATE_TRACE_POINTS
#include "trace.h"

// SPDX-License-Identifier: GPL-2.0
/*
 * samepage_ibt_call() on arm64: the one way samepage calls a kernel
 * function whose address it resolved through kallsyms (src/ksyms.h, whose
 * typed wrappers truncate the result to the callee's real type).
 *
 * arm64 has no IBT and seals no function entry: an indirect call (BLR)
 * from C is how the kernel itself calls through a pointer. Two things could
 * still refuse one:
 *
 *  - CONFIG_ARM64_BTI_KERNEL maps the kernel's text guarded, and a BLR
 *    must land on a BTI C landing pad (PACIASP counts as one). The
 *    compilers put one at the start of every function with external
 *    linkage or whose address is taken; every function samepage resolves
 *    is a global one. (Debian's 6.12 arm64 kernel is built by GCC, for
 *    which 6.12 does not offer BTI_KERNEL at all.)
 *  - CONFIG_CFI_CLANG checks the callee's type hash at every indirect
 *    call, which a resolved address never matches this prototype: __nocfi
 *    leaves the check out of this one function.
 *
 * a0..a5 go in x0..x5 as the callee's first six integer or pointer
 * arguments (AAPCS64: a narrower argument reads the low bits, which the
 * callee extends), and x0 comes back whole.
 */
#include <linux/compiler.h>
#include "ksyms.h"

typedef unsigned long (*sp_fn6_t)(unsigned long, unsigned long, unsigned long,
				  unsigned long, unsigned long, unsigned long);

unsigned long __nocfi samepage_ibt_call(unsigned long a0, unsigned long a1,
					unsigned long a2, unsigned long a3,
					unsigned long a4, unsigned long a5,
					unsigned long fn)
{
	return ((sp_fn6_t)fn)(a0, a1, a2, a3, a4, a5);
}

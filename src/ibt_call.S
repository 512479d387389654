/* SPDX-License-Identifier: GPL-2.0 */
/*
 * samepage_ibt_call - the one way samepage calls a kernel function whose
 * address it resolved through kallsyms.
 *
 * On kernels built with CONFIG_X86_KERNEL_IBT the ENDBR of every function
 * that is not address-taken in vmlinux is sealed (overwritten) at boot. An
 * indirect CALL or JMP to such an address raises #CP on CET-capable CPUs,
 * which is a kernel BUG. A RET is not tracked by IBT, so this trampoline pushes
 * its own return label and the target, and enters the target with RET.
 *
 * C prototype (see src/ksyms.h):
 *   unsigned long samepage_ibt_call(unsigned long a0, unsigned long a1,
 *                                   unsigned long a2, unsigned long a3,
 *                                   unsigned long a4, unsigned long a5,
 *                                   unsigned long fn);
 * a0..a5 stay in the argument registers; fn is the seventh argument and so
 * lives on the stack. A frame pointer is kept so the ORC unwinder's frame
 * pointer fallback can walk through it: objtool is told to leave this one
 * function's stack layout alone (STACK_FRAME_NON_STANDARD), and the entering
 * RET is annotated as intended; the final return uses the kernel's RET, so
 * return-thunk mitigations still apply to it.
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/nospec-branch.h>

	.text
SYM_FUNC_START(samepage_ibt_call)
	push	%rbp
	mov	%rsp, %rbp
	mov	16(%rbp), %rax		/* fn, the 7th argument */
	lea	.Lsamepage_ibt_back(%rip), %r11
	push	%r11			/* fn returns here */
	push	%rax
	ANNOTATE_UNRET_SAFE
	ret				/* enter fn: a return, not a branch */
.Lsamepage_ibt_back:
	pop	%rbp
	RET
SYM_FUNC_END(samepage_ibt_call)
STACK_FRAME_NON_STANDARD samepage_ibt_call

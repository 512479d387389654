/* SPDX-License-Identifier: GPL-2.0 */
/*
 * samepage's tracepoints: /sys/kernel/tracing/events/samepage/. Each event
 * matches a counter one for one (tests/trace_events.c checks it):
 *   scan_start, scan_stop  a full pass begins / ends (full_scans)
 *   merge                  a PTE now maps a kpage or the zero page
 *   unmerge                a merged PTE was given its own page back
 *   cow_break              a write fault on a kpage (cow_breaks)
 *   advisor                the scan-time advisor set pages_to_scan
 *   reap                   one engine lock hold dropped items of an exited
 *                          process (at most SP_REAP_CHUNK; rmap_items)
 *   cow_probe              the write-fault probe (cow_breaks) was armed or
 *                          disarmed (no counter: tests/cow_probe)
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM samepage

#if !defined(SAMEPAGE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define SAMEPAGE_TRACE_H

#include <linux/tracepoint.h>

struct mm_struct;

TRACE_EVENT(scan_start,
	TP_PROTO(unsigned long seq, unsigned long slots),
	TP_ARGS(seq, slots),
	TP_STRUCT__entry(
		__field(unsigned long, seq)
		__field(unsigned long, slots)
	),
	TP_fast_assign(
		__entry->seq = seq;
		__entry->slots = slots;
	),
	TP_printk("seq %lu slots %lu", __entry->seq, __entry->slots)
);

TRACE_EVENT(scan_stop,
	TP_PROTO(unsigned long seq, unsigned long visited,
		 unsigned long shared, unsigned long sharing),
	TP_ARGS(seq, visited, shared, sharing),
	TP_STRUCT__entry(
		__field(unsigned long, seq)
		__field(unsigned long, visited)
		__field(unsigned long, shared)
		__field(unsigned long, sharing)
	),
	TP_fast_assign(
		__entry->seq = seq;
		__entry->visited = visited;
		__entry->shared = shared;
		__entry->sharing = sharing;
	),
	TP_printk("seq %lu visited %lu pages_shared %lu pages_sharing %lu",
		  __entry->seq, __entry->visited, __entry->shared,
		  __entry->sharing)
);

DECLARE_EVENT_CLASS(samepage_addr,
	TP_PROTO(struct mm_struct *mm, unsigned long addr),
	TP_ARGS(mm, addr),
	TP_STRUCT__entry(
		__field(void *, mm)
		__field(unsigned long, addr)
	),
	TP_fast_assign(
		__entry->mm = mm;
		__entry->addr = addr;
	),
	TP_printk("mm %p addr %lx", __entry->mm, __entry->addr)
);

DEFINE_EVENT(samepage_addr, unmerge,
	TP_PROTO(struct mm_struct *mm, unsigned long addr),
	TP_ARGS(mm, addr)
);

DEFINE_EVENT(samepage_addr, cow_break,
	TP_PROTO(struct mm_struct *mm, unsigned long addr),
	TP_ARGS(mm, addr)
);

TRACE_EVENT(merge,
	TP_PROTO(struct mm_struct *mm, unsigned long addr, unsigned long kpfn),
	TP_ARGS(mm, addr, kpfn),
	TP_STRUCT__entry(
		__field(void *, mm)
		__field(unsigned long, addr)
		__field(unsigned long, kpfn)
	),
	TP_fast_assign(
		__entry->mm = mm;
		__entry->addr = addr;
		__entry->kpfn = kpfn;
	),
	TP_printk("mm %p addr %lx %s %lx", __entry->mm, __entry->addr,
		  __entry->kpfn ? "kpfn" : "zero", __entry->kpfn)
);

TRACE_EVENT(reap,
	TP_PROTO(unsigned long items, bool freed),
	TP_ARGS(items, freed),
	TP_STRUCT__entry(
		__field(unsigned long, items)
		__field(bool, freed)
	),
	TP_fast_assign(
		__entry->items = items;
		__entry->freed = freed;
	),
	TP_printk("items %lu slot_freed %d", __entry->items, __entry->freed)
);

TRACE_EVENT(cow_probe,
	TP_PROTO(bool armed),
	TP_ARGS(armed),
	TP_STRUCT__entry(
		__field(bool, armed)
	),
	TP_fast_assign(
		__entry->armed = armed;
	),
	TP_printk("armed %d", __entry->armed)
);

TRACE_EVENT(advisor,
	TP_PROTO(unsigned long scan_time, unsigned long pages_to_scan,
		 unsigned int cpu_percent),
	TP_ARGS(scan_time, pages_to_scan, cpu_percent),
	TP_STRUCT__entry(
		__field(unsigned long, scan_time)
		__field(unsigned long, pages_to_scan)
		__field(unsigned int, cpu_percent)
	),
	TP_fast_assign(
		__entry->scan_time = scan_time;
		__entry->pages_to_scan = pages_to_scan;
		__entry->cpu_percent = cpu_percent;
	),
	TP_printk("scan_time %lu s pages_to_scan %lu cpu_percent %u",
		  __entry->scan_time, __entry->pages_to_scan,
		  __entry->cpu_percent)
);

#endif /* SAMEPAGE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>

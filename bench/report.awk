# SPDX-License-Identifier: GPL-2.0
#
# The report of scripts/bench, from its CSV files:
#   awk -F, -v ratios=RATIOS.csv -f bench/report.awk results.csv merge.csv series.csv fork.csv floor.csv
# prints a Markdown table (per workload and metric: in-tree KSM, samepage,
# samepage/KSM), the W3 scaling table, the W4 line, the scanner CPU spent in
# each of the first passes (from the samples: pass 1 hashes every page,
# pass 2 does most of the merging, later ones are steady), the huge-page
# figures (G1, and TS's thp_min_mergeable sweep), F1's fork/COW/munmap
# times with samepage loaded against not loaded, each KSM's CPU per page
# scanned against FL's floor (one xxh64 + one memcmp), then the targets, each
# "HOLDS" or "FAILS" with its figures (or "n/a" and why). Writes every ratio
# to RATIOS.csv (preset,param,metric,ksm,samepage,ratio) for checks.
# A failing target is a finding, not an error: the exit status is 0.

function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
function fmt(v,    x) {
	if (!num(v)) return "n/a"
	x = v + 0
	if (x == int(x) || x >= 1000 || x <= -1000) return sprintf("%.0f", x)
	return sprintf("%.3g", x)
}
function ratio(a, b) { return num(a) && num(b) && b + 0 != 0 ? sprintf("%.3f", a / b) : "n/a" }
function verdict(ok) { return ok ? "HOLDS" : "FAILS" }
# one target of the report: samepage's figure @a against in-tree's @b (in
# @unit), their ratio @r, whether it holds (@ok), and @why if a run did not
# converge (then the verdict is n/a)
function target(desc, r, ok, a, b, unit, why) {
	printf "  %s: %s (%s%s vs %s%s = %s)%s\n", desc, r == "n/a" || why != "" ? "n/a" : verdict(ok),
	       fmt(a), unit, fmt(b), unit, r, why
}
# the median of a[st, m, 1..n]
function med(a, st, m, n,    x, i, j, t) {
	for (i = 1; i <= n; i++) x[i] = a[st, m, i] + 0
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
	return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
}

# ns per page of pass 3 alone (a steady pass: nothing left to merge) of
# tree @t in @key's run: its CPU over the pages a pass visits
function pass_ns(key, t,    k, fs, sc) {
	k = key SUBSEP t; fs = v[key, t, "full_scans"]; sc = v[key, t, "pages_scanned"]
	if (!((k, 3) in pass_end) || !((k, 2) in pass_end) || !num(sc) || fs + 0 <= 0)
		return "n/a"
	return (pass_end[k, 3] - pass_end[k, 2]) * 1e9 / (sc / fs)
}

FNR == 1 { for (i = 1; i <= NF; i++) c[FILENAME, $i] = i; next }
FILENAME ~ /results/ {
	key = $c[FILENAME, "preset"] SUBSEP $c[FILENAME, "param"]
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
	t = $c[FILENAME, "tree"]
	if (!((key, t) in have)) { have[key, t] = 1; tree[key, ++ntree[key]] = t }
	for (m in c) {
		split(m, part, SUBSEP)
		if (part[1] == FILENAME) v[key, t, part[2]] = $c[m]
	}
	sc = v[key, t, "pages_scanned"]
	v[key, t, "ns_per_page"] = num(sc) && sc + 0 > 0 ? v[key, t, "cpu_s"] * 1e9 / sc : "n/a"
	next
}
FILENAME ~ /merge/ {
	w4n++
	w4_mib = $c[FILENAME, "param"]; w4_copy = $c[FILENAME, "memcpy_s"]
	w4_merge = $c[FILENAME, "merge_range_s"]; w4_merged = $c[FILENAME, "merged"]
	next
}
FILENAME ~ /fork/ {
	# F1: per state, every round's figures; medians over the rounds at the end
	st = $c[FILENAME, "state"]; f1_mib = $c[FILENAME, "param"]
	fn = ++f1n[st]
	split("total_ns touch_ns fork_ns cow_ns wait_ns munmap_ns cow_p50_ns cow_p99_ns scanner_cpu_ns", f1m, " ")
	split("stopped idle busy", f1st, " ")	# the loaded states, against unloaded
	for (i = 1; i in f1m; i++) f1[st, f1m[i], fn] = $c[FILENAME, f1m[i]]
	next
}
FILENAME ~ /floor/ {
	fl_n++; fl_mib = $c[FILENAME, "param"]
	fl_x = $c[FILENAME, "xxh64_ns"]; fl_m = $c[FILENAME, "memcmp_ns"]
	next
}
# scanner CPU seconds per full pass of tree @t in @key's run, from the end
# of its first pass to the end of its last sampled one ("n/a" under two)
function steady_pass_s(key, t,    k, last) {
	k = key SUBSEP t; last = last_fs[k]
	if (last < 2 || !((k, 1) in pass_end)) return "n/a"
	return (pass_end[k, last] - pass_end[k, 1]) / (last - 1)
}

FILENAME ~ /series/ {
	key = $c[FILENAME, "preset"] SUBSEP $c[FILENAME, "param"] SUBSEP $c[FILENAME, "tree"]
	fs = $c[FILENAME, "full_scans"] + 0
	if (!(key in last_fs)) { last_fs[key] = 0; porder[++np] = key }
	for (p = last_fs[key] + 1; p <= fs; p++) pass_end[key, p] = $c[FILENAME, "cpu_s"]
	if (fs > last_fs[key]) last_fs[key] = fs
	next
}

END {
	nm = split("converged wall_s cpu_s pages_sharing general_profit item_bytes pages_per_cpu_s cow_ns cow_p99_ns thp_before_kib thp_after_kib thp_splits", metric, " ")
	print "| workload | MiB | metric | in-tree KSM | samepage | samepage/KSM |"
	print "|---|---|---|---|---|---|"
	for (k = 1; k <= nk; k++) {
		key = order[k]; split(key, kp, SUBSEP)
		for (i = 1; i <= nm; i++) {
			m = metric[i]; a = v[key, "ksm", m]; b = v[key, "samepage", m]
			if (m ~ /^thp_/ && kp[1] != "G1" && kp[1] != "TS") continue
			r = m == "converged" ? "" : ratio(b, a)
			printf "| %s | %s | %s | %s | %s | %s |\n", kp[1], kp[2], m, fmt(a), fmt(b), r
			if (ratios != "" && m != "converged")
				printf "%s,%s,%s,%s,%s,%s\n", kp[1], kp[2], m, a, b, r > ratios
		}
	}

	# W3: cost per page scanned against the size of the trees
	for (k = 1; k <= nk; k++) {
		key = order[k]; split(key, kp, SUBSEP)
		if (kp[1] != "W3") continue
		if (!w3n++) {
			print ""
			print "| W3 MiB | stable tree (KSM / samepage pages_shared) | KSM ns per page scanned | samepage ns per page scanned | samepage/KSM |"
			print "|---|---|---|---|---|"
		}
		w3[w3n] = key
		printf "| %s | %s / %s | %s | %s | %s |\n", kp[2], fmt(v[key, "ksm", "pages_shared"]),
		       fmt(v[key, "samepage", "pages_shared"]), fmt(v[key, "ksm", "ns_per_page"]),
		       fmt(v[key, "samepage", "ns_per_page"]),
		       ratio(v[key, "samepage", "ns_per_page"], v[key, "ksm", "ns_per_page"])
		if (ratios != "")
			printf "%s,%s,ns_per_page,%s,%s,%s\n", kp[1], kp[2], v[key, "ksm", "ns_per_page"],
			       v[key, "samepage", "ns_per_page"],
			       ratio(v[key, "samepage", "ns_per_page"], v[key, "ksm", "ns_per_page"]) > ratios
	}
	if (w4n) {
		print ""
		printf "W4: MERGE_RANGE of %s MiB (every page has a twin): %s s, %s pages saved; memcpy of the same %s MiB: %s s; ratio %s\n",
		       w4_mib, fmt(w4_merge), fmt(w4_merged), w4_mib, fmt(w4_copy), ratio(w4_merge, w4_copy)
		if (ratios != "")
			printf "W4,%s,merge_range_vs_memcpy,%s,%s,%s\n", w4_mib, w4_copy, w4_merge,
			       ratio(w4_merge, w4_copy) > ratios
	}

	# TS: memory saved against huge pages kept, per thp_min_mergeable
	for (k = 1; k <= nk; k++) {
		key = order[k]; split(key, kp, SUBSEP)
		if (kp[1] != "TS") continue
		print ""
		printf "TS %s MiB (huge pages with 448, 256, 128, 64, 32, 16, 8, 2 twin subpages in turn): memory saved against huge pages kept\n", kp[2]
		print ""
		print "| tree | thp_min_mergeable | pages_sharing | saved MiB | huge pages before | huge pages kept | THPs split | CPU s | wall s | converged |"
		print "|---|---|---|---|---|---|---|---|---|---|"
		for (j = 1; j <= ntree[key]; j++) {
			t = tree[key, j]
			thr = t == "ksm" ? "(1)" : t ~ /@/ ? substr(t, index(t, "@") + 1) : 64
			saved = v[key, t, "pages_sharing"] * 4096 / 1048576
			hb = v[key, t, "thp_before_kib"] / 2048; ha = v[key, t, "thp_after_kib"] / 2048
			printf "| %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s |\n", t == "ksm" ? "in-tree KSM" : "samepage",
			       thr, fmt(v[key, t, "pages_sharing"]), saved, fmt(hb), fmt(ha),
			       fmt(v[key, t, "thp_splits"]), fmt(v[key, t, "cpu_s"]), fmt(v[key, t, "wall_s"]),
			       v[key, t, "converged"]
			if (ratios != "" && t != "ksm") {
				printf "TS,%s,pages_sharing@%s,%s,%s,%s\n", kp[2], thr, v[key, "ksm", "pages_sharing"],
				       v[key, t, "pages_sharing"], ratio(v[key, t, "pages_sharing"], v[key, "ksm", "pages_sharing"]) > ratios
				printf "TS,%s,huge_kept@%s,%s,%s,\n", kp[2], thr, v[key, "ksm", "thp_after_kib"] / 2048, ha > ratios
			}
		}
	}

	if (f1n["unloaded"]) {
		print ""
		printf "F1: fork/COW/munmap of %s MiB (4 KiB pages) in a process samepage does not track; medians of %d rounds (each the median of its iterations), in us; ratio: against samepage not loaded\n", f1_mib, f1n["unloaded"]
		print ""
		print "| measure | not loaded | loaded, stopped | ratio | loaded, idle | ratio | loaded, busy | ratio |"
		print "|---|---|---|---|---|---|---|---|"
		for (i = 1; i in f1m; i++) {
			m = f1m[i]; u = med(f1, "unloaded", m, f1n["unloaded"])
			printf "| %s", substr(m, 1, length(m) - 3)
			printf " | %s", fmt(u / 1000)
			for (j = 1; j in f1st; j++) {
				st = f1st[j]
				b = f1n[st] ? med(f1, st, m, f1n[st]) : ""
				printf " | %s | %s", fmt(b == "" ? "" : b / 1000), ratio(b, u)
				if (ratios != "")
					printf "F1,%s,%s@%s,%s,%s,%s\n", f1_mib, m, st, u, b, ratio(b, u) > ratios
			}
			print " |"
		}
	}

	# FL: each KSM's CPU per page scanned against the floor of a hash-first
	# scan (one xxh64 and one memcmp of a page), measured in the same VM
	if (fl_n && num(fl_x) && num(fl_m)) {
		fl = fl_x + fl_m
		print ""
		printf "FL, the floor of a hash-first scan in this VM (%s MiB of distinct pages, fastest of 5 passes): one xxh64 of 4 KiB %s ns + one memcmp of 4 KiB %s ns = %s ns per page. Each KSM's CPU per page scanned (to convergence, merging included), how many floors that is, and the same for pass 3 alone (steady: its CPU over the pages of a pass):\n", fl_mib, fmt(fl_x), fmt(fl_m), fmt(fl)
		print ""
		print "| workload | MiB | in-tree KSM ns/page | in floors | samepage ns/page | in floors | pass 3 alone, in floors: KSM / samepage |"
		print "|---|---|---|---|---|---|---|"
		for (k = 1; k <= nk; k++) {
			key = order[k]; split(key, kp, SUBSEP)
			a = v[key, "ksm", "ns_per_page"]; b = v[key, "samepage", "ns_per_page"]
			printf "| %s | %s | %s | %s | %s | %s | %s / %s |\n", kp[1], kp[2], fmt(a),
			       ratio(a, fl), fmt(b), ratio(b, fl), ratio(pass_ns(key, "ksm"), fl),
			       ratio(pass_ns(key, "samepage"), fl)
			if (ratios != "")
				printf "FL,%s@%s,ns_per_page_vs_floor,%s,%s,%s\n", kp[1], kp[2],
				       ratio(a, fl), ratio(b, fl), ratio(b, fl) > ratios
		}
	}

	if (np) {
		print ""
		print "Scanner CPU seconds per full pass (at the first sample after the pass ended):"
		print ""
		print "| workload | MiB | KSM | pass 1 | pass 2 | pass 3 | pass 4 |"
		print "|---|---|---|---|---|---|---|"
		for (k = 1; k <= np; k++) {
			key = porder[k]; split(key, kp, SUBSEP)
			printf "| %s | %s | %s", kp[1], kp[2], kp[3] == "ksm" ? "in-tree" : kp[3]
			for (p = 1; p <= 4; p++) {
				cell = "n/a"
				if ((key, p) in pass_end)
					cell = sprintf("%.2f", pass_end[key, p] - (p > 1 ? pass_end[key, p - 1] : 0))
				printf " | %s", cell
			}
			print " |"
		}
	}

	print ""
	print "Targets (set for 6.12; figures are samepage/KSM unless said):"
	for (k = 1; k <= nk; k++) {
		key = order[k]; split(key, kp, SUBSEP)
		conv = v[key, "ksm", "converged"] == 1 && v[key, "samepage", "converged"] == 1
		rc = ratio(v[key, "samepage", "cpu_s"], v[key, "ksm", "cpu_s"])
		rs = ratio(v[key, "samepage", "pages_sharing"], v[key, "ksm", "pages_sharing"])
		why = conv ? "" : " (a run did not converge)"
		if (kp[1] == "W1") {
			target("W1 CPU to converge <= 0.5x ksmd", rc, rc + 0 <= 0.5,
			       v[key, "samepage", "cpu_s"], v[key, "ksm", "cpu_s"], " s", why)
			target("W1 pages_sharing >= 99.5% of ksmd's", rs, rs + 0 >= 0.995,
			       v[key, "samepage", "pages_sharing"], v[key, "ksm", "pages_sharing"], "", why)
		} else if (kp[1] == "G1") {
			target(kp[1] " pages_sharing >= 99.5% of ksmd's (thp_min_mergeable 64)", rs,
			       rs + 0 >= 0.995, v[key, "samepage", "pages_sharing"],
			       v[key, "ksm", "pages_sharing"], "", why)
		} else if (kp[1] == "W1d") {
			rw = ratio(v[key, "samepage", "wall_s"], v[key, "ksm", "wall_s"])
			target("W1d (in-tree's default knobs) CPU to converge <= 0.5x ksmd", rc, rc + 0 <= 0.5,
			       v[key, "samepage", "cpu_s"], v[key, "ksm", "cpu_s"], " s", why)
			target("W1d (in-tree's default knobs) wall to converge <= 0.5x ksmd", rw, rw + 0 <= 0.5,
			       v[key, "samepage", "wall_s"], v[key, "ksm", "wall_s"], " s", why)
		} else if (kp[1] == "SP") {
			# sparse: the touched pages merge as soon as in-tree's, and
			# a pass over the empty reservation costs no more CPU
			dw = num(v[key, "samepage", "wall_s"]) && num(v[key, "ksm", "wall_s"]) ? \
			     v[key, "samepage", "wall_s"] - v[key, "ksm", "wall_s"] : "n/a"
			printf "  SP %s GiB reserved (in-tree's default knobs) wall to merge <= in-tree's + 1 s: %s (%s s vs %s s)%s\n",
			       kp[2], dw == "n/a" || !conv ? "n/a" : verdict(dw + 0 <= 1),
			       fmt(v[key, "samepage", "wall_s"]), fmt(v[key, "ksm", "wall_s"]), why
			ps = steady_pass_s(key, "samepage"); pk = steady_pass_s(key, "ksm")
			rp = ratio(ps, pk)
			# passes too cheap to tell apart (under 0.1 ms both) hold
			cheap = num(ps) && num(pk) && ps + 0 < 0.0001 && pk + 0 < 0.0001
			printf "  SP %s GiB reserved: CPU per full pass after the first <= in-tree's: %s (%s s vs %s s = %s)%s\n",
			       kp[2], cheap ? verdict(1) : rp == "n/a" || !conv ? "n/a" : verdict(rp + 0 <= 1),
			       fmt(ps), fmt(pk), rp, why
			if (ratios != "")
				printf "SP,%s,cpu_per_pass,%s,%s,%s\n", kp[2], fmt(pk), fmt(ps), rp > ratios
		} else if (kp[1] == "Q1") {
			# the clone storm: half the scanner CPU, a quarter of the
			# wall time to settle, the same memory saved
			rw = ratio(v[key, "samepage", "wall_s"], v[key, "ksm", "wall_s"])
			target("Q1 (" kp[2] " MiB of guests) scanner CPU to settle <= 0.25x ksmd", rc,
			       rc + 0 <= 0.25, v[key, "samepage", "cpu_s"], v[key, "ksm", "cpu_s"], " s", why)
			target("Q1 wall to settle <= 0.5x ksmd", rw, rw + 0 <= 0.5,
			       v[key, "samepage", "wall_s"], v[key, "ksm", "wall_s"], " s", why)
			target("Q1 pages_sharing >= 99.5% of ksmd's", rs, rs + 0 >= 0.995,
			       v[key, "samepage", "pages_sharing"], v[key, "ksm", "pages_sharing"], "", why)
		} else if (kp[1] == "W2") {
			target("W2 CPU to converge <= 0.2x ksmd", rc, rc + 0 <= 0.2,
			       v[key, "samepage", "cpu_s"], v[key, "ksm", "cpu_s"], " s", why)
		}
	}
	if (w3n >= 2) {
		lo = w3[1]; hi = w3[w3n]; split(lo, lp, SUBSEP); split(hi, hp, SUBSEP)
		gs = ratio(v[hi, "samepage", "ns_per_page"], v[lo, "samepage", "ns_per_page"])
		gk = ratio(v[hi, "ksm", "ns_per_page"], v[lo, "ksm", "ns_per_page"])
		printf "  W3 samepage CPU per page scanned grows <= 1.3x from %s to %s MiB: %s (%s -> %s ns = %s; ksmd: %s -> %s ns = %s)\n",
		       lp[2], hp[2], gs == "n/a" ? "n/a" : verdict(gs + 0 <= 1.3),
		       fmt(v[lo, "samepage", "ns_per_page"]), fmt(v[hi, "samepage", "ns_per_page"]), gs,
		       fmt(v[lo, "ksm", "ns_per_page"]), fmt(v[hi, "ksm", "ns_per_page"]), gk
		if (ratios != "")
			printf "W3,%s-%s,ns_per_page_growth,%s,%s,\n", lp[2], hp[2], gk, gs > ratios
	}
	if (f1n["unloaded"]) {
		for (j = 1; j in f1st; j++) {
			st = f1st[j]
			r = f1n[st] ? ratio(med(f1, st, "total_ns", f1n[st]), med(f1, "unloaded", "total_ns", f1n["unloaded"])) : "n/a"
			printf "  F1 fork+touch/COW/munmap of an untracked process, samepage loaded (%s) <= 1.02x not loaded: %s (%s)\n",
			       st, r == "n/a" ? "n/a" : verdict(r + 0 <= 1.02), r
		}
	}
	if (w4n) {
		r = ratio(w4_merge, w4_copy)
		printf "  W4 MERGE_RANGE <= 3x memcpy: %s (%s s vs %s s = %s)\n",
		       r == "n/a" ? "n/a" : verdict(r + 0 <= 3), fmt(w4_merge), fmt(w4_copy), r
	}
}

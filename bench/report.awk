# SPDX-License-Identifier: GPL-2.0
#
# The report of scripts/bench, from its CSV files:
#   awk -F, -v ratios=RATIOS.csv -f bench/report.awk results.csv merge.csv series.csv
# prints a Markdown table (per workload and metric: in-tree KSM, samepage,
# samepage/KSM), the W3 scaling table, the W4 line, the scanner CPU spent in
# each of the first passes (from the samples: pass 1 hashes every page,
# pass 2 does most of the merging, later ones are steady), then the targets, each
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

FNR == 1 { for (i = 1; i <= NF; i++) c[FILENAME, $i] = i; next }
FILENAME ~ /results/ {
	key = $c[FILENAME, "preset"] SUBSEP $c[FILENAME, "param"]
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
	t = $c[FILENAME, "tree"]
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
FILENAME ~ /series/ {
	key = $c[FILENAME, "preset"] SUBSEP $c[FILENAME, "param"] SUBSEP $c[FILENAME, "tree"]
	fs = $c[FILENAME, "full_scans"] + 0
	if (!(key in last_fs)) { last_fs[key] = 0; porder[++np] = key }
	for (p = last_fs[key] + 1; p <= fs; p++) pass_end[key, p] = $c[FILENAME, "cpu_s"]
	if (fs > last_fs[key]) last_fs[key] = fs
	next
}

END {
	nm = split("converged wall_s cpu_s pages_sharing general_profit pages_per_cpu_s cow_ns", metric, " ")
	print "| workload | MiB | metric | in-tree KSM | samepage | samepage/KSM |"
	print "|---|---|---|---|---|---|"
	for (k = 1; k <= nk; k++) {
		key = order[k]; split(key, kp, SUBSEP)
		for (i = 1; i <= nm; i++) {
			m = metric[i]; a = v[key, "ksm", m]; b = v[key, "samepage", m]
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
			printf "  W1 CPU to converge <= 0.5x ksmd: %s (%s s vs %s s = %s)%s\n",
			       rc == "n/a" || !conv ? "n/a" : verdict(rc + 0 <= 0.5),
			       fmt(v[key, "samepage", "cpu_s"]), fmt(v[key, "ksm", "cpu_s"]), rc, why
			printf "  W1 pages_sharing >= 99.5%% of ksmd's: %s (%s vs %s = %s)%s\n",
			       rs == "n/a" || !conv ? "n/a" : verdict(rs + 0 >= 0.995),
			       fmt(v[key, "samepage", "pages_sharing"]), fmt(v[key, "ksm", "pages_sharing"]), rs, why
		} else if (kp[1] == "W2") {
			printf "  W2 CPU to converge <= 0.2x ksmd: %s (%s s vs %s s = %s)%s\n",
			       rc == "n/a" || !conv ? "n/a" : verdict(rc + 0 <= 0.2),
			       fmt(v[key, "samepage", "cpu_s"]), fmt(v[key, "ksm", "cpu_s"]), rc, why
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
	if (w4n) {
		r = ratio(w4_merge, w4_copy)
		printf "  W4 MERGE_RANGE <= 3x memcpy: %s (%s s vs %s s = %s)\n",
		       r == "n/a" ? "n/a" : verdict(r + 0 <= 3), fmt(w4_merge), fmt(w4_copy), r
	}
}

# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench --repeat N: every ratio of N runs, as the median and spread.
#   awk -F, -v csv=OUT.csv -f bench/repeat.awk run-1/ratios.csv run-2/ratios.csv ...
# Each input line is preset,param,metric,ksm,samepage,ratio (report.awk's
# RATIOS.csv). Prints a Markdown table: per workload and metric the number of
# runs, the medians of the in-tree and samepage figures, and of the ratio its
# median, minimum, maximum and spread ((max - min) / median); writes the same
# as CSV to CSV (preset,param,metric,n,ksm_median,samepage_median,
# ratio_median,ratio_min,ratio_max,ratio_spread).

function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
function fmt(v,    x) {
	if (!num(v)) return "n/a"
	x = v + 0
	if (x == int(x) || x >= 1000 || x <= -1000) return sprintf("%.0f", x)
	return sprintf("%.3g", x)
}
# the median of the n values of a[k, 1..n] that are numbers ("" if none)
function median(a, k, n,    v, m, i, j, t) {
	m = 0
	for (i = 1; i <= n; i++)
		if (num(a[k, i])) v[++m] = a[k, i] + 0
	if (!m) return ""
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	lo = v[1]; hi = v[m]
	return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}

{
	key = $1 SUBSEP $2 SUBSEP $3
	if (!(key in n)) order[++nk] = key
	i = ++n[key]
	ksm[key, i] = $4; sp[key, i] = $5; r[key, i] = $6
}

END {
	print "| workload | MiB | metric | runs | in-tree KSM (median) | samepage (median) | samepage/KSM median | min | max | spread |"
	print "|---|---|---|---|---|---|---|---|---|---|"
	for (k = 1; k <= nk; k++) {
		key = order[k]; split(key, kp, SUBSEP)
		mk = median(ksm, key, n[key]); ms = median(sp, key, n[key])
		lo = hi = ""
		mr = median(r, key, n[key])
		sr = num(mr) && mr + 0 != 0 ? sprintf("%.3f", (hi - lo) / mr) : ""
		printf "| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", kp[1], kp[2], kp[3], n[key],
		       fmt(mk), fmt(ms), num(mr) ? sprintf("%.3f", mr) : "n/a",
		       num(mr) ? sprintf("%.3f", lo) : "n/a", num(mr) ? sprintf("%.3f", hi) : "n/a",
		       num(sr) ? sprintf("%.0f%%", sr * 100) : "n/a"
		if (csv != "")
			printf "%s,%s,%s,%d,%s,%s,%s,%s,%s,%s\n", kp[1], kp[2], kp[3], n[key], mk, ms, mr,
			       num(mr) ? lo : "", num(mr) ? hi : "", sr > csv
	}
}

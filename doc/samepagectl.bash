# bash completion for samepagectl
_samepagectl()
{
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	local commands="status set run register unregister merge stat explain list top unmerge wait metrics apply-config version"

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$commands --help" -- "$cur"))
		return
	fi
	case $cmd in
	set)
		local knobs
		knobs=$(ls /sys/kernel/mm/samepage 2>/dev/null | sed 's/$/=/')
		compopt -o nospace 2>/dev/null
		COMPREPLY=($(compgen -W "$knobs" -- "$cur"))
		;;
	run)
		COMPREPLY=($(compgen -c -- "$cur"))
		;;
	register|unregister|merge|stat|explain)
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "$(ls /proc | grep -E '^[0-9]+$')" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--range --json --help" -- "$cur"))
		fi
		;;
	top)
		COMPREPLY=($(compgen -W "--iterations --interval --help" -- "$cur"))
		;;
	wait)
		COMPREPLY=($(compgen -W "--converged --passes --pages --timeout --help" -- "$cur"))
		;;
	metrics)
		[ "$prev" = --output ] && { COMPREPLY=($(compgen -f -- "$cur")); return; }
		COMPREPLY=($(compgen -W "--output --help" -- "$cur"))
		;;
	apply-config)
		COMPREPLY=($(compgen -f -W "--check --help" -- "$cur"))
		;;
	*)
		COMPREPLY=($(compgen -W "--json --help" -- "$cur"))
		;;
	esac
}
complete -F _samepagectl samepagectl

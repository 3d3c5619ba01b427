#!/bin/sh
# gua-epilog.sh: a Slurm job's GPU summary at its end, from gua's database:
# its GPU-hours, the share of them idle-held (GPUs its processes held
# while they sat unused), the memory held idle (GiB-hours) and the
# processes that held GPUs idle. For slurm.conf's Epilog= (see README.md
# beside it); it reads the database, never writes it.
#
# It must never fail or hold up a job: every step is bounded in time
# (GUA_EPILOG_TIMEOUT seconds each, with timeout(1) where there is one),
# and it exits 0 whatever happens.
#
# Settings, from the environment (or edit the defaults here):
#   GUA                 the gua binary (gua, on PATH)
#   GUA_DB              the collector's database (gua's default when empty)
#   GUA_EPILOG_DIR      also write the summary to DIR/job-ID.txt, for a
#                       Epilog= whose output slurmd discards (empty: no)
#   GUA_EPILOG_TIMEOUT  seconds each of scontrol and gua may take (30)
#   GUA_EPILOG_FALLBACK the window when the job's start is unknown (7d):
#                       the report counts only the job's processes, so a
#                       longer window is slower, never wrong
# From Slurm: SLURM_JOB_ID; the job's start from SLURM_JOB_START_TIME
# (seconds since the epoch) when the environment has it, else from
# StartTime in "scontrol show job", else GUA_EPILOG_FALLBACK.

umask 027
# slurmd runs an Epilog with no search path.
PATH=${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
GUA=${GUA:-gua}
GUA_DB=${GUA_DB:-}
GUA_EPILOG_DIR=${GUA_EPILOG_DIR:-}
GUA_EPILOG_TIMEOUT=${GUA_EPILOG_TIMEOUT:-30}
GUA_EPILOG_FALLBACK=${GUA_EPILOG_FALLBACK:-7d}

# bounded CMD...: CMD, ended after GUA_EPILOG_TIMEOUT seconds.
bounded() {
	if command -v timeout >/dev/null 2>&1; then
		timeout -k 2 "$GUA_EPILOG_TIMEOUT" "$@"
	else
		"$@"
	fi
}

# job_start: the job's start as an RFC 3339 UTC time, or nothing.
job_start() {
	case ${SLURM_JOB_START_TIME:-} in
	'' | *[!0-9]*) ;;
	*)
		date -u -d "@$SLURM_JOB_START_TIME" +%Y-%m-%dT%H:%M:%SZ \
		    2>/dev/null && return
		;;
	esac
	command -v scontrol >/dev/null 2>&1 || return
	# StartTime=2026-12-03T09:00:00, in the cluster's local time.
	_st=$(bounded scontrol -o show job "$SLURM_JOB_ID" 2>/dev/null |
	    tr ' ' '\n' | sed -n 's/^StartTime=//p' | head -n 1)
	case $_st in
	[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9])
		date -u -d "$_st" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null
		;;
	esac
}

# CSV on stdin (RFC 4180, one record a CRLF line: gua escapes line breaks)
# to tab-separated fields, with any control character left as '?'.
csv_tsv() {
	awk '{
		sub(/\r$/, "")
		out = ""; f = ""; q = 0; n = length($0)
		for (i = 1; i <= n; i++) {
			c = substr($0, i, 1)
			if (q) {
				if (c != "\"")
					f = f c
				else if (substr($0, i + 1, 1) == "\"") {
					f = f c
					i++
				} else
					q = 0
			} else if (c == "\"")
				q = 1
			else if (c == ",") {
				gsub(/[[:cntrl:]]/, "?", f)
				out = out f "\t"
				f = ""
			} else
				f = f c
		}
		gsub(/[[:cntrl:]]/, "?", f)
		print out f
	}'
}

summary() {
	_start=$(job_start)
	if [ -n "$_start" ]; then
		_since=$_start
		_when="since $_start"
	else
		_since=$GUA_EPILOG_FALLBACK
		_when="over the last $GUA_EPILOG_FALLBACK (the job's start is unknown)"
	fi
	set -- --job "$SLURM_JOB_ID" --since "$_since" --by job --top 0 \
	    --format csv
	[ -n "$GUA_DB" ] && set -- --db "$GUA_DB" "$@"
	_ids=$(bounded "$GUA" report "$@" --table identities 2>&1) || {
		echo "gua: no GPU summary for job $SLURM_JOB_ID: $(printf '%s' \
		    "$_ids" | head -n 1 | tr -d '[:cntrl:]')"
		return
	}
	_sessions=$(bounded "$GUA" report "$@" --table sessions 2>/dev/null)
	printf '%s\n' "$_ids" | csv_tsv | awk -F '\t' -v job="$SLURM_JOB_ID" \
	    -v when="$_when" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		{
			host = $col["host"]
			gh += $col["gpu_hours"]
			ih += $col["idle_held_gpu_hours"]
			gib += $col["idle_held_gib_hours"]
			n += $col["sessions"]
		}
		END {
			printf "gua: GPU summary of Slurm job %s", job
			if (host != "")
				printf " on %s", host
			printf ", %s\n", when
			if (n == 0) {
				print "  no process of the job held a GPU"
				exit
			}
			printf "  GPU-hours        %.2f (%d process-GPU pairs)\n", gh, n
			printf "  idle-held        %.1f%% (%.2f GPU-hours held and unused)\n",
			    (gh > 0 ? 100 * ih / gh : 0), ih
			printf "  idle memory      %.2f GiB-hours held while idle\n", gib
		}'
	printf '%s\n' "$_sessions" | csv_tsv | awk -F '\t' '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["idle_held_seconds"] + 0 > 0 {
			if (!said++)
				print "  idle-held processes:"
			s = $col["idle_held_seconds"] + 0
			printf "    pid %s %s on %s: idle-held %d:%02d:%02d, peak %s MiB, %.2f GiB-hours\n",
			    $col["pid"], $col["command"], $col["gpu_label"],
			    s / 3600, s % 3600 / 60, s % 60,
			    $col["peak_memory_mib"], $col["idle_held_gib_hours"]
		}'
}

main() {
	case ${SLURM_JOB_ID:-} in
	'' | *[!0-9]*)
		echo "gua: no GPU summary: SLURM_JOB_ID is not a job number"
		return
		;;
	esac
	_out=$(summary 2>&1)
	printf '%s\n' "$_out"
	if [ -n "$GUA_EPILOG_DIR" ] && [ -d "$GUA_EPILOG_DIR" ]; then
		printf '%s\n' "$_out" >"$GUA_EPILOG_DIR/job-$SLURM_JOB_ID.txt" \
		    2>/dev/null
	fi
}

main
exit 0

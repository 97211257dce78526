# Shared helpers of the bench/ scripts (sourced, not run).
#
#   bench_image PATH        the 4 GiB qcow2 with 1.5 GiB of data every benchmark uses, built once
#   measure LOG CMD...      runs CMD under /usr/bin/time -v; sets WALL (s), RSS (KiB), CPU (s user+sys)
#   median / maxof / ratio  small numeric helpers
#   bench_require_time      installs GNU time when /usr/bin/time is missing

# Other benchmarks' work directories: a built image there is copied instead of built again.
BENCH_IMAGE_DIRS=(/var/tmp/coldcopy-bench /var/tmp/coldcopy-bench-repo /var/tmp/coldcopy-bench-run)

bench_require_time() {
  if [ ! -x /usr/bin/time ]; then
    echo "bench: installing GNU time for peak RSS" >&2
    apt-get install -y -q time >/dev/null
  fi
}

# The benchmark disk: 4 GiB virtual, 32 pieces of 32 MiB random bytes every 128 MiB and 16 pieces of
# 32 MiB text 64 MiB after them, a few MiB of jitter so nothing lines up (1.5 GiB of data in all).
bench_image() {
  local image=$1 dir
  [ -f "$image" ] && return 0
  for dir in "${BENCH_IMAGE_DIRS[@]}"; do
    if [ -f "$dir/bench.qcow2" ] && [ "$dir/bench.qcow2" != "$image" ]; then
      echo "bench: copying $dir/bench.qcow2 to $image" >&2
      cp --sparse=always "$dir/bench.qcow2" "$image.tmp" && mv "$image.tmp" "$image"
      return 0
    fi
  done
  echo "bench: building $image (once) ..." >&2
  local raw=$image.raw text=$image.text i
  rm -f "$raw"
  truncate -s 4G "$raw"
  # head closes the pipe early: seq's SIGPIPE is expected
  { seq -f 'line %08g: the quick brown fox jumps over the lazy dog, backups of stopped VMs' 1 1000000 || true; } \
    | head -c $((32 << 20)) > "$text"
  for i in $(seq 0 31); do
    dd if=/dev/urandom of="$raw" bs=1M count=32 seek=$((i * 128 + i % 5)) conv=notrunc status=none
  done
  for i in $(seq 0 15); do
    dd if="$text" of="$raw" bs=1M count=32 seek=$((i * 256 + 64 + i % 3)) conv=notrunc status=none
  done
  qemu-img convert -f raw -O qcow2 "$raw" "$image.tmp"
  mv "$image.tmp" "$image"
  rm -f "$raw" "$text"
}

# measure LOG CMD... : the whole process tree of CMD timed by GNU time. CMD's output goes to LOG
# (GNU time's report is appended to it); a failing CMD stops the benchmark with LOG's tail.
measure() {
  local log=$1 tf
  shift
  tf=$(mktemp "${TMPDIR:-/tmp}/bench-time.XXXXXX")
  if ! /usr/bin/time -v -o "$tf" "$@" > "$log" 2>&1; then
    echo "bench: failed: $*" >&2
    tail -20 "$log" >&2
    cat "$tf" >> "$log"
    rm -f "$tf"
    return 1
  fi
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tf" \
    | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
  CPU=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$tf")
  { echo "--- /usr/bin/time -v"; cat "$tf"; } >> "$log"
  rm -f "$tf"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

# bench/gobench.sh — the Go benchmarks of the hot paths (ReportAllocs), run
# once each and recorded: packet crafting and decoding, and any other
# package's benchmarks named in GOBENCH (a go test -bench pattern per
# package: "./packet=SerializeSYN|Decode ./geo=." ).
GOBENCH=${GOBENCH:-"./packet=SerializeSYN|BenchmarkDecode\$|DecodeTCPDump"}
out=""
for spec in $GOBENCH; do
  pkg=${spec%%=*}
  pat=${spec#*=}
  res=$(cd "$ROOT" && "$GO" test -run '^$' -bench "$pat" -benchmem "$pkg" | grep '^Benchmark' || true)
  echo "$res"
  out+="$(echo "$res" | awk -v p="$pkg" '{printf "| %s | %s | %s %s | %s %s | %s %s |\n", p, $1, $3, $4, $5, $6, $7, $8}')"$'\n'
done
record "| package | benchmark | time | memory | allocations |
|---|---|---|---|---|
$out"

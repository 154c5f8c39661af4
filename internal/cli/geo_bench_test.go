package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
)

// BenchmarkGeoBulk runs "sonde geo --json" over the lines of
// $SONDE_GEO_BENCH_INPUT with $SONDE_GEO_BENCH_DB (default: embedded).
func BenchmarkGeoBulk(b *testing.B) {
	in := os.Getenv("SONDE_GEO_BENCH_INPUT")
	if in == "" {
		b.Skip("set SONDE_GEO_BENCH_INPUT to a file of addresses")
	}
	data, err := os.ReadFile(in)
	if err != nil {
		b.Fatal(err)
	}
	db := os.Getenv("SONDE_GEO_BENCH_DB")
	if db == "" {
		db = "embedded"
	}
	b.ReportAllocs()
	for b.Loop() {
		var errb bytes.Buffer
		if code := Main(context.Background(), []string{"geo", "--json", "--db", db}, bytes.NewReader(data), io.Discard, &errb); code != 0 {
			b.Fatal(code, errb.String())
		}
	}
}

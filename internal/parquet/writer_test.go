package parquet_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pqgo "github.com/parquet-go/parquet-go"

	"sonde/internal/parquet"
)

// row is the test schema, as parquet-go (the reference reader) sees it.
type row struct {
	A  int32     `parquet:"a"`
	B  int64     `parquet:"b"`
	S  string    `parquet:"s"`
	T  time.Time `parquet:"t,timestamp(nanosecond)"`
	OS *string   `parquet:"os,optional"`
	OA *int32    `parquet:"oa,optional"`
	OB *int64    `parquet:"ob,optional"`
}

var schema = []parquet.Column{
	{Name: "a", Type: parquet.Int32},
	{Name: "b", Type: parquet.Int64},
	{Name: "s", Type: parquet.String, Dictionary: true},
	{Name: "t", Type: parquet.Timestamp},
	{Name: "os", Type: parquet.String, Optional: true, Dictionary: true},
	{Name: "oa", Type: parquet.Int32, Optional: true},
	{Name: "ob", Type: parquet.Int64, Optional: true},
}

func writeRows(t testing.TB, rows []row, cfg *parquet.Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, "row", schema, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		w.Int32(r.A)
		w.Int64(r.B)
		w.String(r.S)
		w.Time(r.T)
		if r.OS != nil {
			w.String(*r.OS)
		} else {
			w.Null()
		}
		if r.OA != nil {
			w.Int32(*r.OA)
		} else {
			w.Null()
		}
		if r.OB != nil {
			w.Int64(*r.OB)
		} else {
			w.Null()
		}
		if err := w.EndRow(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != int64(len(rows)) {
		t.Fatalf("Rows() = %d, want %d", w.Rows(), len(rows))
	}
	return buf.Bytes()
}

// readRows reads a file back with parquet-go.
func readRows(t testing.TB, data []byte) (*pqgo.File, []row) {
	t.Helper()
	f, err := pqgo.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go cannot open the file: %v", err)
	}
	r := pqgo.NewGenericReader[row](bytes.NewReader(data))
	defer r.Close()
	got := make([]row, f.NumRows()+1)
	n, err := r.Read(got)
	if err != nil && err != io.EOF {
		t.Fatalf("parquet-go cannot read the rows: %v", err)
	}
	return f, got[:n]
}

// randomRows makes n rows; nulls come in runs of random length, so that
// the definition levels take both forms of their encoding.
func randomRows(rng *rand.Rand, n int) []row {
	rows := make([]row, n)
	nullRun := [3]int{}
	for i := range rows {
		r := &rows[i]
		r.A = int32(rng.Uint32())
		r.B = int64(rng.Uint64())
		r.S = strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(20))
		r.T = time.Unix(0, rng.Int64N(1<<62)-1<<61).UTC()
		for j := range nullRun {
			if nullRun[j] == 0 {
				nullRun[j] = 1 + rng.IntN(20)
				if rng.IntN(2) == 0 {
					nullRun[j] = -nullRun[j]
				}
			}
			null := nullRun[j] < 0
			if null {
				nullRun[j]++
			} else {
				nullRun[j]--
			}
			if rng.IntN(4) == 0 {
				null = rng.IntN(2) == 0 // break runs up
			}
			if null {
				continue
			}
			switch j {
			case 0:
				s := string(rune('A' + rng.IntN(26)))
				r.OS = &s
			case 1:
				v := int32(rng.Uint32())
				r.OA = &v
			case 2:
				v := int64(rng.Uint64())
				r.OB = &v
			}
		}
	}
	return rows
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		rows int
		cfg  *parquet.Config
	}{
		{"empty", 0, nil},
		{"one", 1, nil},
		{"defaults", 3000, nil},
		{"small groups and pages", 3000, &parquet.Config{RowGroupRows: 77, PageBytes: 100}},
		{"group of one row", 20, &parquet.Config{RowGroupRows: 1}},
		{"snappy", 3000, &parquet.Config{Codec: parquet.Snappy}},
		{"snappy, small groups and pages", 3000, &parquet.Config{RowGroupRows: 77, PageBytes: 100, Codec: parquet.Snappy}},
		{"snappy, large pages", 200000, &parquet.Config{Codec: parquet.Snappy, RowGroupRows: 150000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := randomRows(rng, tc.rows)
			f, got := readRows(t, writeRows(t, rows, tc.cfg))
			if diff := cmp.Diff(rows, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("rows read back differ (-written +read):\n%s", diff)
			}
			if want, got := pqgo.SchemaOf(row{}).String(), f.Schema().String(); got != want {
				t.Errorf("schema:\n%s\nwant (parquet-go's for the same struct):\n%s", got, want)
			}
			checkStats(t, f, rows)
		})
	}
}

// checkStats compares each column chunk's statistics, as parquet-go
// decodes them, with the rows it holds.
func checkStats(t *testing.T, f *pqgo.File, rows []row) {
	t.Helper()
	start := 0
	for gi, g := range f.Metadata().RowGroups {
		part := rows[start : start+int(g.NumRows)]
		start += int(g.NumRows)
		for ci, cc := range g.Columns {
			var vals [][]byte
			for _, r := range part {
				if v := plainOf(r, ci); v != nil {
					vals = append(vals, v)
				}
			}
			md := cc.MetaData
			name := md.PathInSchema[0]
			if md.NumValues != int64(len(part)) || md.Statistics.NullCount != int64(len(part)-len(vals)) {
				t.Errorf("group %d column %s: %d values, %d nulls; want %d, %d", gi, name, md.NumValues, md.Statistics.NullCount, len(part), len(part)-len(vals))
			}
			if len(vals) == 0 {
				if md.Statistics.MinValue != nil || md.Statistics.MaxValue != nil {
					t.Errorf("group %d column %s: bounds without values", gi, name)
				}
				continue
			}
			less := func(a, b []byte) bool { return string(a) < string(b) }
			switch ci {
			case 0, 5:
				less = func(a, b []byte) bool {
					return int32(binary.LittleEndian.Uint32(a)) < int32(binary.LittleEndian.Uint32(b))
				}
			case 1, 3, 6:
				less = func(a, b []byte) bool {
					return int64(binary.LittleEndian.Uint64(a)) < int64(binary.LittleEndian.Uint64(b))
				}
			}
			lo, hi := vals[0], vals[0]
			for _, v := range vals[1:] {
				if less(v, lo) {
					lo = v
				}
				if less(hi, v) {
					hi = v
				}
			}
			if !bytes.Equal(md.Statistics.MinValue, lo) || !bytes.Equal(md.Statistics.MaxValue, hi) {
				t.Errorf("group %d column %s: bounds %x..%x, want %x..%x", gi, name, md.Statistics.MinValue, md.Statistics.MaxValue, lo, hi)
			}
		}
	}
}

// plainOf returns column i of r in PLAIN encoding (strings without their
// length), nil for a null.
func plainOf(r row, i int) []byte {
	le := binary.LittleEndian
	switch i {
	case 0:
		return le.AppendUint32(nil, uint32(r.A))
	case 1:
		return le.AppendUint64(nil, uint64(r.B))
	case 2:
		return append([]byte{}, r.S...)
	case 3:
		return le.AppendUint64(nil, uint64(r.T.UnixNano()))
	case 4:
		if r.OS == nil {
			return nil
		}
		return append([]byte{}, *r.OS...)
	case 5:
		if r.OA == nil {
			return nil
		}
		return le.AppendUint32(nil, uint32(*r.OA))
	default:
		if r.OB == nil {
			return nil
		}
		return le.AppendUint64(nil, uint64(*r.OB))
	}
}

func TestWriterErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(w *parquet.Writer) error
	}{
		{"wrong type", func(w *parquet.Writer) error { w.String("x"); return w.EndRow() }},
		{"null in a required column", func(w *parquet.Writer) error { w.Null(); return w.EndRow() }},
		{"too few values", func(w *parquet.Writer) error { w.Int32(1); return w.EndRow() }},
		{"too many values", func(w *parquet.Writer) error {
			w.Int32(1)
			w.Null()
			w.Int32(2)
			return w.EndRow()
		}},
		{"row not ended", func(w *parquet.Writer) error { w.Int32(1); return w.Close() }},
		{"time out of range", func(w *parquet.Writer) error {
			w.Int32(1)
			w.Time(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
			return w.EndRow()
		}},
		{"written after close", func(w *parquet.Writer) error {
			if err := w.Close(); err != nil {
				return nil // wrongly: the test wants an error below
			}
			w.Int32(1)
			w.Null()
			return w.EndRow()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := parquet.NewWriter(io.Discard, "r", []parquet.Column{
				{Name: "a", Type: parquet.Int32},
				{Name: "t", Type: parquet.Timestamp, Optional: true},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.write(w)
			if err == nil || !strings.HasPrefix(err.Error(), "parquet: ") {
				t.Errorf("error %v, want one from package parquet", err)
			}
		})
	}
	if _, err := parquet.NewWriter(io.Discard, "r", []parquet.Column{{Name: "a", Type: parquet.Int32}, {Name: "a", Type: parquet.Int64}}, nil); err == nil {
		t.Error("NewWriter accepted two columns of the same name")
	}
	if _, err := parquet.NewWriter(io.Discard, "r", []parquet.Column{{Name: "a", Type: parquet.Int32}}, &parquet.Config{Codec: 9}); err == nil {
		t.Error("NewWriter accepted an unknown codec")
	}
	if _, err := parquet.NewWriter(io.Discard, "r", nil, nil); err == nil {
		t.Error("NewWriter accepted a schema without columns")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.n -= len(b); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

func TestWriteErrorIsReturned(t *testing.T) {
	w, err := parquet.NewWriter(&failWriter{n: 10}, "r", []parquet.Column{{Name: "a", Type: parquet.Int64}}, &parquet.Config{RowGroupRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for i := range 10 {
		w.Int64(int64(i))
		if err := w.EndRow(); err != nil {
			last = err
			break
		}
	}
	if last == nil {
		last = w.Close()
	}
	if last == nil || !strings.Contains(last.Error(), "disk full") {
		t.Errorf("error %v, want the writer's", last)
	}
}

func TestAllocs(t *testing.T) {
	w, err := parquet.NewWriter(io.Discard, "row", schema, &parquet.Config{RowGroupRows: 1 << 20, Codec: parquet.Snappy})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1, 2)
	s := "eth:ip:tcp"
	row := func() {
		w.Int32(1)
		w.Int64(2)
		w.String(s)
		w.Time(ts)
		w.String(s)
		w.Null()
		w.Int64(3)
		if err := w.EndRow(); err != nil {
			t.Fatal(err)
		}
	}
	for range 10000 { // grow the buffers
		row()
	}
	if n := testing.AllocsPerRun(1000, row); n > 0.1 {
		t.Errorf("a row costs %v allocations once the buffers have grown", n)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint16(10), uint16(3), uint16(50))
	f.Add(uint64(7), uint16(700), uint16(64), uint16(0))
	f.Fuzz(func(t *testing.T, seed uint64, n, groupRows, pageBytes uint16) {
		rows := randomRows(rand.New(rand.NewPCG(seed, seed>>1)), int(n%2000))
		data := writeRows(t, rows, &parquet.Config{RowGroupRows: int(groupRows), PageBytes: int(pageBytes), Codec: parquet.Codec(seed % 2)})
		_, got := readRows(t, data)
		if diff := cmp.Diff(rows, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Fatalf("rows read back differ (-written +read):\n%s", diff)
		}
	})
}

func BenchmarkWriter(b *testing.B) {
	rows := randomRows(rand.New(rand.NewPCG(3, 4)), 10000)
	for _, codec := range []struct {
		name string
		c    parquet.Codec
	}{{"uncompressed", parquet.Uncompressed}, {"snappy", parquet.Snappy}} {
		b.Run(codec.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				size = len(writeRows(b, rows, &parquet.Config{Codec: codec.c}))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
			b.ReportMetric(float64(size)/float64(len(rows)), "bytes/row")
		})
	}
}

type strRow struct {
	S string  `parquet:"s"`
	O *string `parquet:"o,optional"`
}

// TestDictionary writes string columns of few to many distinct values
// (index widths of 1 to 18 bits), in runs and not, some pages falling back
// to PLAIN when the dictionary fills, and reads them back with parquet-go.
func TestDictionary(t *testing.T) {
	cols := []parquet.Column{
		{Name: "s", Type: parquet.String, Dictionary: true},
		{Name: "o", Type: parquet.String, Optional: true, Dictionary: true},
	}
	for _, tc := range []struct {
		distinct, run, rows int
		cfg                 *parquet.Config
		wantDict            bool
	}{
		{1, 1, 1000, nil, true},
		{2, 1, 1000, nil, true},
		{3, 20, 5000, nil, true},
		{300, 1, 5000, nil, true},
		{300, 9, 5000, &parquet.Config{Codec: parquet.Snappy}, true},
		{70000, 1, 150000, &parquet.Config{RowGroupRows: 200000, PageBytes: 4 << 20}, true},
		{200000, 1, 200000, &parquet.Config{RowGroupRows: 300000, PageBytes: 8 << 20}, true},
		{5000, 1, 20000, &parquet.Config{PageBytes: 1000}, true}, // the dictionary fills: PLAIN after
		{5000, 3, 20000, &parquet.Config{PageBytes: 1, RowGroupRows: 999}, false},
	} {
		rows := make([]strRow, tc.rows)
		for i := range rows {
			v := strconv.Itoa((i / tc.run * 7919) % tc.distinct)
			rows[i].S = "v" + v
			if i%5 != 0 {
				rows[i].O = &v
			}
		}
		var buf bytes.Buffer
		w, err := parquet.NewWriter(&buf, "strRow", cols, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			w.String(r.S)
			if r.O != nil {
				w.String(*r.O)
			} else {
				w.Null()
			}
			if err := w.EndRow(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		f, err := pqgo.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		r := pqgo.NewGenericReader[strRow](bytes.NewReader(data))
		got := make([]strRow, len(rows)+1)
		n, err := r.Read(got)
		r.Close()
		if err != nil && err != io.EOF {
			t.Fatalf("%+v: %v", tc, err)
		}
		if diff := cmp.Diff(rows, got[:n]); diff != "" {
			t.Errorf("%d distinct, runs of %d: rows read back differ:\n%.2000s", tc.distinct, tc.run, diff)
		}
		md := f.Metadata().RowGroups[0].Columns[0].MetaData
		if hasDict := md.DictionaryPageOffset > 0; hasDict != tc.wantDict {
			t.Errorf("%d distinct, runs of %d: dictionary page %v (encodings %v), want %v", tc.distinct, tc.run, hasDict, md.Encoding, tc.wantDict)
		}
	}
}

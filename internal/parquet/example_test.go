package parquet_test

import (
	"bytes"
	"fmt"
	"time"

	"sonde/internal/parquet"
)

func Example() {
	var buf bytes.Buffer
	w, err := parquet.NewWriter(&buf, "flow", []parquet.Column{
		{Name: "addr", Type: parquet.String},
		{Name: "port", Type: parquet.Int32, Optional: true},
		{Name: "start", Type: parquet.Timestamp},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	w.String("198.18.0.1")
	w.Int32(53)
	w.Time(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	if err := w.EndRow(); err != nil {
		fmt.Println(err)
		return
	}
	w.String("198.18.0.2")
	w.Null() // no port
	w.Time(time.Date(2026, 11, 28, 9, 0, 1, 0, time.UTC))
	if err := w.EndRow(); err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	b := buf.Bytes()
	fmt.Printf("%d rows, %q … %q\n", w.Rows(), b[:4], b[len(b)-4:])
	// Output: 2 rows, "PAR1" … "PAR1"
}

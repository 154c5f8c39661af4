package cli

import (
	"fmt"
	"strconv"
	"time"
)

// secondsFlag is a duration flag that also takes a bare number of seconds,
// as ping and traceroute users type it ("-i 0.2", "-W 1"), besides Go's
// durations ("200ms").
type secondsFlag struct{ d *time.Duration }

func (s secondsFlag) String() string {
	if s.d == nil {
		return "0s"
	}
	return s.d.String()
}

func (s secondsFlag) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || f > 1e6 {
			return fmt.Errorf("%s seconds is out of range", v)
		}
		*s.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want seconds (0.2) or a duration (200ms)")
	}
	*s.d = d
	return nil
}

func (s secondsFlag) Type() string { return "seconds" }

package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Trace is a traceroute as `sonde trace --json` writes it: the input of a
// report's path table and of the path drawn on its map.
type Trace struct {
	Dst     netip.Addr `json:"dst"`
	Src     netip.Addr `json:"src"`
	Method  string     `json:"method"` // "udp", "icmp", "tcp"
	Reached bool       `json:"reached"`
	Hops    []Hop      `json:"hops"`
	Sent    int        `json:"sent"`
	Retried int        `json:"retried"`
	// Rounds is the number of rounds of an mtr-style report (sonde trace
	// --report N --json); zero for a single trace.
	Rounds int `json:"rounds,omitempty"`
}

// Hop is one TTL of a Trace and the answers to its probes.
type Hop struct {
	TTL    int     `json:"ttl"`
	Final  bool    `json:"final,omitempty"` // the destination answered
	Probes []Probe `json:"probes"`
	// LossPct is the share of probes lost, in percent, as an mtr-style
	// report gives it (Trace.Rounds > 0); a single trace's loss is counted
	// from Probes.
	LossPct float64 `json:"loss_pct,omitempty"`
}

// mtrHop is one hop of `sonde trace --report N --json`.
type mtrHop struct {
	TTL   int          `json:"ttl"`
	Addrs []netip.Addr `json:"addrs"`
	Loss  float64      `json:"loss_pct"`
	Sent  int          `json:"sent"`
	Best  float64      `json:"best_ms"`
}

// Probe is one probe of a Hop: who answered it and when.
type Probe struct {
	Addr    netip.Addr        `json:"addr"`   // zero: no answer
	RTTms   float64           `json:"rtt_ms"` // round-trip time in milliseconds
	Note    string            `json:"note,omitempty"`
	Retried bool              `json:"retried,omitempty"`
	Info    map[string]string `json:"info,omitempty"` // name, asn, as_org, country, city
}

// Answered reports whether the probe got an answer.
func (p Probe) Answered() bool { return p.Addr.IsValid() }

// Addr returns the address that answered most of the hop's probes (the
// first of them on a tie), and whether any probe was answered.
func (h Hop) Addr() (netip.Addr, bool) {
	var best netip.Addr
	n := 0
	for _, p := range h.Probes {
		if !p.Answered() {
			continue
		}
		c := 0
		for _, q := range h.Probes {
			if q.Addr == p.Addr {
				c++
			}
		}
		if c > n {
			best, n = p.Addr, c
		}
	}
	return best, n > 0
}

// answer returns the hop's address (as Addr) and what its probe's Info
// says of it.
func (h Hop) answer() (netip.Addr, map[string]string, bool) {
	addr, ok := h.Addr()
	if !ok {
		return addr, nil, false
	}
	for _, p := range h.Probes {
		if p.Addr == addr {
			return addr, p.Info, true
		}
	}
	return addr, nil, true
}

// Limits on what the readers accept, so that a hostile file cannot make a
// report grow without bound.
const (
	maxInput      = 64 << 20 // bytes of a trace or scan file
	maxHops       = 255
	maxProbes     = 64 // per hop
	maxScanLine   = 1 << 20
	maxScanPerRun = 1 << 22 // results
	maxPhases     = 16
)

// ReadTrace reads one trace in the JSON form of `sonde trace --json`, or an
// mtr-style report of `sonde trace --report N --json` (each hop's addresses
// with their best round trip and the hop's loss). Anything else (another
// JSON document, an ECMP trace, trailing data, a TTL out of 1–255) is an
// error.
func ReadTrace(r io.Reader) (*Trace, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("report: reading the trace: %w", err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("report: trace larger than %d MiB", maxInput>>20)
	}
	var probe struct {
		Paths  json.RawMessage `json:"paths"`
		Hops   json.RawMessage `json:"hops"`
		Rounds int             `json:"rounds"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("report: the trace is not the JSON of sonde trace --json: %w", jsonError(err))
	}
	if probe.Paths != nil && probe.Hops == nil {
		return nil, errors.New("report: an ECMP trace (sonde trace --ecmp --json) is not supported: give a single trace")
	}
	if probe.Hops == nil {
		return nil, errors.New("report: the trace has no \"hops\": not the JSON of sonde trace --json")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var t Trace
	if probe.Rounds > 0 {
		// An mtr-style report: each hop's addresses, with its best round
		// trip, and its loss.
		var m struct {
			Dst    netip.Addr `json:"dst"`
			Rounds int        `json:"rounds"`
			Hops   []mtrHop   `json:"hops"`
		}
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("report: the trace is not the JSON of sonde trace --report --json: %w", err)
		}
		t = Trace{Dst: m.Dst, Rounds: m.Rounds, Reached: len(m.Hops) > 0}
		for _, h := range m.Hops {
			hop := Hop{TTL: h.TTL, LossPct: h.Loss, Probes: []Probe{}}
			if len(h.Addrs) > maxProbes {
				return nil, fmt.Errorf("report: hop %d has %d addresses, more than %d", h.TTL, len(h.Addrs), maxProbes)
			}
			for _, a := range h.Addrs {
				hop.Probes = append(hop.Probes, Probe{Addr: a, RTTms: h.Best})
			}
			t.Hops = append(t.Hops, hop)
			t.Sent += h.Sent
		}
		if n := len(t.Hops); n > 0 {
			last := t.Hops[n-1]
			a, ok := last.Addr()
			t.Reached = ok && a == t.Dst
			t.Hops[n-1].Final = t.Reached
		}
	} else if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("report: the trace is not the JSON of sonde trace --json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("report: the trace has data after its JSON document")
	}
	if !t.Dst.IsValid() {
		return nil, errors.New("report: the trace has no destination (\"dst\")")
	}
	if len(t.Hops) > maxHops {
		return nil, fmt.Errorf("report: the trace has %d hops, more than %d", len(t.Hops), maxHops)
	}
	for _, h := range t.Hops {
		if h.TTL < 1 || h.TTL > 255 {
			return nil, fmt.Errorf("report: the trace has a hop with TTL %d (want 1 to 255)", h.TTL)
		}
		if len(h.Probes) > maxProbes {
			return nil, fmt.Errorf("report: hop %d has %d probes, more than %d", h.TTL, len(h.Probes), maxProbes)
		}
	}
	return &t, nil
}

// ScanResult is one line of `sonde scan --json`: a port of a host, or a
// host found up or down by discovery.
type ScanResult struct {
	Type    string     `json:"type"` // "port" or "host"
	Addr    netip.Addr `json:"addr"`
	Port    uint16     `json:"port,omitempty"`
	Proto   string     `json:"proto,omitempty"` // "tcp", "udp"
	State   string     `json:"state"`           // "open", "closed", "filtered", "up", ...
	Reason  string     `json:"reason"`
	TTL     uint8      `json:"ttl,omitempty"`
	Service string     `json:"service,omitempty"`
	Product string     `json:"product,omitempty"`
	Version string     `json:"version,omitempty"`
	Info    string     `json:"info,omitempty"`
}

// Scan is what `sonde scan --json` writes: the results, and the statistics
// of each phase of the scan.
type Scan struct {
	Results []ScanResult
	Phases  []ScanPhase
	Elapsed string // as the stats line gives it, e.g. "1.511s"
}

// ScanPhase is the statistics of one phase (scan type) of a scan: its
// probes, and how many ports ended in each state.
type ScanPhase struct {
	Scan     string         `json:"scan"` // "syn", "udp", ...
	Probes   int            `json:"probes"`
	Sent     int            `json:"sent"`
	Retried  int            `json:"retried"`
	Answered int            `json:"answered"`
	Loss     float64        `json:"loss"`
	Coverage float64        `json:"coverage"`
	States   map[string]int `json:"states"`
}

// ReadScan reads the JSON lines of `sonde scan --json`: the "port" and
// "host" results and the "stats" line (other types are skipped). A line
// that is not a JSON object, or a result without an address or state, is an
// error naming its line.
func ReadScan(r io.Reader) (*Scan, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxInput))
	sc.Buffer(make([]byte, 0, 64<<10), maxScanLine)
	out := &Scan{}
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			return nil, fmt.Errorf("report: scan line %d is not a JSON object of sonde scan --json: %w", n, jsonError(err))
		}
		if head.Type == "stats" {
			var st struct {
				Elapsed string      `json:"elapsed"`
				Phases  []ScanPhase `json:"phases"`
			}
			if err := json.Unmarshal(line, &st); err != nil {
				return nil, fmt.Errorf("report: scan line %d: %w", n, err)
			}
			if len(out.Phases)+len(st.Phases) > maxPhases {
				return nil, fmt.Errorf("report: more than %d scan phases", maxPhases)
			}
			out.Elapsed = st.Elapsed
			out.Phases = append(out.Phases, st.Phases...)
			continue
		}
		if head.Type != "port" && head.Type != "host" {
			continue
		}
		var res ScanResult
		if err := json.Unmarshal(line, &res); err != nil {
			return nil, fmt.Errorf("report: scan line %d: %w", n, err)
		}
		if !res.Addr.IsValid() || res.State == "" {
			return nil, fmt.Errorf("report: scan line %d: a %s result without address or state", n, res.Type)
		}
		if res.Type == "port" && (res.Port == 0 || (res.Proto != "tcp" && res.Proto != "udp")) {
			return nil, fmt.Errorf("report: scan line %d: a port result without port or protocol (tcp, udp)", n)
		}
		res.Proto = strings.ToLower(res.Proto)
		if len(out.Results) == maxScanPerRun {
			return nil, fmt.Errorf("report: more than %d scan results", maxScanPerRun)
		}
		out.Results = append(out.Results, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("report: reading the scan: %w", err)
	}
	return out, nil
}

// jsonError says where a syntax error is, rather than quoting the byte
// found there (which, in a binary file given by mistake, is noise).
func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not JSON at byte %d", se.Offset)
	}
	return err
}

package analyze

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Bounds on what application summaries keep, so that hostile traffic cannot
// make them grow without limit.
const (
	maxAnswers   = 8    // answers kept per DNS question
	maxNameLen   = 255  // bytes of a name, host or path kept
	maxAppRows   = 1e5  // distinct rows per summary; later ones are counted in Dropped
	maxALPN      = 8    // protocols kept per ClientHello
	maxHTTPStart = 4096 // bytes of a request or response head examined
)

// DNSQuestion summarises one question (name and type) and what answered it.
type DNSQuestion struct {
	Name      string
	Type      string   // "A", "AAAA", ...
	Queries   uint64   // messages asking it
	Responses uint64   // responses to it
	RCode     string   // response code of the last response ("NoError", "NXDomain", ...)
	Answers   []string // distinct answer data, at most 8
}

// HTTPRequest summarises requests with the same method, host and path.
type HTTPRequest struct {
	Method   string
	Host     string
	Path     string
	Requests uint64
	Status   map[int]uint64 // responses by status code
}

// TLSHello summarises ClientHellos with the same server name and ALPN.
type TLSHello struct {
	ServerName string   // SNI, empty if absent
	ALPN       []string // offered application protocols, in order
	Count      uint64
}

type appStats struct {
	dnsOn, httpOn, tlsOn bool

	dns      layers.DNS
	dnsIndex map[string]int // name + "\x00" + type
	dnsRows  []DNSQuestion
	dnsKey   []byte

	httpIndex   map[string]int // method SP host SP path
	httpRows    []HTTPRequest
	httpPending map[int]int // TCP stream → last request row
	httpKey     []byte

	tlsIndex map[string]int // sni + "\x00" + alpn joined by ","
	tlsRows  []TLSHello
	tlsKey   []byte
	alpn     [][]byte

	dropped uint64
}

func (s *appStats) init(cfg Config) {
	s.dnsOn, s.httpOn, s.tlsOn = cfg.DNS, cfg.HTTP, cfg.TLS
	s.dnsIndex = make(map[string]int)
	s.httpIndex = make(map[string]int)
	s.httpPending = make(map[int]int)
	s.tlsIndex = make(map[string]int)
}

func isHTTPPort(p uint16) bool {
	switch p {
	case 80, 8080, 8000, 3128, 8008, 8088:
		return true
	}
	return false
}

func isTLSPort(p uint16) bool {
	switch p {
	case 443, 8443, 993, 995, 465, 853, 636, 989, 990, 992, 5061:
		return true
	}
	return false
}

var httpMethods = [][]byte{[]byte("GET "), []byte("POST "), []byte("HEAD "), []byte("PUT "), []byte("DELETE "), []byte("OPTIONS "), []byte("CONNECT "), []byte("PATCH "), []byte("TRACE ")}

func isHTTPStart(p []byte) bool {
	if bytes.HasPrefix(p, []byte("HTTP/1.")) {
		return true
	}
	for _, m := range httpMethods {
		if bytes.HasPrefix(p, m) {
			return true
		}
	}
	return false
}

func isTLSRecord(p []byte) bool {
	return len(p) >= 5 && p[0] >= 20 && p[0] <= 23 && p[1] == 3 && p[2] <= 4
}

// classify names the application protocol of a payload for the hierarchy,
// or protoNone for TCP segments that continue a message.
func (s *appStats) classify(fp *flowPacket) proto {
	p := fp.payload
	if fp.sport == 53 || fp.dport == 53 {
		if fp.l4 == UDP && len(p) >= 12 || fp.l4 == TCP && len(p) >= 14 {
			return protoDNS
		}
	}
	if fp.l4 == TCP {
		if isHTTPPort(fp.sport) || isHTTPPort(fp.dport) {
			if isHTTPStart(p) {
				return protoHTTP
			}
			return protoNone
		}
		if isTLSPort(fp.sport) || isTLSPort(fp.dport) {
			if isTLSRecord(p) {
				return protoTLS
			}
			return protoNone
		}
	}
	return protoData
}

func (s *appStats) udpPayload(fp *flowPacket) {
	if s.dnsOn && (fp.sport == 53 || fp.dport == 53) {
		s.dnsMessage(fp.payload)
	}
}

func (s *appStats) tcpPayload(stream int, fromA bool, fp *flowPacket) {
	p := fp.payload
	if s.dnsOn && (fp.sport == 53 || fp.dport == 53) && len(p) > 2 {
		n := int(binary.BigEndian.Uint16(p))
		if n <= len(p)-2 {
			s.dnsMessage(p[2 : 2+n])
		}
	}
	if s.httpOn && isHTTPStart(p) {
		s.httpMessage(stream, p)
	}
	if s.tlsOn && len(p) > 5 && p[0] == 22 && p[5] == 1 {
		s.clientHello(p)
	}
}

func (s *appStats) dnsMessage(p []byte) {
	if err := s.dns.DecodeFromBytes(p, gopacket.NilDecodeFeedback); err != nil || len(s.dns.Questions) == 0 {
		return
	}
	q := s.dns.Questions[0]
	name := q.Name
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	s.dnsKey = append(append(append(s.dnsKey[:0], name...), 0), q.Type.String()...)
	i, ok := s.dnsIndex[string(s.dnsKey)]
	if !ok {
		if len(s.dnsRows) >= maxAppRows {
			s.dropped++
			return
		}
		i = len(s.dnsRows)
		s.dnsIndex[string(s.dnsKey)] = i
		s.dnsRows = append(s.dnsRows, DNSQuestion{Name: string(name), Type: q.Type.String()})
	}
	r := &s.dnsRows[i]
	if !s.dns.QR {
		r.Queries++
		return
	}
	r.Responses++
	r.RCode = s.dns.ResponseCode.String()
	for _, an := range s.dns.Answers {
		var v string
		switch {
		case an.IP != nil:
			v = an.IP.String()
		case len(an.CNAME) > 0:
			v = string(an.CNAME)
		case len(an.PTR) > 0:
			v = string(an.PTR)
		case len(an.NS) > 0:
			v = string(an.NS)
		case len(an.MX.Name) > 0:
			v = string(an.MX.Name)
		default:
			continue
		}
		if len(r.Answers) < maxAnswers && !slices.Contains(r.Answers, v) {
			r.Answers = append(r.Answers, v)
		}
	}
}

func (s *appStats) httpMessage(stream int, p []byte) {
	if len(p) > maxHTTPStart {
		p = p[:maxHTTPStart]
	}
	line, rest, _ := bytes.Cut(p, []byte("\r\n"))
	if bytes.HasPrefix(line, []byte("HTTP/1.")) {
		i, ok := s.httpPending[stream]
		f := bytes.Fields(line)
		if !ok || len(f) < 2 {
			return
		}
		code, err := strconv.Atoi(string(f[1]))
		if err != nil {
			return
		}
		r := &s.httpRows[i]
		if r.Status == nil {
			r.Status = make(map[int]uint64)
		}
		if _, known := r.Status[code]; known || len(r.Status) < 16 {
			r.Status[code]++
		}
		delete(s.httpPending, stream)
		return
	}
	f := bytes.Fields(line)
	if len(f) < 2 {
		return
	}
	method, path := f[0], f[1]
	var host []byte
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		if len(h) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(k, []byte("host")) {
			host = bytes.TrimSpace(v)
		}
	}
	if len(path) > maxNameLen {
		path = path[:maxNameLen]
	}
	if len(host) > maxNameLen {
		host = host[:maxNameLen]
	}
	s.httpKey = append(append(append(append(append(s.httpKey[:0], method...), ' '), host...), ' '), path...)
	i, ok := s.httpIndex[string(s.httpKey)]
	if !ok {
		if len(s.httpRows) >= maxAppRows {
			s.dropped++
			return
		}
		i = len(s.httpRows)
		s.httpIndex[string(s.httpKey)] = i
		s.httpRows = append(s.httpRows, HTTPRequest{Method: string(method), Host: string(host), Path: string(path)})
	}
	s.httpRows[i].Requests++
	s.httpPending[stream] = i
}

// parseClientHello returns the SNI and ALPN of a TLS record holding a
// ClientHello (RFC 8446 4.1.2, RFC 6066 3, RFC 7301 3.1), reading only the
// bytes present. alpn is appended to and returned.
func parseClientHello(p []byte, alpn [][]byte) (sni []byte, _ [][]byte, ok bool) {
	if len(p) < 9 || p[0] != 22 || p[5] != 1 {
		return nil, alpn, false
	}
	b := p[9:] // after record header and handshake type+length
	hsLen := int(p[6])<<16 | int(p[7])<<8 | int(p[8])
	complete := len(b) >= hsLen
	if complete {
		b = b[:hsLen]
	}
	skip := func(n int) bool {
		if n > len(b) {
			return false
		}
		b = b[n:]
		return true
	}
	vec := func(lenBytes int) ([]byte, bool) {
		if len(b) < lenBytes {
			return nil, false
		}
		n := 0
		for i := range lenBytes {
			n = n<<8 | int(b[i])
		}
		b = b[lenBytes:]
		if n > len(b) {
			return nil, false
		}
		v := b[:n]
		b = b[n:]
		return v, true
	}
	if !skip(2 + 32) { // client_version, random
		return nil, alpn, false
	}
	if _, ok := vec(1); !ok { // session id
		return nil, alpn, false
	}
	if _, ok := vec(2); !ok { // cipher suites
		return nil, alpn, false
	}
	if _, ok := vec(1); !ok { // compression methods
		return nil, alpn, false
	}
	if len(b) == 0 && complete {
		return nil, alpn, true // a hello without extensions
	}
	exts, ok := vec(2)
	if !ok {
		return nil, alpn, false
	}
	for len(exts) >= 4 {
		typ := binary.BigEndian.Uint16(exts)
		n := int(binary.BigEndian.Uint16(exts[2:]))
		exts = exts[4:]
		if n > len(exts) {
			break
		}
		body := exts[:n]
		exts = exts[n:]
		switch typ {
		case 0: // server_name
			if len(body) >= 5 && body[2] == 0 {
				l := int(binary.BigEndian.Uint16(body[3:]))
				if 5+l <= len(body) {
					sni = body[5 : 5+l]
				}
			}
		case 16: // application_layer_protocol_negotiation
			if len(body) >= 2 {
				list := body[2:]
				for len(list) > 0 && len(alpn) < maxALPN {
					l := int(list[0])
					if 1+l > len(list) {
						break
					}
					alpn = append(alpn, list[1:1+l])
					list = list[1+l:]
				}
			}
		}
	}
	if len(sni) > maxNameLen {
		sni = sni[:maxNameLen]
	}
	// A hello cut short by the segment counts only if its name was seen.
	return sni, alpn, complete || sni != nil
}

func (s *appStats) clientHello(p []byte) {
	sni, alpn, ok := parseClientHello(p, s.alpn[:0])
	s.alpn = alpn
	if !ok {
		return
	}
	s.tlsKey = append(append(s.tlsKey[:0], sni...), 0)
	for i, a := range alpn {
		if i > 0 {
			s.tlsKey = append(s.tlsKey, ',')
		}
		s.tlsKey = append(s.tlsKey, a...)
	}
	i, found := s.tlsIndex[string(s.tlsKey)]
	if !found {
		if len(s.tlsRows) >= maxAppRows {
			s.dropped++
			return
		}
		i = len(s.tlsRows)
		s.tlsIndex[string(s.tlsKey)] = i
		h := TLSHello{ServerName: string(sni)}
		for _, a := range alpn {
			h.ALPN = append(h.ALPN, string(a))
		}
		s.tlsRows = append(s.tlsRows, h)
	}
	s.tlsRows[i].Count++
}

// DNS returns the DNS questions seen, most asked first.
func (a *Analyzer) DNS() []DNSQuestion {
	out := slices.Clone(a.app.dnsRows)
	for i := range out {
		out[i].Answers = slices.Clone(out[i].Answers)
	}
	slices.SortStableFunc(out, func(x, y DNSQuestion) int {
		return cmp.Compare(y.Queries+y.Responses, x.Queries+x.Responses)
	})
	return out
}

// HTTP returns the HTTP requests seen, most frequent first.
func (a *Analyzer) HTTP() []HTTPRequest {
	out := slices.Clone(a.app.httpRows)
	for i := range out {
		if out[i].Status != nil {
			m := make(map[int]uint64, len(out[i].Status))
			for k, v := range out[i].Status {
				m[k] = v
			}
			out[i].Status = m
		}
	}
	slices.SortStableFunc(out, func(x, y HTTPRequest) int { return cmp.Compare(y.Requests, x.Requests) })
	return out
}

// TLS returns the ClientHellos seen, most frequent first.
func (a *Analyzer) TLS() []TLSHello {
	out := slices.Clone(a.app.tlsRows)
	slices.SortStableFunc(out, func(x, y TLSHello) int {
		if c := cmp.Compare(y.Count, x.Count); c != 0 {
			return c
		}
		return strings.Compare(x.ServerName, y.ServerName)
	})
	return out
}

// Dropped returns how many application records were not kept because a
// summary reached its row limit.
func (a *Analyzer) Dropped() uint64 { return a.app.dropped }

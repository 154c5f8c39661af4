package analyze

import (
	"bytes"
	"testing"
)

// helloRecord builds a TLS record holding a ClientHello with the name and
// protocols (RFC 8446 4.1.2, RFC 6066 3, RFC 7301 3.1).
func helloRecord(name string, protos ...string) []byte {
	ext := func(typ uint16, body []byte) []byte {
		return append([]byte{byte(typ >> 8), byte(typ), byte(len(body) >> 8), byte(len(body))}, body...)
	}
	var exts []byte
	if name != "" {
		exts = ext(0, append([]byte{0, byte(len(name) + 3), 0, byte(len(name) >> 8), byte(len(name))}, name...))
	}
	if len(protos) > 0 {
		var list []byte
		for _, p := range protos {
			list = append(append(list, byte(len(p))), p...)
		}
		exts = append(exts, ext(16, append([]byte{byte(len(list) >> 8), byte(len(list))}, list...))...)
	}
	body := append([]byte{3, 3}, make([]byte, 32)...)
	body = append(body, 0, 0, 2, 0x13, 1, 1, 0, byte(len(exts)>>8), byte(len(exts)))
	body = append(body, exts...)
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

func TestParseClientHello(t *testing.T) {
	for _, tc := range []struct {
		rec    []byte
		sni    string
		alpn   []string
		wantOK bool
	}{
		{helloRecord("example.com", "h2", "http/1.1"), "example.com", []string{"h2", "http/1.1"}, true},
		{helloRecord("", "h2"), "", []string{"h2"}, true},
		{helloRecord("only.example"), "only.example", nil, true},
		{helloRecord("x")[:20], "", nil, false},
		{[]byte{23, 3, 3, 0, 1, 0}, "", nil, false},
	} {
		sni, alpn, ok := parseClientHello(tc.rec, nil)
		if ok != tc.wantOK || string(sni) != tc.sni || len(alpn) != len(tc.alpn) {
			t.Errorf("%x: sni %q alpn %q ok %v", tc.rec, sni, alpn, ok)
			continue
		}
		for i := range alpn {
			if string(alpn[i]) != tc.alpn[i] {
				t.Errorf("alpn %q, want %q", alpn, tc.alpn)
			}
		}
	}
}

func FuzzParseClientHello(f *testing.F) {
	f.Add(helloRecord("example.com", "h2", "http/1.1"))
	f.Add(helloRecord(""))
	f.Fuzz(func(t *testing.T, rec []byte) {
		sni, alpn, _ := parseClientHello(rec, nil)
		if len(sni) > maxNameLen || len(alpn) > maxALPN {
			t.Fatalf("unbounded: sni %d bytes, %d protocols", len(sni), len(alpn))
		}
		if len(sni) > 0 && !bytes.Contains(rec, sni) {
			t.Fatalf("sni %q not in the record", sni)
		}
	})
}

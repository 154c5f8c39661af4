package packet

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ErrTruncated is wrapped by Decode's error when a layer is cut short.
var ErrTruncated = errors.New("packet: truncated")

// LinkType is the kind of header a frame starts with.
type LinkType uint8

const (
	LinkEthernet LinkType = iota // Ethernet II (DLT_EN10MB)
	LinkRaw                      // raw IPv4 or IPv6, told apart by the version nibble
	LinkSLL                      // Linux cooked capture v1 (DLT_LINUX_SLL)
	LinkSLL2                     // Linux cooked capture v2 (DLT_LINUX_SLL2)
	LinkNull                     // BSD loopback (DLT_NULL), as tcpdump writes on lo
)

// LinkTypeFromDLT returns the LinkType of a pcap link-layer type number
// (LINKTYPE_*), and false for those the Decoder does not handle.
func LinkTypeFromDLT(dlt uint32) (LinkType, bool) {
	switch dlt {
	case 1:
		return LinkEthernet, true
	case 12, 14, 101, 228, 229:
		return LinkRaw, true
	case 113:
		return LinkSLL, true
	case 276:
		return LinkSLL2, true
	case 0:
		return LinkNull, true
	}
	return 0, false
}

// Decoder decodes frames into reused layer structs with gopacket's
// DecodingLayerParser: after warm-up a Decode does not allocate. The
// exported layer fields hold the last frame's layers; Layers lists which
// were decoded, outermost first (an IP-in-IP frame lists IPv4 twice, and the
// struct holds the inner one). Decoded layers alias the frame's bytes.
// A Decoder is not safe for concurrent use: give each goroutine its own.
type Decoder struct {
	Ethernet   layers.Ethernet
	Dot1Q      layers.Dot1Q
	SLL        layers.LinuxSLL
	SLL2       layers.LinuxSLL2
	Loopback   layers.Loopback
	ARP        layers.ARP
	IPv4       layers.IPv4
	IPv6       layers.IPv6
	ICMPv4     layers.ICMPv4
	ICMPv6     layers.ICMPv6
	ICMPv6Echo layers.ICMPv6Echo
	TCP        layers.TCP
	UDP        layers.UDP
	DNS        layers.DNS
	Payload    gopacket.Payload

	// Layers lists the decoded layers of the last frame, outermost first.
	Layers []gopacket.LayerType
	// Data is the last frame.
	Data []byte
	// Truncated is set when a layer of the last frame was cut short.
	Truncated bool
	// Length is the frame's length on the wire when the caller knows it
	// (from a capture header); 0 means len(Data). Decode resets it.
	Length int

	link   LinkType
	first  *gopacket.DecodingLayerParser
	v4, v6 *gopacket.DecodingLayerParser
	has    [8]uint32 // bit set of decoded layer types below 256
}

// NewDecoder returns a decoder for frames that start with link.
func NewDecoder(link LinkType) *Decoder {
	d := &Decoder{link: link, Layers: make([]gopacket.LayerType, 0, 16)}
	dl := []gopacket.DecodingLayer{
		&d.Ethernet, &d.Dot1Q, &d.SLL, &d.SLL2, &d.Loopback, &d.ARP, &d.IPv4, &d.IPv6,
		&d.ICMPv4, &d.ICMPv6, &d.ICMPv6Echo, &d.TCP, &d.UDP, &d.DNS, &d.Payload,
	}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first, dl...)
		p.IgnoreUnsupported = true
		return p
	}
	d.v4 = mk(layers.LayerTypeIPv4)
	d.v6 = mk(layers.LayerTypeIPv6)
	switch link {
	case LinkEthernet:
		d.first = mk(layers.LayerTypeEthernet)
	case LinkSLL:
		d.first = mk(layers.LayerTypeLinuxSLL)
	case LinkSLL2:
		d.first = mk(layers.LayerTypeLinuxSLL2)
	case LinkNull:
		d.first = mk(layers.LayerTypeLoopback)
	}
	return d
}

// Link returns the link type d decodes.
func (d *Decoder) Link() LinkType { return d.link }

// Decode decodes data, replacing the previous frame's layers. An error means
// the frame could only be decoded in part: the layers before the faulty one
// are in Layers and usable. Truncated frames give an error wrapping
// ErrTruncated. Decode never panics, whatever the bytes.
func (d *Decoder) Decode(data []byte) (err error) {
	d.Data = data
	d.Length = 0
	d.Layers = d.Layers[:0]
	d.has = [8]uint32{}
	p := d.first
	if d.link == LinkRaw {
		if len(data) == 0 {
			d.Truncated = true
			return fmt.Errorf("%w: empty frame", ErrTruncated)
		}
		switch data[0] >> 4 {
		case 4:
			p = d.v4
		case 6:
			p = d.v6
		default:
			d.Truncated = false
			return fmt.Errorf("packet: ip version %d", data[0]>>4)
		}
	}
	defer func() {
		// DecodingLayerParser recovers the layers' panics itself; this is
		// a second net so that no byte sequence can crash a caller.
		if r := recover(); r != nil {
			err = fmt.Errorf("packet: decode: %v", r)
		}
	}()
	err = p.DecodeLayers(data, &d.Layers)
	d.Truncated = p.Truncated
	err = d.dnsOverTCP(err)
	for _, t := range d.Layers {
		if t < 256 {
			d.has[t>>5] |= 1 << (t & 31)
		}
	}
	if err != nil {
		if d.Truncated {
			return fmt.Errorf("%w: %w", ErrTruncated, err)
		}
		return fmt.Errorf("packet: decode: %w", err)
	}
	if d.Truncated {
		return ErrTruncated
	}
	return nil
}

// Has reports whether the last frame had a layer of type t.
func (d *Decoder) Has(t gopacket.LayerType) bool {
	if t >= 0 && t < 256 {
		return d.has[t>>5]&(1<<(t&31)) != 0
	}
	for _, l := range d.Layers {
		if l == t {
			return true
		}
	}
	return false
}

// gopacketLink maps a LinkType to gopacket's first layer decoder.
func (l LinkType) decoder(data []byte) gopacket.Decoder {
	switch l {
	case LinkRaw:
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6
		}
		return layers.LayerTypeIPv4
	case LinkSLL:
		return layers.LayerTypeLinuxSLL
	case LinkSLL2:
		return layers.LayerTypeLinuxSLL2
	case LinkNull:
		return layers.LayerTypeLoopback
	}
	return layers.LayerTypeEthernet
}

// DecodeAll decodes data with gopacket's general decoder, which knows every
// protocol gopacket does, at the price of allocating the packet's layers.
// The packet does not copy data (gopacket.NoCopy): do not change data while
// using it.
func DecodeAll(data []byte, link LinkType) gopacket.Packet {
	return gopacket.NewPacket(data, link.decoder(data), gopacket.DecodeOptions{NoCopy: true, Lazy: false})
}

// dnsOverTCP redoes the DNS layer of a TCP segment on port 53, which
// DecodingLayerParser decodes without the 2-byte length prefix of RFC 1035
// section 4.2.2. A segment that holds no whole DNS message is not an error.
func (d *Decoder) dnsOverTCP(err error) error {
	n := len(d.Layers)
	tcpAt := -1
	for i, t := range d.Layers {
		if t == layers.LayerTypeTCP {
			tcpAt = i
		}
	}
	if tcpAt < 0 || d.TCP.SrcPort != 53 && d.TCP.DstPort != 53 {
		return err
	}
	if tcpAt != n-1 && d.Layers[n-1] != layers.LayerTypeDNS {
		return err
	}
	d.Layers = d.Layers[:tcpAt+1]
	pl := d.TCP.Payload
	if len(pl) >= 2+12 && int(pl[0])<<8|int(pl[1]) == len(pl)-2 {
		if d.DNS.DecodeFromBytes(pl[2:], gopacket.NilDecodeFeedback) == nil {
			d.Layers = append(d.Layers, layers.LayerTypeDNS)
		}
	}
	d.Truncated = false
	return nil
}

func (d *Decoder) wireLen() int {
	if d.Length > 0 {
		return d.Length
	}
	return len(d.Data)
}

package packet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ErrNoIP is returned by SerializeIP for a packet without an IP layer.
var ErrNoIP = errors.New("packet: no IP layer")

// Packet is one packet of a Template, built from gopacket layer structs.
// Addresses the expression left unset (Ether src and dst, IP and ARP source
// addresses, ARP hwsrc) are filled by the sender with Fill; until then they
// serialise as zeros. A Packet is not safe for concurrent use.
type Packet struct {
	t     *Template
	insts []*inst
	ser   []gopacket.SerializableLayer
	index uint64
	sc    scalar
}

// Packet returns a new packet of t, the first one (index 0).
func (t *Template) Packet() *Packet {
	p := &Packet{t: t, index: ^uint64(0)}
	for _, l := range t.layers {
		in := l.def.build()
		in.def = l.def
		p.insts = append(p.insts, in)
	}
	p.derive()
	for _, l := range t.layers {
		for _, f := range l.fields {
			in := p.insts[f.layer]
			in.explicit |= 1 << f.bit
			switch {
			case f.def.name == "hwsrc" || in.def.name == "Ether" && f.def.name == "src":
				in.hwsrcSet = true
			case f.def.name == "src" || f.def.name == "psrc":
				in.srcSet = true
			}
			if in.def.name == "Ether" && f.def.name == "dst" {
				in.dstSet = true
			}
			if f.n == 1 {
				f.vals[0].at(0, &p.sc)
				f.def.set(in, &p.sc)
			}
		}
	}
	for _, in := range p.insts {
		p.ser = append(p.ser, in.ser...)
	}
	p.SetIndex(0)
	return p
}

// derive sets the fields Scapy computes from the neighbouring layers: the
// EtherType, IP protocol and IPv6 next header from the layer above, the
// network layer of transport checksums from the layer below.
func (p *Packet) derive() {
	var net gopacket.NetworkLayer
	for i, in := range p.insts {
		above := ""
		if i+1 < len(p.insts) {
			above = p.insts[i+1].def.name
		}
		switch l := in.ser[0].(type) {
		case *layers.Ethernet:
			switch above {
			case "ARP":
				l.EthernetType = layers.EthernetTypeARP
				in.ma = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
				l.DstMAC = in.ma[:]
				in.dstSet = true
			case "IP":
				l.EthernetType = layers.EthernetTypeIPv4
			case "IPv6":
				l.EthernetType = layers.EthernetTypeIPv6
			default:
				l.EthernetType = 0x9000 // Scapy's default: loopback
			}
		case *layers.IPv4:
			l.Protocol = protoAbove(above, false)
			net = l
		case *layers.IPv6:
			l.NextHeader = protoAbove(above, true)
			net = l
		case *layers.TCP:
			in.noNet = net == nil
			if net != nil {
				l.SetNetworkLayerForChecksum(net)
			}
		case *layers.UDP:
			in.noNet = net == nil
			if net != nil {
				l.SetNetworkLayerForChecksum(net)
			}
		case *layers.ICMPv6:
			_, is6 := net.(*layers.IPv6)
			in.noNet = !is6
			if is6 {
				l.SetNetworkLayerForChecksum(net)
			}
		}
	}
}

func protoAbove(above string, v6 bool) layers.IPProtocol {
	switch above {
	case "TCP":
		return layers.IPProtocolTCP
	case "UDP":
		return layers.IPProtocolUDP
	case "ICMP":
		return layers.IPProtocolICMPv4
	case "ICMPv6", "ICMPv6EchoRequest", "ICMPv6EchoReply":
		return layers.IPProtocolICMPv6
	case "IP":
		return layers.IPProtocolIPv4
	case "IPv6":
		return layers.IPProtocolIPv6
	}
	if v6 {
		return layers.IPProtocolNoNextHeader
	}
	return 0
}

// Template returns the template p belongs to.
func (p *Packet) Template() *Template { return p.t }

// Index returns p's position in its template's order.
func (p *Packet) Index() uint64 { return p.index }

// SetIndex turns p into the i-th packet of its template (i < Count) in
// place, without allocating; fields filled by Fill are cleared again.
func (p *Packet) SetIndex(i uint64) {
	t := p.t
	for d, f := range t.dims {
		k := i / t.radix[d] % f.n
		for vi := range f.vals {
			v := &f.vals[vi]
			c := v.count()
			if k < c {
				v.at(k, &p.sc)
				break
			}
			k -= c
		}
		f.def.set(p.insts[f.layer], &p.sc)
	}
	p.index = i
	for _, in := range p.insts {
		switch l := in.ser[0].(type) {
		case *layers.Ethernet:
			if !in.hwsrcSet {
				l.SrcMAC = nil
			}
			if !in.dstSet {
				l.DstMAC = nil
			}
		case *layers.ARP:
			if !in.hwsrcSet {
				l.SourceHwAddress = nil
			}
			if !in.srcSet {
				l.SourceProtAddress = nil
			}
		case *layers.IPv4:
			if !in.srcSet {
				l.SrcIP = nil
			}
		case *layers.IPv6:
			if !in.srcSet {
				l.SrcIP = nil
			}
		}
	}
}

// Layers returns p's gopacket layers, outermost first. They may be changed
// before serialising (the sender of a scan, say, sets ports or sequence
// numbers in place); SetIndex overwrites the fields the template sets.
func (p *Packet) Layers() []gopacket.SerializableLayer { return p.ser }

// Dst returns the address p is sent to: the outermost IP layer's
// destination, or ARP's target protocol address. The sender routes on it.
func (p *Packet) Dst() netip.Addr {
	for _, in := range p.insts {
		switch l := in.ser[0].(type) {
		case *layers.IPv4:
			a, _ := netip.AddrFromSlice(l.DstIP)
			return a
		case *layers.IPv6:
			a, _ := netip.AddrFromSlice(l.DstIP)
			return a
		case *layers.ARP:
			a, _ := netip.AddrFromSlice(l.DstProtAddress)
			return a
		}
	}
	return netip.Addr{}
}

// NeedsFill reports whether p has fields left for Fill: an unset source
// address, or an unset Ether source or destination.
func (p *Packet) NeedsFill() bool {
	for _, in := range p.insts {
		switch l := in.ser[0].(type) {
		case *layers.Ethernet:
			if l.SrcMAC == nil || l.DstMAC == nil {
				return true
			}
		case *layers.ARP:
			if l.SourceHwAddress == nil || l.SourceProtAddress == nil {
				return true
			}
		case *layers.IPv4:
			return l.SrcIP == nil
		case *layers.IPv6:
			return l.SrcIP == nil
		}
	}
	return false
}

// Fill sets the fields the expression left unset, as Scapy does at send
// time from the route: src (of its family) as the source of the outermost IP
// layer and as ARP's psrc, srcMAC as Ether's src and ARP's hwsrc, dstMAC as
// Ether's dst (the next hop's address). Invalid or nil arguments are
// skipped; fields given in the expression are never changed. Fill does not
// allocate.
func (p *Packet) Fill(src netip.Addr, srcMAC, dstMAC net.HardwareAddr) {
	src = src.Unmap()
	ipDone := false
	for _, in := range p.insts {
		switch l := in.ser[0].(type) {
		case *layers.Ethernet:
			if l.SrcMAC == nil && len(srcMAC) == 6 {
				copy(in.mb[:], srcMAC)
				l.SrcMAC = in.mb[:]
			}
			if l.DstMAC == nil && len(dstMAC) == 6 {
				copy(in.ma[:], dstMAC)
				l.DstMAC = in.ma[:]
			}
		case *layers.ARP:
			if l.SourceHwAddress == nil && len(srcMAC) == 6 {
				copy(in.ma[:], srcMAC)
				l.SourceHwAddress = in.ma[:]
			}
			if l.SourceProtAddress == nil && src.Is4() {
				l.SourceProtAddress = putAddr(&in.a, src)
			}
		case *layers.IPv4:
			if !ipDone && l.SrcIP == nil && src.Is4() {
				l.SrcIP = putAddr(&in.a, src)
			}
			ipDone = true
		case *layers.IPv6:
			if !ipDone && l.SrcIP == nil && src.Is6() {
				l.SrcIP = putAddr(&in.a, src)
			}
			ipDone = true
		}
	}
}

var (
	zeroIP  = make([]byte, 16)
	zeroMAC = make([]byte, 6)
)

// Serialize writes p, from its outermost layer, into buf (cleared first):
// lengths and checksums computed unless the expression gave them. Use it
// for AF_PACKET, with an Ether layer at the bottom.
func (p *Packet) Serialize(buf gopacket.SerializeBuffer) error {
	return p.serialize(buf, 0)
}

// SerializeIP writes p from its outermost IP layer on (skipping Ether) into
// buf, for raw IP sockets. It returns ErrNoIP if p has no IP layer.
func (p *Packet) SerializeIP(buf gopacket.SerializeBuffer) error {
	for i, in := range p.insts {
		switch in.ser[0].(type) {
		case *layers.IPv4, *layers.IPv6:
			return p.serialize(buf, i)
		}
	}
	return ErrNoIP
}

func (p *Packet) serialize(buf gopacket.SerializeBuffer, from int) error {
	if err := buf.Clear(); err != nil {
		return err
	}
	// Unset addresses serialise as zeros: put placeholders in first, since
	// upper layers read the IP addresses for their checksums.
	var unset uint64
	for i, in := range p.insts {
		if i >= 16 {
			break
		}
		switch l := in.ser[0].(type) {
		case *layers.Ethernet:
			if l.SrcMAC == nil {
				unset |= 1 << (4 * i)
				l.SrcMAC = zeroMAC
			}
			if l.DstMAC == nil {
				unset |= 2 << (4 * i)
				l.DstMAC = zeroMAC
			}
		case *layers.ARP:
			if l.SourceHwAddress == nil {
				unset |= 1 << (4 * i)
				l.SourceHwAddress = zeroMAC
			}
			if l.SourceProtAddress == nil {
				unset |= 2 << (4 * i)
				l.SourceProtAddress = zeroIP[:4]
			}
		case *layers.IPv4:
			if l.SrcIP == nil {
				unset |= 1 << (4 * i)
				l.SrcIP = zeroIP[:4]
			}
		case *layers.IPv6:
			if l.SrcIP == nil {
				unset |= 1 << (4 * i)
				l.SrcIP = zeroIP
			}
		}
	}
	err := p.serializeLayers(buf, from)
	for i, in := range p.insts {
		if unset == 0 {
			break
		}
		m := unset >> (4 * i) & 15
		unset &^= 15 << (4 * i)
		if m == 0 {
			continue
		}
		switch l := in.ser[0].(type) {
		case *layers.Ethernet:
			if m&1 != 0 {
				l.SrcMAC = nil
			}
			if m&2 != 0 {
				l.DstMAC = nil
			}
		case *layers.ARP:
			if m&1 != 0 {
				l.SourceHwAddress = nil
			}
			if m&2 != 0 {
				l.SourceProtAddress = nil
			}
		case *layers.IPv4:
			l.SrcIP = nil
		case *layers.IPv6:
			l.SrcIP = nil
		}
	}
	return err
}

func (p *Packet) serializeLayers(buf gopacket.SerializeBuffer, from int) error {
	for i := len(p.insts) - 1; i >= from; i-- {
		in := p.insts[i]
		opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: !in.noNet}
		if in.has("chksum") || in.has("cksum") {
			opts.ComputeChecksums = false
		}
		switch l := in.ser[0].(type) {
		case *layers.IPv4:
			if !opts.ComputeChecksums {
				l.Checksum = in.ckVal
			}
			if in.has("len") || in.has("ihl") {
				opts.FixLengths = false
				if in.has("len") {
					l.Length = in.lenVal
				} else {
					l.Length = uint16(20 + len(buf.Bytes()))
				}
			}
		case *layers.IPv6:
			if in.has("plen") {
				opts.FixLengths = false
				l.Length = in.lenVal
			}
		case *layers.TCP:
			if !opts.ComputeChecksums {
				l.Checksum = in.ckVal
			}
			if in.has("dataofs") {
				opts.FixLengths = false
			}
		case *layers.UDP:
			if !opts.ComputeChecksums {
				l.Checksum = in.ckVal
			}
			if in.has("len") {
				opts.FixLengths = false
				l.Length = in.lenVal
			}
		case *layers.ICMPv4:
			if !opts.ComputeChecksums {
				l.Checksum = in.ckVal
			}
		case *layers.ICMPv6:
			if !opts.ComputeChecksums {
				l.Checksum = in.ckVal
			}
		}
		for j := len(in.ser) - 1; j >= 0; j-- {
			if err := in.ser[j].SerializeTo(buf, opts); err != nil {
				return fmt.Errorf("packet: serialise %s: %w", in.def.name, err)
			}
		}
	}
	return nil
}

package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// Offsets in struct tpacket_block_desc and struct tpacket3_hdr
// (linux/if_packet.h).
const (
	bdBlockStatus   = 8
	bdNumPkts       = 12
	bdOffsetToFirst = 16

	hdrNextOffset = 0
	hdrSec        = 4
	hdrNsec       = 8
	hdrSnaplen    = 12
	hdrLen        = 16
	hdrMac        = 24
	hdrSize       = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
	sllIfindex    = hdrSize + 4
	sllHatype     = hdrSize + 8
	sllPkttype    = hdrSize + 10

	frameSize = 1 << 11 // tp_frame_size: only a unit of accounting in V3
)

// Handle is an open live capture.
type Handle struct {
	fd      int
	efd     int // eventfd that wakes a blocked poll on cancellation
	ring    []byte
	blockSz int
	nBlocks int
	snaplen int
	ctx     context.Context
	stop    func() bool

	block     int    // current block
	inBlock   bool   // the current block is owned by user space
	remaining uint32 // packets left in the current block
	next      int    // offset of the next packet in the current block

	statsMu sync.Mutex
	stats   Stats
	closed  atomic.Bool
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Open starts a capture as cfg describes. The socket is created in the
// network namespace of the calling thread. Cancelling ctx ends blocked and
// later reads with ctx's error.
func Open(ctx context.Context, cfg Config) (h *Handle, err error) {
	cfg = cfg.withDefaults()
	if ctx == nil {
		ctx = context.Background()
	}
	ifindex := 0
	if cfg.Interface != "" {
		ifi, err := net.InterfaceByName(cfg.Interface)
		if err != nil {
			return nil, fmt.Errorf("capture: interface %q: %w", cfg.Interface, err)
		}
		ifindex = ifi.Index
	}
	pageSize := os.Getpagesize()
	blockSz := cfg.RingSize / cfg.RingBlocks
	// A block is a power-of-two multiple of the page size (the kernel
	// allocates it with one order).
	b := pageSize
	for b < blockSz && b < 1<<30 {
		b <<= 1
	}
	blockSz = max(b, pageSize)
	if blockSz < cfg.Snaplen+hdrSize+64 && cfg.Snaplen+hdrSize+64 <= 1<<30 {
		for blockSz < cfg.Snaplen+hdrSize+64 {
			blockSz <<= 1
		}
	}

	// Protocol 0: nothing is received before bind, which comes after the
	// filter is attached.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("capture: socket: %w", err)
	}
	h = &Handle{fd: fd, efd: -1, blockSz: blockSz, nBlocks: cfg.RingBlocks, snaplen: cfg.Snaplen, ctx: ctx}
	defer func() {
		if err != nil {
			h.release()
			h = nil
		}
	}()
	prog := snapFilter(cfg.Filter, cfg.Snaplen)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	if len(prog) > 4096 {
		return nil, fmt.Errorf("capture: filter of %d instructions (at most 4096)", len(prog))
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return nil, fmt.Errorf("capture: attach filter: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fmt.Errorf("capture: TPACKET_V3: %w", err)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(blockSz),
		Block_nr:       uint32(cfg.RingBlocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(blockSz / frameSize * cfg.RingBlocks),
		Retire_blk_tov: uint32(max(1, cfg.BlockTimeout/time.Millisecond)),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("capture: ring of %d blocks of %d bytes: %w", cfg.RingBlocks, blockSz, err)
	}
	h.ring, err = unix.Mmap(fd, 0, blockSz*cfg.RingBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_LOCKED)
	if err != nil {
		h.ring, err = unix.Mmap(fd, 0, blockSz*cfg.RingBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("capture: mmap ring: %w", err)
		}
	}
	if cfg.Promisc && ifindex != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, fmt.Errorf("capture: promiscuous mode: %w", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return nil, fmt.Errorf("capture: bind: %w", err)
	}
	h.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("capture: eventfd: %w", err)
	}
	efd := h.efd
	h.stop = context.AfterFunc(ctx, func() {
		// Under statsMu, which Close holds while closing efd: never write
		// to a descriptor number that was closed and reused.
		h.statsMu.Lock()
		defer h.statsMu.Unlock()
		if !h.closed.Load() {
			var one [8]byte
			binary.NativeEndian.PutUint64(one[:], 1)
			unix.Write(efd, one[:])
		}
	})
	return h, nil
}

func (h *Handle) blockAt(i int) []byte { return h.ring[i*h.blockSz : (i+1)*h.blockSz] }

func (h *Handle) status(blk []byte) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&blk[bdBlockStatus])))
}

// ZeroCopyReadPacketData waits for the next packet and returns it in place
// in the ring; data is valid until the next read. It returns the context's
// error once the context given to Open is done.
func (h *Handle) ZeroCopyReadPacketData() ([]byte, CaptureInfo, error) {
	for {
		if h.closed.Load() {
			return nil, CaptureInfo{}, errors.New("capture: read on closed handle")
		}
		if err := h.ctx.Err(); err != nil {
			return nil, CaptureInfo{}, err
		}
		if h.inBlock && h.remaining == 0 {
			// Hand the block back to the kernel and move on.
			blk := h.blockAt(h.block)
			atomic.StoreUint32((*uint32)(unsafe.Pointer(&blk[bdBlockStatus])), unix.TP_STATUS_KERNEL)
			h.inBlock = false
			h.block = (h.block + 1) % h.nBlocks
		}
		if !h.inBlock {
			blk := h.blockAt(h.block)
			if h.status(blk)&unix.TP_STATUS_USER == 0 {
				if err := h.wait(); err != nil {
					return nil, CaptureInfo{}, err
				}
				continue
			}
			h.inBlock = true
			h.remaining = binary.NativeEndian.Uint32(blk[bdNumPkts:])
			h.next = int(binary.NativeEndian.Uint32(blk[bdOffsetToFirst:]))
			continue
		}
		blk := h.blockAt(h.block)
		off := h.next
		if off < 0 || off+hdrSize+20 > len(blk) {
			h.remaining = 0
			continue
		}
		p := blk[off:]
		h.remaining--
		h.next = off + int(binary.NativeEndian.Uint32(p[hdrNextOffset:]))
		pkttype := p[sllPkttype]
		hatype := binary.NativeEndian.Uint16(p[sllHatype:])
		if pkttype == unix.PACKET_OUTGOING && hatype == unix.ARPHRD_LOOPBACK {
			continue // seen again as it arrives
		}
		mac := int(binary.NativeEndian.Uint16(p[hdrMac:]))
		snap := int(binary.NativeEndian.Uint32(p[hdrSnaplen:]))
		if mac+snap > len(p) {
			continue
		}
		data := p[mac : mac+snap]
		if len(data) > h.snaplen {
			data = data[:h.snaplen]
		}
		ci := CaptureInfo{
			Timestamp:      time.Unix(int64(binary.NativeEndian.Uint32(p[hdrSec:])), int64(binary.NativeEndian.Uint32(p[hdrNsec:]))),
			CaptureLength:  len(data),
			Length:         int(binary.NativeEndian.Uint32(p[hdrLen:])),
			InterfaceIndex: int(int32(binary.NativeEndian.Uint32(p[sllIfindex:]))),
			LinkType:       linkType(hatype),
			Outgoing:       pkttype == unix.PACKET_OUTGOING,
		}
		return data, ci, nil
	}
}

// ReadPacketData is ZeroCopyReadPacketData with the data copied into a new
// slice.
func (h *Handle) ReadPacketData() ([]byte, CaptureInfo, error) {
	data, ci, err := h.ZeroCopyReadPacketData()
	if err != nil {
		return nil, ci, err
	}
	return append([]byte(nil), data...), ci, nil
}

// wait blocks until the ring has data or the context is done.
func (h *Handle) wait() error {
	fds := [2]unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN | unix.POLLERR}, {Fd: int32(h.efd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds[:], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("capture: poll: %w", err)
		}
		if fds[1].Revents != 0 {
			if err := h.ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	}
}

// linkType maps an ARPHRD_ type to the link type of the data.
func linkType(hatype uint16) layers.LinkType {
	switch hatype {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return layers.LinkTypeEthernet
	case unix.ARPHRD_NONE, unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6, unix.ARPHRD_SIT, unix.ARPHRD_IPGRE:
		return layers.LinkTypeRaw
	case unix.ARPHRD_IEEE80211_RADIOTAP:
		return layers.LinkTypeIEEE80211Radio
	case unix.ARPHRD_PPP:
		return layers.LinkTypeRaw
	}
	return layers.LinkType(0xffff)
}

// Stats returns the kernel's counters since the handle was opened.
func (h *Handle) Stats() (Stats, error) {
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	if h.closed.Load() {
		return h.stats, nil
	}
	// Reading the counters resets them in the kernel: accumulate.
	s, err := unix.GetsockoptTpacketStatsV3(h.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return h.stats, fmt.Errorf("capture: statistics: %w", err)
	}
	h.stats.Packets += uint64(s.Packets)
	h.stats.Drops += uint64(s.Drops)
	h.stats.QueueFreezes += uint64(s.Freeze_q_cnt)
	return h.stats, nil
}

// Close stops the capture and frees the ring. It must not run concurrently
// with a read.
func (h *Handle) Close() error {
	if h.closed.Load() {
		return nil
	}
	h.Stats() // keep the final counters
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	h.closed.Store(true)
	return h.release()
}

func (h *Handle) release() error {
	if h.stop != nil {
		h.stop()
	}
	var errs []error
	if h.ring != nil {
		errs = append(errs, unix.Munmap(h.ring))
		h.ring = nil
	}
	if h.efd >= 0 {
		errs = append(errs, unix.Close(h.efd))
		h.efd = -1
	}
	if h.fd >= 0 {
		errs = append(errs, unix.Close(h.fd))
		h.fd = -1
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("capture: close: %w", err)
	}
	return nil
}

package geo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// ErrInvalidDatabase is wrapped by every error that comes from a file that is
// not a MaxMind DB or is a damaged one (truncated, corrupt search tree or
// data section), whether it shows when opening or during a lookup.
var ErrInvalidDatabase = errors.New("not a valid MaxMind DB")

// Config tunes Open. A nil *Config means the zero Config.
type Config struct {
	// Name is how Record.Database and Info.Name call the database. Zero: the
	// file's base name without ".mmdb".
	Name string
	// ReloadInterval is how often the file is checked for replacement
	// (a new inode, size or modification time). Zero: never; Reload still
	// works. A file that fails to open keeps the old version in service and
	// is reported through OnReload.
	ReloadInterval time.Duration
	// OnReload, when not nil, is called from the watching goroutine after
	// each reload attempt, with nil on success.
	OnReload func(error)
}

// Info describes a database.
type Info struct {
	Name        string    // the name given to Config.Name, or derived from the file
	Path        string    // the file, or "" for a database opened from bytes
	Type        string    // database_type from the metadata, e.g. "GeoLite2-City"
	Description string    // English description from the metadata, if any
	Built       time.Time // build time from the metadata
	IPVersion   int       // 4: IPv4 only; 6: IPv4 and IPv6
	Nodes       int       // search tree size
}

// DB is a MaxMind DB (mmdb) file opened for lookups. Its answers are cached
// per data record, so looking up addresses that share a record costs one
// tree walk and no allocation.
//
// A DB maps its file into memory (or reads it where mapping fails). A
// version replaced by Reload is unmapped by the garbage collector's cleanup
// once no lookup uses it any more, never under a running lookup. Replace a
// database file by writing a new file and renaming it over the old one (as
// geoipupdate does); truncating or rewriting a mapped file in place can
// crash the process, as it can any mmdb reader that maps its file.
type DB struct {
	name string
	path string
	cfg  Config

	cur atomic.Pointer[generation]

	mu       sync.Mutex // serialises reloads
	stat     fileStamp  // of the version in service
	failed   fileStamp  // of the last file that failed to load
	done     chan struct{}
	wg       sync.WaitGroup
	closeOne sync.Once
}

// generation is one loaded version of the file.
type generation struct {
	r      *maxminddb.Reader
	id     uint64
	info   Info
	cache  []atomic.Pointer[cacheEntry]
	shift  uint
	places *placeCache
}

type cacheEntry struct {
	offset uintptr
	rec    Record
	err    error // the record failed to decode
}

// generations numbers loaded database versions, so that IDs of records from
// different versions never compare equal.
var generations atomic.Uint64

// maxCacheBits bounds the record cache of a generation: 2^18 slots (2 MiB
// of pointers) hold the distinct records a full City database answers a
// million random addresses with (about 110,000) with few collisions.
const maxCacheBits = 18

func newGeneration(r *maxminddb.Reader, info Info) *generation {
	g := &generation{r: r, id: generations.Add(1), info: info}
	// A database has fewer distinct records than tree nodes, usually by an
	// order of magnitude: size the cache to a quarter of the node count.
	bits := uint(maxCacheBits)
	for bits > 6 && uint(1)<<(bits+2) > r.Metadata.NodeCount {
		bits--
	}
	g.cache = make([]atomic.Pointer[cacheEntry], 1<<bits)
	g.shift = 64 - bits
	// Places (countries, regions, cities) are fewer than records, but
	// a City database has tens of thousands of cities.
	g.places = newPlaceCache(bits - 1)
	g.info.Type = r.Metadata.DatabaseType
	g.info.Description = r.Metadata.Description["en"]
	if e := r.Metadata.BuildEpoch; e <= 1<<40 {
		g.info.Built = time.Unix(int64(e), 0).UTC()
	}
	g.info.IPVersion = int(r.Metadata.IPVersion)
	g.info.Nodes = int(r.Metadata.NodeCount)
	return g
}

// Open opens the mmdb file at path. An error wraps ErrInvalidDatabase when
// the file is not a MaxMind DB or is visibly damaged, and fs.ErrNotExist or
// fs.ErrPermission when it cannot be read. With cfg.ReloadInterval set, a
// goroutine watches the file until Close.
func Open(path string, cfg *Config) (*DB, error) {
	db := &DB{path: path}
	if cfg != nil {
		db.cfg = *cfg
	}
	db.name = db.cfg.Name
	if db.name == "" {
		db.name = strings.TrimSuffix(filepath.Base(path), ".mmdb")
	}
	g, st, err := db.load()
	if err != nil {
		return nil, err
	}
	db.cur.Store(g)
	db.stat = st
	if db.cfg.ReloadInterval > 0 {
		db.done = make(chan struct{})
		db.wg.Add(1)
		go db.watch()
	}
	return db, nil
}

// OpenBytes opens a database held in memory, named name. The DB keeps b:
// the caller must not modify it. Reload does nothing on such a DB.
func OpenBytes(b []byte, name string) (*DB, error) {
	g, err := openGeneration(b, Info{Name: name}, name)
	if err != nil {
		return nil, err
	}
	db := &DB{name: name}
	db.cur.Store(g)
	return db, nil
}

func openGeneration(b []byte, info Info, what string) (*generation, error) {
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("geo: %s: %w (%w)", what, ErrInvalidDatabase, err)
	}
	if err := sanityCheck(r); err != nil {
		return nil, fmt.Errorf("geo: %s: %w (%w)", what, ErrInvalidDatabase, err)
	}
	return newGeneration(r, info), nil
}

// sanityCheck catches damage that maxminddb's Open does not look for but a
// truncated or overwritten file shows: the metadata must describe a search
// tree that fits in the file, and two lookups must walk it without error.
func sanityCheck(r *maxminddb.Reader) error {
	m := r.Metadata
	if m.BinaryFormatMajorVersion != 2 {
		return fmt.Errorf("unsupported format version %d", m.BinaryFormatMajorVersion)
	}
	for _, a := range []netip.Addr{netip.IPv4Unspecified(), netip.MustParseAddr("255.255.255.255")} {
		if m.IPVersion == 4 && !a.Is4() {
			continue
		}
		if err := r.Lookup(a).Err(); err != nil {
			return err
		}
	}
	return nil
}

// load reads the file and opens a new generation of it.
func (db *DB) load() (*generation, fileStamp, error) {
	f, err := os.Open(db.path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("geo: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("geo: %w", err)
	}
	if fi.IsDir() {
		return nil, fileStamp{}, fmt.Errorf("geo: %s: %w: is a directory", db.path, ErrInvalidDatabase)
	}
	data, unmap, err := mapFile(f, fi.Size())
	if err != nil {
		var buf bytes.Buffer
		buf.Grow(int(fi.Size()) + 1)
		if _, err := buf.ReadFrom(f); err != nil {
			return nil, fileStamp{}, fmt.Errorf("geo: read %s: %w", db.path, err)
		}
		data, unmap = buf.Bytes(), nil
	}
	g, err := openGeneration(data, Info{Name: db.name, Path: db.path}, db.path)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, fileStamp{}, err
	}
	if unmap != nil {
		// Every use of g.r keeps g reachable (runtime.KeepAlive), so the
		// mapping outlives every lookup that reads it.
		runtime.AddCleanup(g, func(unmap func()) { unmap() }, unmap)
	}
	return g, stampOf(fi), nil
}

// fileStamp is what tells a replaced file from the one loaded.
type fileStamp struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func stampOf(fi fs.FileInfo) fileStamp {
	s := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	s.dev, s.ino = fileID(fi)
	return s
}

// Reload reopens the file if it has changed since it was loaded and swaps
// the new version in atomically: lookups in flight finish on the old one,
// later lookups see the new one. It reports whether a new version was
// loaded. On error the DB keeps answering from the version it had, and the
// same broken file is not tried again until it changes.
func (db *DB) Reload() (bool, error) {
	if db.path == "" {
		return false, nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	fi, err := os.Stat(db.path)
	if err != nil {
		return false, fmt.Errorf("geo: %w", err)
	}
	st := stampOf(fi)
	if st == db.stat || st == db.failed {
		return false, nil // unchanged, or the same broken file as last time
	}
	g, st, err := db.load()
	if err != nil {
		db.failed = stampOf(fi)
		return false, err
	}
	db.cur.Store(g)
	db.stat = st
	return true, nil
}

func (db *DB) watch() {
	defer db.wg.Done()
	t := time.NewTicker(db.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-db.done:
			return
		case <-t.C:
			loaded, err := db.Reload()
			if (loaded || err != nil) && db.cfg.OnReload != nil {
				db.cfg.OnReload(err)
			}
		}
	}
}

// Close stops watching the file. Lookups after Close still answer from the
// last version loaded; its memory is freed when the DB is no longer used.
func (db *DB) Close() error {
	db.closeOne.Do(func() {
		if db.done != nil {
			close(db.done)
			db.wg.Wait()
		}
	})
	return nil
}

// Info describes the version of the database currently in service.
func (db *DB) Info() Info { return db.cur.Load().info }

// Lookup returns what the database knows about addr (any zone is ignored).
// An address the database has no data for gives a Record that is not Found,
// with Network set to the empty network that holds it, and no error. An
// error wraps ErrInvalidDatabase. Lookup does not allocate once the record
// is cached.
func (db *DB) Lookup(addr netip.Addr) (Record, error) {
	g := db.cur.Load()
	defer runtime.KeepAlive(g)
	addr = addr.WithZone("")
	res := g.r.Lookup(addr)
	if err := res.Err(); err != nil {
		return Record{}, g.invalid(addr, err)
	}
	if !res.Found() {
		return Record{Network: res.Prefix()}, nil
	}
	e, err := g.entry(res)
	if err != nil {
		return Record{}, g.invalid(addr, err)
	}
	rec := e.rec
	rec.Network = res.Prefix()
	return rec, nil
}

// entry returns the cached record of a found result, decoding it on a
// miss.
func (g *generation) entry(res maxminddb.Result) (*cacheEntry, error) {
	off := res.Offset()
	slot := &g.cache[(uint64(off)*0x9E3779B97F4A7C15)>>g.shift]
	if e := slot.Load(); e != nil && e.offset == off {
		return e, e.err
	}
	var w wire
	g.usePlaceCache(&w)
	if err := res.Decode(&w); err != nil {
		// Remember the failure too: decoding a damaged record can take
		// long (deep nesting), and it fails the same way every time.
		slot.Store(&cacheEntry{offset: off, err: err})
		return nil, err
	}
	e := &cacheEntry{offset: off, rec: w.record()}
	e.rec.Database = g.info.Name
	e.rec.id.parts[0] = g.id<<32 | uint64(uint32(off)+1)
	slot.Store(e)
	return e, nil
}

// usePlaceCache has w's places decode through g's place cache.
func (g *generation) usePlaceCache(w *wire) {
	// Postal codes are many and cheap to decode: they would only evict
	// cities from the cache.
	for _, p := range []*place{&w.Country, &w.RegisteredCountry, &w.Continent, &w.City, &w.Subdivisions.place} {
		p.cache = g.places
	}
}

func (g *generation) invalid(addr netip.Addr, err error) error {
	return fmt.Errorf("geo: %s: lookup %s: %w: %w", g.info.Name, addr, ErrInvalidDatabase, err)
}

// Decode looks addr up and decodes the database's whole record for it into
// v, as maxminddb's Result.Decode does: a pointer to a struct with
// `maxminddb:"key"` tags, or to an `any` for a generic view (maps, slices,
// strings, numbers). The values are copies: none refers to the database's
// memory. It returns the network that holds addr and whether the database
// had data for it.
func (db *DB) Decode(addr netip.Addr, v any) (netip.Prefix, bool, error) {
	g := db.cur.Load()
	defer runtime.KeepAlive(g)
	addr = addr.WithZone("")
	res := g.r.Lookup(addr)
	if err := res.Err(); err != nil {
		return netip.Prefix{}, false, g.invalid(addr, err)
	}
	if !res.Found() {
		return res.Prefix(), false, nil
	}
	if err := res.Decode(v); err != nil {
		return res.Prefix(), true, g.invalid(addr, err)
	}
	return res.Prefix(), true, nil
}

// Networks yields, in address order, each network of the database inside
// prefix that has data, with its record (a prefix inside one network of the
// database yields that network). An IPv4 prefix in a database that also
// holds IPv6 yields its IPv4 networks once. A damaged database yields an
// error and stops.
func (db *DB) Networks(prefix netip.Prefix) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		g := db.cur.Load()
		defer runtime.KeepAlive(g)
		prefix = prefix.Masked()
		if !prefix.IsValid() {
			yield(Record{}, fmt.Errorf("geo: invalid prefix"))
			return
		}
		if g.info.IPVersion == 4 && !prefix.Addr().Is4() {
			return
		}
		for res := range g.r.NetworksWithin(prefix) {
			if err := res.Err(); err != nil {
				yield(Record{}, fmt.Errorf("geo: %s: networks in %s: %w: %w", g.info.Name, prefix, ErrInvalidDatabase, err))
				return
			}
			e, err := g.entry(res)
			if err != nil {
				yield(Record{}, fmt.Errorf("geo: %s: network %s: %w: %w", g.info.Name, res.Prefix(), ErrInvalidDatabase, err))
				return
			}
			rec := e.rec
			rec.Network = res.Prefix()
			if !yield(rec, nil) {
				return
			}
		}
	}
}

package geo

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// replace writes src's bytes to a temporary file and renames it over dst,
// as geoipupdate does.
func replace(t *testing.T, dst string, b []byte) {
	t.Helper()
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

func readTest(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testData + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	replace(t, path, readTest(t, "GeoIP2-Country-Test.mmdb"))
	reloads := make(chan error, 10)
	db, err := Open(path, &Config{ReloadInterval: 5 * time.Millisecond, OnReload: func(err error) {
		select {
		case reloads <- err:
		default:
			t.Error("more reloads than expected")
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := netip.MustParseAddr("81.2.69.160")
	before, err := db.Lookup(a)
	if err != nil || before.CountryCode == "" || before.City != "" || db.Info().Type != "GeoIP2-Country" {
		t.Fatalf("before: %+v, %v, type %q", before, err, db.Info().Type)
	}

	// Lookups from other goroutines go on during the swap.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var lookupErr atomic.Value
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				if _, err := db.Lookup(a); err != nil {
					lookupErr.Store(err)
				}
			}
		})
	}

	replace(t, path, readTest(t, "GeoIP2-City-Test.mmdb"))
	select {
	case err := <-reloads:
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the replaced file was not picked up")
	}
	// The old version is unmapped once unreachable: collect it while the
	// other goroutines keep looking up.
	runtime.GC()
	runtime.GC()
	after, err := db.Lookup(a)
	if err != nil || after.City == "" || db.Info().Type != "GeoIP2-City" {
		t.Fatalf("after: %+v, %v, type %q", after, err, db.Info().Type)
	}
	if after.ID() == before.ID() {
		t.Error("records of two versions have the same ID")
	}

	// A broken replacement keeps the good version in service.
	replace(t, path, []byte("not a database"))
	select {
	case err := <-reloads:
		if !errors.Is(err, ErrInvalidDatabase) {
			t.Fatalf("reload of a broken file: %v, want ErrInvalidDatabase", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the broken file was not noticed")
	}
	if r, err := db.Lookup(a); err != nil || r.City != after.City {
		t.Fatalf("after a broken replacement: %+v, %v", r, err)
	}
	stop.Store(true)
	wg.Wait()
	if err := lookupErr.Load(); err != nil {
		t.Fatalf("lookup during reloads: %v", err)
	}
	// The first version was unmapped once replaced: of the files that
	// were at path and are now deleted, only the one in service (the City
	// database, replaced by the broken file) is still mapped.
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		maps, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Skip("no /proc/self/maps")
		}
		inodes := map[string]bool{}
		for _, l := range strings.Split(string(maps), "\n") {
			if f := strings.Fields(l); len(f) >= 6 && strings.HasSuffix(l, path+" (deleted)") {
				inodes[f[4]] = true
			}
		}
		if len(inodes) <= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a replaced version of %s is still mapped", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Close stops the watching goroutine.
	db.Close()
	goleak.VerifyNone(t)
}

func TestReloadManual(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	replace(t, path, readTest(t, "GeoLite2-ASN-Test.mmdb"))
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Reload(); ok || err != nil {
		t.Fatalf("Reload of an unchanged file = %v, %v", ok, err)
	}
	replace(t, path, readTest(t, "GeoIP2-City-Test.mmdb"))
	if ok, err := db.Reload(); !ok || err != nil {
		t.Fatalf("Reload of a replaced file = %v, %v", ok, err)
	}
	if db.Info().Type != "GeoIP2-City" {
		t.Fatalf("after Reload: type %q", db.Info().Type)
	}
	db.Close()
	db.Close() // idempotent
	if r, err := db.Lookup(netip.MustParseAddr("81.2.69.160")); err != nil || !r.Found() {
		t.Errorf("Lookup after Close = %+v, %v; want the last version", r, err)
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"GeoLite2-ASN.mmdb", "GeoLite2-City.mmdb", "GeoLite2-Country.mmdb", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	want := []string{filepath.Join(dir, "GeoLite2-City.mmdb"), filepath.Join(dir, "GeoLite2-Country.mmdb"), filepath.Join(dir, "GeoLite2-ASN.mmdb")}
	got := Discover(env(map[string]string{EnvVar: dir + ":/nonexistent/x.mmdb"}))
	if len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != "/nonexistent/x.mmdb" {
		t.Errorf("Discover($%s) = %q", EnvVar, got)
	}
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, "sonde"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "sonde", "x.mmdb"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got = Discover(env(map[string]string{"XDG_DATA_HOME": data}))
	if len(got) == 0 || got[len(got)-1] != filepath.Join(data, "sonde", "x.mmdb") {
		t.Errorf("Discover with XDG_DATA_HOME = %q", got)
	}
	dirs := SearchDirs(env(map[string]string{"HOME": "/home/u"}))
	if dirs[len(dirs)-1] != "/home/u/.local/share/sonde" {
		t.Errorf("SearchDirs = %q", dirs)
	}
}

func TestOpenPaths(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"GeoLite2-ASN-Test.mmdb", "GeoIP2-City-Test.mmdb"} {
		if err := os.WriteFile(filepath.Join(dir, n), readTest(t, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dbs, err := OpenPaths([]string{dir, EmbeddedPath}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, db := range dbs {
		names = append(names, db.Info().Name)
	}
	if want := []string{"GeoIP2-City-Test", "GeoLite2-ASN-Test", EmbeddedName}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("OpenPaths opened %q, want %q", names, want)
	}
	if _, err := OpenPaths([]string{testData}, nil); !errors.Is(err, ErrInvalidDatabase) {
		t.Errorf("OpenPaths(a directory with broken databases) = %v, want ErrInvalidDatabase", err)
	}
	if _, err := OpenPaths([]string{t.TempDir()}, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenPaths(an empty directory) = %v, want ErrNotExist", err)
	}
}

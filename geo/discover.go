package geo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// EnvVar is the environment variable that names the databases to use
// instead of the discovered ones: a list of files or directories separated
// by colons, as PATH is. In a directory, every *.mmdb file counts.
const EnvVar = "SONDE_GEOIP"

// SearchDirs returns the directories Discover looks in, in order: the
// distributions' /usr/share/GeoIP and geoipupdate's /var/lib/GeoIP, then
// $XDG_DATA_HOME/sonde (by default ~/.local/share/sonde), given getenv to
// read the environment (os.Getenv when nil).
func SearchDirs(getenv func(string) string) []string {
	if getenv == nil {
		getenv = os.Getenv
	}
	dirs := []string{"/usr/share/GeoIP", "/var/lib/GeoIP"}
	data := getenv("XDG_DATA_HOME")
	if data == "" {
		if home := getenv("HOME"); home != "" {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		dirs = append(dirs, filepath.Join(data, "sonde"))
	}
	return dirs
}

// Discover returns the mmdb files to use when none are named: those that
// EnvVar lists if it is set, else the *.mmdb files of SearchDirs. Within a
// directory, City databases come first, then Country, then ASN and any
// others (so that an Enricher prefers the most precise answer), each group
// sorted by name. getenv reads the environment (os.Getenv when nil).
// Directories that do not exist are skipped; a file EnvVar names is
// returned even if missing, so that opening it reports the error.
func Discover(getenv func(string) string) []string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv(EnvVar); v != "" {
		var out []string
		for _, p := range filepath.SplitList(v) {
			if p == "" {
				continue
			}
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				out = append(out, MMDBFiles(p)...)
				continue
			}
			out = append(out, p)
		}
		return out
	}
	var out []string
	for _, d := range SearchDirs(getenv) {
		out = append(out, MMDBFiles(d)...)
	}
	return out
}

// MMDBFiles returns the *.mmdb files of dir, most precise kind first (see
// Discover); none if dir cannot be read.
func MMDBFiles(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".mmdb") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	rank := func(p string) int {
		b := strings.ToLower(filepath.Base(p))
		switch {
		case strings.Contains(b, "city"):
			return 0
		case strings.Contains(b, "country"):
			return 1
		}
		return 2
	}
	slices.SortStableFunc(files, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return files
}

// EmbeddedPath is the name OpenPaths and OpenDefault take for the embedded
// database.
const EmbeddedPath = "embedded"

// OpenPaths opens the databases at paths, in order: files, directories (all
// their *.mmdb files, see MMDBFiles) and EmbeddedPath. cfg applies to every
// file (its Name is ignored). On error, the databases already opened are
// closed.
func OpenPaths(paths []string, cfg *Config) ([]*DB, error) {
	var c Config
	if cfg != nil {
		c = *cfg
		c.Name = ""
	}
	var dbs []*DB
	fail := func(err error) ([]*DB, error) {
		for _, d := range dbs {
			d.Close()
		}
		return nil, err
	}
	for _, p := range paths {
		if p == EmbeddedPath {
			db, err := Embedded()
			if err != nil {
				return fail(err)
			}
			dbs = append(dbs, db)
			continue
		}
		files := []string{p}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			if files = MMDBFiles(p); len(files) == 0 {
				return fail(fmt.Errorf("geo: no *.mmdb file in %s: %w", p, os.ErrNotExist))
			}
		}
		for _, f := range files {
			db, err := Open(f, &c)
			if err != nil {
				return fail(err)
			}
			dbs = append(dbs, db)
		}
	}
	return dbs, nil
}

// OpenDefault opens the databases Discover finds (with os.Getenv), then the
// embedded one: what "sonde geo" uses without --db, and what other tools
// pass to NewEnricher.
func OpenDefault(cfg *Config) ([]*DB, error) {
	return OpenPaths(append(Discover(nil), EmbeddedPath), cfg)
}

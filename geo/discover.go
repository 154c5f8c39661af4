package geo

import (
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

//go:build !unix

package geo

import (
	"errors"
	"io/fs"
	"os"
)

func fileID(fs.FileInfo) (dev, ino uint64) { return 0, 0 }

func mapFile(*os.File, int64) ([]byte, func(), error) {
	return nil, nil, errors.ErrUnsupported
}

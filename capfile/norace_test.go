//go:build !race

package capfile_test

const cutStride = 1

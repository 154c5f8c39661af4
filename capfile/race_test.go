//go:build race

package capfile_test

// cutStride is the step between the truncation points the tests try: every
// byte normally, fewer under the race detector, which makes each try slow.
const cutStride = 5

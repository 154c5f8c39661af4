// Package labtest builds sonde labs for tests: a lab per test, torn down
// when the test ends, and helpers to run code and commands inside its nodes.
//
//	l := labtest.New(t, "pair", lab.Options{})
//	l.Do("client", func() { … }) // sockets opened here live in the client
//	out := l.Sonde("client", "ping", "-c", "1", l.Addr("target").String())
//
// # Privileges
//
// Building a lab needs root. Without it a test skips with a hint; when
// the environment sets SONDE_REQUIRE_PRIVILEGED=1 (as CI does) it fails
// instead, so no privileged test is skipped silently.
package labtest
